import Foundation

/// A results table for the report: named columns, rows of cells, and per column an optional rule for
/// its best value (highest accuracy, lowest loss), which is highlighted. Renders as an HTML table
/// (numbers right-aligned in tabular figures) or as a Markdown table (best values in bold).
public struct ReportTable: Sendable, Equatable {
    /// Which value of a column is best.
    public enum Best: Sendable, Equatable { case none, highest, lowest }

    public struct Column: Sendable, Equatable {
        public var title: String
        public var best: Best
        public init(_ title: String, best: Best = .none) {
            self.title = title
            self.best = best
        }
    }

    public enum Cell: Sendable, Equatable, ExpressibleByStringLiteral {
        case text(String)
        case number(Double, decimals: Int)
        /// Mean +- standard deviation (over seeds); compared by the mean.
        case meanStd(mean: Double, std: Double, decimals: Int)
        case empty

        public init(stringLiteral value: String) { self = .text(value) }

        /// The value compared for "best" (nil for text, empty and non-finite cells).
        public var value: Double? {
            switch self {
            case .number(let v, _): return v.isFinite ? v : nil
            case .meanStd(let mean, _, _): return mean.isFinite ? mean : nil
            case .text, .empty: return nil
            }
        }

        public var isNumeric: Bool {
            switch self {
            case .number, .meanStd: return true
            case .text, .empty: return false
            }
        }

        /// Display text: numbers with fixed decimals, a true minus sign, "±" between mean and std, "–" for no value.
        public var formatted: String {
            func fixed(_ v: Double, _ decimals: Int) -> String {
                guard v.isFinite else { return v.isNaN ? "n/a" : (v > 0 ? "\u{221E}" : "\u{2212}\u{221E}") }
                let text = String(format: "%.\(max(decimals, 0))f", v)
                return text.hasPrefix("-") ? "\u{2212}" + text.dropFirst() : text
            }
            switch self {
            case .text(let s): return s
            case .number(let v, let d): return fixed(v, d)
            case .meanStd(let m, let s, let d): return fixed(m, d) + " \u{00B1} " + fixed(s, d)
            case .empty: return "\u{2013}"  // an en dash, as table.md writes a missing value
            }
        }
    }

    public var caption: String
    public var columns: [Column]
    public var rows: [[Cell]]
    /// A note under the table (e.g. what the numbers are, how many seeds).
    public var note: String

    public init(caption: String, columns: [Column], rows: [[Cell]], note: String = "") {
        for (index, row) in rows.enumerated() {
            precondition(row.count == columns.count,
                         "ReportTable '\(caption)': row \(index) has \(row.count) cells for \(columns.count) columns")
        }
        self.caption = caption
        self.columns = columns
        self.rows = rows
        self.note = note
    }

    /// Rows holding the best value of `column` (ties all count; empty when the column has no rule).
    public func bestRows(column: Int) -> Set<Int> {
        let rule = columns[column].best
        guard rule != .none else { return [] }
        let values = rows.enumerated().compactMap { index, row in row[column].value.map { (index, $0) } }
        guard let best = rule == .highest ? values.map({ $0.1 }).max() : values.map({ $0.1 }).min() else { return [] }
        return Set(values.filter { $0.1 == best }.map { $0.0 })
    }

    /// A column is aligned right when all its non-empty cells are numbers.
    private func isNumericColumn(_ column: Int) -> Bool {
        let cells = rows.map { $0[column] }.filter { $0 != .empty }
        return !cells.isEmpty && cells.allSatisfy { $0.isNumeric }
    }

    /// `<table>` with a `<caption>`; best cells carry class "best" and `<strong>`.
    public func html(number: Int? = nil) -> String {
        let best = columns.indices.map { bestRows(column: $0) }
        let numeric = columns.indices.map { isNumericColumn($0) }
        var out = "<div class=\"table-wrap\"><table>\n"
        let label = number.map { "Table \($0). " } ?? ""
        if !caption.isEmpty || number != nil {
            out += "<caption><span class=\"label\">\(HTMLText.escaped(label))</span>\(HTMLText.escaped(caption))</caption>\n"
        }
        out += "<thead><tr>"
        for (index, column) in columns.enumerated() {
            let marker = column.best == .none ? "" : (column.best == .highest ? " \u{2191}" : " \u{2193}")
            out += "<th\(numeric[index] ? " class=\"num\"" : "")>\(HTMLText.escaped(column.title + marker))</th>"
        }
        out += "</tr></thead>\n<tbody>\n"
        for (r, row) in rows.enumerated() {
            out += "<tr>"
            for (c, cell) in row.enumerated() {
                let classes = (numeric[c] ? ["num"] : []) + (best[c].contains(r) ? ["best"] : [])
                let attribute = classes.isEmpty ? "" : " class=\"\(classes.joined(separator: " "))\""
                let text = HTMLText.escaped(cell.formatted)
                out += "<td\(attribute)>\(best[c].contains(r) ? "<strong>\(text)</strong>" : text)</td>"
            }
            out += "</tr>\n"
        }
        out += "</tbody></table>"
        if !note.isEmpty { out += "\n<p class=\"note\">\(HTMLText.escaped(note))</p>" }
        return out + "</div>"
    }

    /// A GitHub-flavoured Markdown table (best values in bold, numeric columns right-aligned).
    public func markdown() -> String {
        func cellText(_ s: String) -> String {
            s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
        }
        let best = columns.indices.map { bestRows(column: $0) }
        var lines: [String] = []
        if !caption.isEmpty { lines.append("**\(cellText(caption))**\n") }
        lines.append("| " + columns.map { cellText($0.title) }.joined(separator: " | ") + " |")
        lines.append("|" + columns.indices.map { isNumericColumn($0) ? "---:" : "---" }.joined(separator: "|") + "|")
        for (r, row) in rows.enumerated() {
            let cells = row.enumerated().map { c, cell in
                best[c].contains(r) ? "**\(cellText(cell.formatted))**" : cellText(cell.formatted)
            }
            lines.append("| " + cells.joined(separator: " | ") + " |")
        }
        if !note.isEmpty { lines.append("\n" + note) }
        return lines.joined(separator: "\n") + "\n"
    }
}
