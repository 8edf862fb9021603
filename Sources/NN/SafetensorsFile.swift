import Tensor

/// A safetensors file in memory: named tensors in order, plus string metadata.
///
/// Layout (https://github.com/huggingface/safetensors, "Format"):
///
///     [8 bytes]  N, the header length, unsigned 64-bit little-endian
///     [N bytes]  JSON header, UTF-8, padded with spaces to a multiple of 8 bytes:
///                {"__metadata__": {"key": "value", ...},
///                 "name": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...}
///     [rest]     the byte buffer; tensor `name` is bytes begin..<end of it, row-major, little-endian
///
/// The byte ranges are contiguous and cover the buffer exactly. `encode()` writes the tensors in
/// the order they were added; `decode` returns them in the order of their offsets (the JSON object
/// itself is unordered), so a file written here decodes in the order it was written.
/// PyTorch reads these files with `safetensors.torch.load_file`.
public struct SafetensorsFile: Sendable, Equatable {
    /// Tensor names in order.
    public private(set) var names: [String] = []
    private var storage: [String: StoredTensor] = [:]
    /// Free-form string metadata (`__metadata__`): see docs/checkpoint-format.md for the keys used.
    public var metadata: [String: String] = [:]
    /// Where the file came from (its path, or `fileName` given to `decode`), named in errors.
    /// Not part of equality.
    public var source: String = "<in memory>"

    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// A file holding F32 tensors under the given names, in order (e.g. a model's `namedTensors()`).
    public init(namedTensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) {
        self.metadata = metadata
        for (name, tensor) in namedTensors { self[name] = StoredTensor(tensor) }
    }

    /// The tensors, in order.
    public var tensors: [(name: String, tensor: StoredTensor)] {
        names.compactMap { name in storage[name].map { (name, $0) } }
    }

    public var count: Int { names.count }

    /// The tensor stored under `name`. Setting a new name appends it; setting an existing one
    /// replaces it in place; setting `nil` removes it.
    public subscript(name: String) -> StoredTensor? {
        get { storage[name] }
        set {
            precondition(name != SafetensorsFile.metadataKey, "SafetensorsFile: \"\(name)\" is reserved for metadata")
            if let newValue {
                if storage.updateValue(newValue, forKey: name) == nil { names.append(name) }
            } else if storage.removeValue(forKey: name) != nil {
                names.removeAll { $0 == name }
            }
        }
    }

    /// Equal when names (in order), tensors and metadata are equal.
    public static func == (lhs: SafetensorsFile, rhs: SafetensorsFile) -> Bool {
        lhs.names == rhs.names && lhs.storage == rhs.storage && lhs.metadata == rhs.metadata
    }

    /// The reserved header key holding the metadata.
    public static let metadataKey = "__metadata__"
    /// Headers longer than this are rejected as corrupt (the format's own readers use the same 100 MB).
    public static let headerLengthLimit = 100_000_000

    // MARK: - Encoding

    /// The file's bytes: header length, space-padded JSON header, data buffer.
    public func encode() -> [UInt8] {
        var entries: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
        var offset = 0
        for (name, tensor) in tensors {
            entries.append((name, tensor.dtype.rawValue, tensor.shape, offset, offset + tensor.bytes.count))
            offset += tensor.bytes.count
        }
        var header = Array(SafetensorsHeader.json(entries: entries, metadata: metadata).utf8)
        while header.count % 8 != 0 { header.append(UInt8(ascii: " ")) }

        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count + offset)
        let length = UInt64(header.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
        out.append(contentsOf: header)
        for (_, tensor) in tensors { out.append(contentsOf: tensor.bytes) }
        return out
    }

    // MARK: - Decoding

    /// Parses a file's bytes, checking every length and offset. `fileName` is only used in errors.
    public static func decode(_ bytes: [UInt8], fileName: String) throws(CheckpointError) -> SafetensorsFile {
        guard bytes.count >= 8 else {
            throw .truncated(file: fileName, detail: "\(bytes.count) bytes, fewer than the 8-byte header length")
        }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(headerLengthLimit) else {
            throw .headerTooLarge(file: fileName, length: length, limit: headerLengthLimit)
        }
        let headerEnd = 8 + Int(length)
        guard headerEnd <= bytes.count else {
            throw .truncated(file: fileName, detail: "header of \(length) bytes announced, only \(bytes.count - 8) bytes follow")
        }
        let header = try SafetensorsHeader.parse(bytes[8..<headerEnd], fileName: fileName)
        let bufferLength = bytes.count - headerEnd

        // The byte ranges, in file order, must tile 0..<bufferLength exactly.
        let ordered = header.entries.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var expectedBegin = 0
        for entry in ordered {
            if entry.begin != expectedBegin {
                let what = entry.begin < expectedBegin ? "overlaps the previous tensor" : "leaves a gap after the previous tensor"
                throw .badOffsets(file: fileName, detail: "tensor \"\(entry.name)\" at bytes \(entry.begin)..<\(entry.end) \(what), which ends at \(expectedBegin)")
            }
            expectedBegin = entry.end
        }
        if expectedBegin > bufferLength {
            throw .truncated(file: fileName, detail: "tensors need \(expectedBegin) bytes of data, only \(bufferLength) present")
        }
        if expectedBegin < bufferLength {
            throw .badOffsets(file: fileName, detail: "tensors cover \(expectedBegin) bytes but the data buffer has \(bufferLength): \(bufferLength - expectedBegin) trailing bytes")
        }

        var file = SafetensorsFile(metadata: header.metadata)
        file.source = fileName
        for entry in ordered {
            let data = Array(bytes[(headerEnd + entry.begin)..<(headerEnd + entry.end)])
            file[entry.name] = StoredTensor(dtype: entry.dtype, shape: entry.shape, bytes: data)
        }
        return file
    }
}
