import Foundation

/// Text escaping and embedding for the self-contained HTML report.
public enum HTMLText {
    /// Escapes the five characters with meaning in HTML text and attribute values (& < > " '), so any
    /// string (file names, class names, JSON) is shown literally and can never open a tag or end an attribute.
    public static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.unicodeScalars.append(character)
            }
        }
        return result
    }

    /// A `data:` URI with the bytes base64-encoded (RFC 2397), e.g. for `<img src=...>`.
    public static func dataURI(_ data: Data, mediaType: String = "image/png") -> String {
        "data:\(mediaType);base64," + data.base64EncodedString()
    }

    /// The bytes of a base64 `data:` URI, or nil when it is not one.
    public static func bytes(ofDataURI uri: String) -> Data? {
        guard uri.hasPrefix("data:"), let comma = uri.firstIndex(of: ","),
              uri[..<comma].hasSuffix(";base64") else { return nil }
        return Data(base64Encoded: String(uri[uri.index(after: comma)...]))
    }

    /// Plain text split into paragraphs at blank lines, each escaped and wrapped in `<p>`.
    static func paragraphs(_ text: String) -> String {
        text.components(separatedBy: "\n\n")
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
            .map { "<p>\(escaped($0))</p>" }
            .joined(separator: "\n")
    }
}
