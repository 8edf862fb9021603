import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading a safetensors file from disk, and writing one atomically.
extension SafetensorsFile {
    /// Reads and decodes the file at `path`.
    public static func read(from path: String) throws(CheckpointError) -> SafetensorsFile {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .fileNotFound(file: path)
        }
        guard !isDirectory.boolValue else { throw .isDirectory(file: path) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .readFailed(file: path, reason: error.localizedDescription)
        }
        return try decode([UInt8](data), fileName: path)
    }

    /// Writes the file to `path` atomically: the bytes go to a temporary file in the same directory,
    /// which is flushed to disk (`fsync`) and then renamed over `path`. A reader sees either the old
    /// file or the complete new one, never a partial file; on failure the temporary file is removed
    /// and any previous file at `path` is left as it was.
    public func write(to path: String) throws(CheckpointError) {
        try writeAtomically(encode(), to: path)
    }
}

/// A step of `writeAtomically` that tests can make fail, to check what a failure leaves behind.
enum AtomicWriteStep: Sendable {
    /// After half the bytes are written to the temporary file.
    case write
    /// Just before the temporary file is renamed over the target.
    case rename
}

/// `bytes` to `path` through a temporary sibling file, `fsync`, `rename`, then `fsync` of the directory.
/// `simulatedFailure` (tests only) makes that step fail as if the system call had.
func writeAtomically(_ bytes: [UInt8], to path: String,
                     simulatedFailure: AtomicWriteStep? = nil) throws(CheckpointError) {
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
        throw .isDirectory(file: path)
    }
    let temporary = directory + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard descriptor >= 0 else {
        throw .writeFailed(file: path, reason: "cannot create \(temporary): \(systemError())")
    }
    func fail(_ step: String) -> CheckpointError {
        let reason = "\(step): \(systemError())"
        close(descriptor)
        unlink(temporary)
        return .writeFailed(file: path, reason: reason)
    }

    // A simulated write failure stops after half the bytes, as a full disk would.
    let limit = simulatedFailure == .write ? bytes.count / 2 : bytes.count
    var written = 0
    while written < limit {
        let result = bytes.withUnsafeBytes { raw in
            systemWrite(descriptor, raw.baseAddress! + written, limit - written)
        }
        if result < 0 {
            if errno == EINTR { continue }
            throw fail("write to \(temporary)")
        }
        written += result
    }
    if simulatedFailure == .write {
        errno = ENOSPC
        throw fail("write to \(temporary) (simulated)")
    }
    guard fsync(descriptor) == 0 else { throw fail("fsync of \(temporary)") }
    guard close(descriptor) == 0 else {
        let reason = "close of \(temporary): \(systemError())"
        unlink(temporary)
        throw .writeFailed(file: path, reason: reason)
    }
    if simulatedFailure == .rename { errno = EIO }
    guard simulatedFailure != .rename, rename(temporary, path) == 0 else {
        let reason = "rename \(temporary) -> \(path): \(systemError())"
        unlink(temporary)
        throw .writeFailed(file: path, reason: reason)
    }
    // Make the rename itself durable; failing here cannot leave a partial file, so it is not an error.
    let directoryDescriptor = open(directory, O_RDONLY)
    if directoryDescriptor >= 0 {
        _ = fsync(directoryDescriptor)
        close(directoryDescriptor)
    }
}

private func systemError() -> String {
    String(cString: strerror(errno))
}

private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(descriptor, buffer, count)
    #else
    return Darwin.write(descriptor, buffer, count)
    #endif
}
