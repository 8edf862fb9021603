import Foundation

/// The JSON header of a safetensors file: writing it by hand (deterministic key order:
/// `__metadata__` first, then the tensors in buffer order) and parsing it with `JSONSerialization`
/// with every field checked.
enum SafetensorsHeader {
    struct Entry {
        var name: String
        var dtype: SafetensorsDType
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    struct Parsed {
        var entries: [Entry]
        var metadata: [String: String]
    }

    // MARK: - Writing

    /// `{"__metadata__":{...},"name":{"dtype":"F32","shape":[..],"data_offsets":[b,e]},...}`;
    /// metadata keys sorted so the same file always has the same bytes. No metadata, no `__metadata__`.
    static func json(entries: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)],
                     metadata: [String: String]) -> String {
        var parts: [String] = []
        if !metadata.isEmpty {
            let items = metadata.keys.sorted().map { "\(quoted($0)):\(quoted(metadata[$0] ?? ""))" }
            parts.append("\(quoted(SafetensorsFile.metadataKey)):{\(items.joined(separator: ","))}")
        }
        for e in entries {
            let shape = e.shape.map(String.init).joined(separator: ",")
            parts.append("\(quoted(e.name)):{\"dtype\":\(quoted(e.dtype)),\"shape\":[\(shape)],\"data_offsets\":[\(e.begin),\(e.end)]}")
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// A JSON string literal (RFC 8259 section 7): quote, backslash and control characters escaped.
    static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    // MARK: - Parsing

    /// Parses and checks the header bytes (trailing space padding allowed). Offsets are only
    /// checked one entry at a time here; `SafetensorsFile.decode` checks them against each other.
    static func parse(_ bytes: ArraySlice<UInt8>, fileName: String) throws(CheckpointError) -> Parsed {
        func corrupt(_ detail: String) -> CheckpointError { .corruptHeader(file: fileName, detail: detail) }

        guard bytes.first == UInt8(ascii: "{") else {
            throw corrupt("the JSON header does not start with '{'")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw corrupt("the JSON header does not parse: \(error.localizedDescription)")
        }
        guard let dictionary = object as? [String: Any] else {
            throw corrupt("the JSON header is not an object")
        }

        var metadata: [String: String] = [:]
        if let raw = dictionary[SafetensorsFile.metadataKey] {
            guard let values = raw as? [String: Any] else {
                throw corrupt("\"\(SafetensorsFile.metadataKey)\" is not an object")
            }
            for (key, value) in values {
                guard let string = value as? String else {
                    throw corrupt("metadata \"\(key)\" is not a string")
                }
                metadata[key] = string
            }
        }

        var entries: [Entry] = []
        for (name, raw) in dictionary where name != SafetensorsFile.metadataKey {
            guard let fields = raw as? [String: Any] else {
                throw corrupt("tensor \"\(name)\" is not an object")
            }
            guard let dtypeName = fields["dtype"] as? String else {
                throw corrupt("tensor \"\(name)\" has no string \"dtype\"")
            }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw .unknownDType(file: fileName, tensor: name, dtype: dtypeName)
            }
            guard let shape = nonNegativeIntegers(fields["shape"]) else {
                throw corrupt("tensor \"\(name)\" has no \"shape\" list of non-negative integers")
            }
            guard let offsets = nonNegativeIntegers(fields["data_offsets"]), offsets.count == 2 else {
                throw corrupt("tensor \"\(name)\" has no \"data_offsets\" pair of non-negative integers")
            }
            guard offsets[0] <= offsets[1] else {
                throw .badOffsets(file: fileName, detail: "tensor \"\(name)\" ends (\(offsets[1])) before it begins (\(offsets[0]))")
            }
            let byteCount = offsets[1] - offsets[0]
            var expected = dtype.byteSize
            var overflow = false
            for dimension in shape where !overflow {
                (expected, overflow) = expected.multipliedReportingOverflow(by: dimension)
            }
            guard !overflow, expected == byteCount else {
                throw .shapeMismatch(file: fileName, tensor: name, shape: shape, dtype: dtype.rawValue, byteCount: byteCount)
            }
            entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }
        return Parsed(entries: entries, metadata: metadata)
    }

    /// A JSON array of non-negative integers (no fractions, no booleans), or nil.
    private static func nonNegativeIntegers(_ value: Any?) -> [Int]? {
        guard let list = value as? [Any] else { return nil }
        var out: [Int] = []
        for element in list {
            // JSONSerialization gives booleans as NSNumber of objCType "c"; `as? Int` is exact.
            guard let number = element as? NSNumber, String(cString: number.objCType) != "c",
                  let integer = element as? Int, integer >= 0 else { return nil }
            out.append(integer)
        }
        return out
    }
}
