import Foundation

/// What can go wrong when reading or writing a checkpoint (a safetensors file).
///
/// Every case names the file (or `fileName` given to `SafetensorsFile.decode`) and the problem, and
/// `description` says what to do about it. These are user-facing errors about files; programmer
/// mistakes (for example building a `StoredTensor` with a byte count that does not match its shape)
/// are `precondition`s instead.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Nothing exists at the path.
    case fileNotFound(file: String)
    /// The path is a directory, not a file.
    case isDirectory(file: String)
    /// The operating system refused to read the file.
    case readFailed(file: String, reason: String)
    /// The operating system refused to write the file (the previous file, if any, is left intact).
    case writeFailed(file: String, reason: String)
    /// The file ends before the header or the data it announces.
    case truncated(file: String, detail: String)
    /// The 8-byte header length is larger than `limit`: not a safetensors file, or a corrupt one.
    case headerTooLarge(file: String, length: UInt64, limit: Int)
    /// The JSON header does not parse or does not have the safetensors layout.
    case corruptHeader(file: String, detail: String)
    /// A tensor has a dtype this reader does not know.
    case unknownDType(file: String, tensor: String, dtype: String)
    /// A tensor's shape times its element size differs from its byte range.
    case shapeMismatch(file: String, tensor: String, shape: [Int], dtype: String, byteCount: Int)
    /// The tensors' byte ranges overlap, leave gaps, or do not cover the data buffer exactly.
    case badOffsets(file: String, detail: String)
    /// A tensor the caller needs is not in the file.
    case missingTensor(file: String, tensor: String)
    /// A tensor is stored with another dtype than the caller needs.
    case wrongDType(file: String, tensor: String, expected: String, found: String)
    /// A tensor has another shape than the caller needs.
    case wrongShape(file: String, tensor: String, expected: [Int], found: [Int])
    /// A metadata entry the caller needs is missing or does not parse.
    case badMetadata(file: String, key: String, detail: String)
    /// A tensor holds values its reader cannot use (NaN where a position is stored, a count out of range).
    case badValues(file: String, tensor: String, detail: String)

    public var description: String {
        switch self {
        case let .fileNotFound(file):
            return "checkpoint \(file): no such file. Check the path (it is relative to the current directory \"\(currentDirectoryForMessages())\")."
        case let .isDirectory(file):
            return "checkpoint \(file): is a directory, not a file. Give the path of a .safetensors file inside it."
        case let .readFailed(file, reason):
            return "checkpoint \(file): cannot be read (\(reason)). Check its permissions."
        case let .writeFailed(file, reason):
            return "checkpoint \(file): cannot be written (\(reason)); any previous file at that path is unchanged. Check that the directory exists, is writable and has free space."
        case let .truncated(file, detail):
            return "checkpoint \(file): truncated (\(detail)). The file was cut short, for example by an interrupted copy: copy or save it again."
        case let .headerTooLarge(file, length, limit):
            return "checkpoint \(file): header length \(length) bytes exceeds the limit of \(limit) bytes. This is not a safetensors file, or it is corrupt: save it again."
        case let .corruptHeader(file, detail):
            return "checkpoint \(file): corrupt header (\(detail)). This is not a valid safetensors file: save it again."
        case let .unknownDType(file, tensor, dtype):
            return "checkpoint \(file): tensor \"\(tensor)\" has dtype \"\(dtype)\", which this reader does not support (supported: \(SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", "))). Convert it, e.g. with tensor.float() in PyTorch, and save again."
        case let .shapeMismatch(file, tensor, shape, dtype, byteCount):
            return "checkpoint \(file): tensor \"\(tensor)\" has shape \(shape) and dtype \(dtype) but \(byteCount) bytes of data. The file is corrupt: save it again."
        case let .badOffsets(file, detail):
            return "checkpoint \(file): inconsistent data offsets (\(detail)). The file is corrupt: save it again."
        case let .missingTensor(file, tensor):
            return "checkpoint \(file): has no tensor \"\(tensor)\". It was saved from another model or configuration: check the model configuration matches the checkpoint."
        case let .wrongDType(file, tensor, expected, found):
            return "checkpoint \(file): tensor \"\(tensor)\" is \(found), expected \(expected). Convert it to \(expected) before saving."
        case let .wrongShape(file, tensor, expected, found):
            return "checkpoint \(file): tensor \"\(tensor)\" has shape \(found), expected \(expected). It was saved from a model with another configuration: use the matching configuration."
        case let .badMetadata(file, key, detail):
            return "checkpoint \(file): metadata \"\(key)\" \(detail). Save the checkpoint again with this program, or add the metadata entry."
        case let .badValues(file, tensor, detail):
            return "checkpoint \(file): tensor \"\(tensor)\" \(detail). The file is corrupt: save it again."
        }
    }
}

private func currentDirectoryForMessages() -> String {
    FileManager.default.currentDirectoryPath
}
