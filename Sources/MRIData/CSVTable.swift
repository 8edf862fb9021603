import Foundation

/// A CSV file with a header row (RFC 4180: fields may be quoted, `""` is a quote inside quotes,
/// quoted fields may hold commas and line breaks; LF or CRLF line ends; a UTF-8 BOM is ignored).
/// Only commas separate fields: a header split by `;`, tabs or `|` is refused, naming the separator.
public struct CSVTable: Sendable {
    /// The file the table came from (for error messages).
    public var path: String
    /// Column names from the header row, trimmed.
    public var header: [String]
    /// Data rows; each has exactly `header.count` fields.
    public var rows: [[String]]
    /// The 1-based line number where each row starts.
    public var lineNumbers: [Int]

    /// Reads and parses the file at `path`.
    public init(contentsOf path: String) throws {
        try MRIDataError.requireFile(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MRIDataError.missingPath(path)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw MRIDataError.unreadableFile(path: path, reason: "not UTF-8 text")
        }
        try self.init(text: text, path: path)
    }

    /// Parses CSV text; `path` only names the source in errors. Blank lines are skipped.
    public init(text: String, path: String) throws {
        self.path = path
        var records: [[String]] = []
        var starts: [Int] = []
        var record: [String] = []
        var field = ""
        var inQuotes = false
        var fieldWasQuoted = false
        var line = 1
        var recordStart = 1
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        func endRecord() {
            record.append(field)
            if !(record.count == 1 && record[0].isEmpty && !fieldWasQuoted) {
                records.append(record)
                starts.append(recordStart)
            }
            record = []
            field = ""
            fieldWasQuoted = false
        }
        var i = 0
        while i < scalars.count {
            let c = scalars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < scalars.count && scalars[i + 1] == "\"" {
                        field.unicodeScalars.append("\"")
                        i += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" {
                guard field.isEmpty else {
                    throw MRIDataError.malformedCSV(path: path, line: line, reason: "a quote inside an unquoted field")
                }
                inQuotes = true
                fieldWasQuoted = true
            } else if c == "," {
                record.append(field)
                field = ""
                fieldWasQuoted = false
            } else if c == "\r" || c == "\n" {
                if c == "\r" && i + 1 < scalars.count && scalars[i + 1] == "\n" { i += 1 }
                endRecord()
                line += 1
                recordStart = line
            } else {
                field.unicodeScalars.append(c)
            }
            i += 1
        }
        if inQuotes {
            throw MRIDataError.malformedCSV(path: path, line: recordStart, reason: "a quoted field is never closed (truncated file?)")
        }
        if !field.isEmpty || !record.isEmpty || fieldWasQuoted { endRecord() }
        guard let first = records.first else {
            throw MRIDataError.malformedCSV(path: path, line: 1, reason: "the file is empty; it needs a header row")
        }
        // One header field holding `;`, a tab or `|`: the file uses another separator (Excel's "CSV" in
        // locales with a decimal comma uses `;`).
        if first.count == 1, let separator = first[0].unicodeScalars.first(where: { [";", "\t", "|"].contains($0) }) {
            throw MRIDataError.wrongSeparator(path: path, found: Character(separator))
        }
        header = first.map { $0.trimmingCharacters(in: .whitespaces) }
        rows = Array(records.dropFirst())
        lineNumbers = Array(starts.dropFirst())
        for (row, lineNumber) in zip(rows, lineNumbers) where row.count != header.count {
            throw MRIDataError.malformedCSV(
                path: path, line: lineNumber,
                reason: "\(row.count) fields where the header has \(header.count) (truncated file?)")
        }
    }

    /// The index of column `name` (case-insensitive), or a typed error when `required` and absent.
    public func column(_ name: String) -> Int? {
        header.firstIndex { $0.lowercased() == name.lowercased() }
    }

    /// The index of a column that must exist.
    public func requiredColumn(_ name: String) throws -> Int {
        guard let index = column(name) else {
            throw MRIDataError.malformedCSV(path: path, line: 1,
                                            reason: "no column `\(name)` (header: \(header.joined(separator: ",")))")
        }
        return index
    }

    /// Field `column` of row `row` as an integer, nil when the column is absent or the cell empty.
    public func optionalInteger(row: Int, column: Int?) throws -> Int? {
        guard let column, !rows[row][column].trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return try integer(row: row, column: column)
    }

    /// Field `column` of row `row` as an integer (accepts "3" and "3.0"), or a typed error.
    public func integer(row: Int, column: Int) throws -> Int {
        let text = rows[row][column].trimmingCharacters(in: .whitespaces)
        if let value = Int(text) { return value }
        if let value = Double(text), value.rounded() == value, abs(value) < 1e15 { return Int(value) }
        throw MRIDataError.malformedCSV(path: path, line: lineNumbers[row],
                                        reason: "`\(header[column])` = \"\(text)\" is not an integer")
    }
}
