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
