import Foundation
import Tensor

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

    /// The metadata of the file at `path`, reading its header only (a resume checkpoint can hold every training image).
    public static func readMetadata(from path: String) throws(CheckpointError) -> [String: String] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw exists && isDirectory.boolValue ? .isDirectory(file: path) : exists ? .readFailed(file: path, reason: "cannot be opened") : .fileNotFound(file: path)
        }
        defer { try? handle.close() }
        let prefix = [UInt8]((try? handle.read(upToCount: 8)) ?? Data())
        guard prefix.count == 8 else {
            throw .truncated(file: path, detail: "\(prefix.count) bytes, fewer than the 8-byte header length")
        }
        let length = prefix.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(headerLengthLimit) else { throw .headerTooLarge(file: path, length: length, limit: headerLengthLimit) }
        let header = [UInt8]((try? handle.read(upToCount: Int(length))) ?? Data())
        guard header.count == Int(length) else {
            throw .truncated(file: path, detail: "header of \(length) bytes announced, only \(header.count) bytes follow")
        }
        return try SafetensorsHeader.parse(header[...], fileName: path).metadata
    }

    /// Writes the file to `path` atomically: the bytes go to a temporary file in the same directory,
    /// which is flushed to disk (`fsync`) and then renamed over `path`. A reader sees either the old
    /// file or the complete new one, never a partial file; on failure the temporary file is removed
    /// and any previous file at `path` is left as it was.
    public func write(to path: String) throws(CheckpointError) {
        try writeAtomically(encode(), to: path)
    }
}

/// A step of `writeAtomically` that tests can make fail (see `AtomicFile.Step`).
typealias AtomicWriteStep = AtomicFile.Step

/// `bytes` to `path` (whose directory must exist) through `AtomicFile` (temporary sibling file, `fsync`, `rename`, `fsync` of the
/// directory), with its errors as `CheckpointError`s. `simulatedFailure` (tests only) makes that step fail.
func writeAtomically(_ bytes: [UInt8], to path: String,
                     simulatedFailure: AtomicWriteStep? = nil) throws(CheckpointError) {
    do {
        try AtomicFile.write(bytes, to: path, creatingDirectories: false, simulatedFailure: simulatedFailure)
    } catch where error.kind == .isDirectory {
        throw .isDirectory(file: path)
    } catch {
        throw .writeFailed(file: path, reason: error.reason)
    }
}
