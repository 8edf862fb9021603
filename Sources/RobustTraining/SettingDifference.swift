import Foundation

/// One setting that differs between two settings values (a stored run or plan against the one asked for now):
/// its path in their JSON form (`training.epochs`, `data.noise.type`), and both values as JSON text. Refusals to
/// resume or extend list these, so a user sees what changed and what each value was.
public struct SettingDifference: Sendable, Equatable, CustomStringConvertible {
    /// Dotted JSON path of the setting, e.g. `training.isr.switchEpoch`.
    public var path: String
    /// The stored value (JSON text; `absent` where the setting is missing).
    public var stored: String
    /// The value asked for now (JSON text; `absent` where the setting is missing).
    public var given: String

    /// `path: stored X, now Y`.
    public var description: String { "\(path): stored \(stored), now \(given)" }

    /// Every leaf setting whose value differs between `stored` and `given`, in path order. Objects are compared
    /// key by key (an enum's case, one key of its own on each side, as a whole); arrays and scalars as whole values.
    /// `prefix` starts every path (e.g. `training`).
    public static func between<Value: Encodable>(_ stored: Value, _ given: Value, prefix: String = "") -> [SettingDifference] {
        var differences: [SettingDifference] = []
        collect(jsonObject(stored), jsonObject(given), path: prefix, into: &differences)
        return differences.sorted { $0.path < $1.path }
    }

    /// The differences as indented lines, one per setting, for an error message.
    public static func lines(_ differences: [SettingDifference]) -> String {
        differences.map { "  \($0)" }.joined(separator: "\n")
    }

    /// `value` as Foundation JSON objects (dictionaries, arrays, numbers, strings), nil if it does not encode.
    private static func jsonObject<Value: Encodable>(_ value: Value) -> Any? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        guard let data = try? encoder.encode(value) else { return nil }
        return try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }

    private static func collect(_ stored: Any?, _ given: Any?, path: String, into differences: inout [SettingDifference]) {
        // Objects are compared key by key, except an enum's case (one key each, and not the same one), shown whole.
        if let a = stored as? [String: Any], let b = given as? [String: Any], !(a.count == 1 && b.count == 1 && a.keys != b.keys) {
            for key in Set(a.keys).union(b.keys) {
                collect(a[key], b[key], path: path.isEmpty ? key : "\(path).\(key)", into: &differences)
            }
            return
        }
        let old = text(stored), new = text(given)
        if old != new { differences.append(SettingDifference(path: path.isEmpty ? "(value)" : path, stored: old, given: new)) }
    }

    /// A JSON value as compact text with sorted keys; `absent` for a missing one.
    private static func text(_ value: Any?) -> String {
        guard let value, !(value is NSNull) else { return value == nil ? "absent" : "null" }
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]) else {
            return "\(value)"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
