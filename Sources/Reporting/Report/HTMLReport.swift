import Foundation
import Tensor

/// One self-contained HTML page with a run's results: title, summary, dataset (with a prominent warning
/// when the images are synthetic phantoms), sections of paragraphs, tables and figures, and a provenance
/// block (configuration JSON, machine, threads, seeds, timings).
///
/// Self-contained: the CSS is inline and figures are embedded as base64 `data:image/png` URIs, so the
/// file can be mailed or archived alone and opens without network access. All text is HTML-escaped.
public struct HTMLReport: Sendable, Equatable {
    public var title: String
    /// Plain text; blank lines separate paragraphs.
    public var summary: String
    public var dataset: DatasetDescription
    public var sections: [ReportSection]
    public var provenance: Provenance

    public init(title: String, summary: String, dataset: DatasetDescription, sections: [ReportSection],
                provenance: Provenance) {
        self.title = title
        self.summary = summary
        self.dataset = dataset
        self.sections = sections
        self.provenance = provenance
    }

    /// The whole page. Tables and figures are numbered in order of appearance.
    public func html() -> String {
        var out = """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(HTMLText.escaped(title))</title>
        <style>
        \(ReportStylesheet.css)
        </style>
        </head>
        <body>
        <main>
        <header><h1>\(HTMLText.escaped(title))</h1></header>

        """
        if dataset.isSynthetic {
            out += "<div class=\"synthetic\" role=\"note\"><strong>Synthetic data.</strong> "
                + HTMLText.escaped(DatasetDescription.syntheticWarning) + "</div>\n"
        }
        if !summary.isEmpty { out += "<section class=\"summary\">\n\(HTMLText.paragraphs(summary))\n</section>\n" }
        out += dataset.html()
        var tableNumber = 0, figureNumber = 0
        for section in sections {
            out += "<section>\n<h2>\(HTMLText.escaped(section.title))</h2>\n"
            for block in section.blocks {
                switch block {
                case .paragraph(let text):
                    out += HTMLText.paragraphs(text) + "\n"
                case .table(let table):
                    tableNumber += 1
                    out += table.html(number: tableNumber) + "\n"
                case .figure(let figure):
                    figureNumber += 1
                    out += figure.html(number: figureNumber) + "\n"
                }
            }
            out += "</section>\n"
        }
        out += provenance.html()
        out += "</main>\n</body>\n</html>\n"
        return out
    }

    /// Writes the page atomically (temporary file in the same directory, then rename).
    public func write(to url: URL) throws {
        try AtomicFile.write(html(), to: url.path)
    }
}

/// What the images are. `isSynthetic` puts a warning at the top of the report and in this box.
public struct DatasetDescription: Sendable, Equatable {
    static let syntheticWarning = "These results come from generated phantom images, not from patient MRI scans. "
        + "They check that the pipeline runs end to end; they say nothing about accuracy on real brain MRI."

    public var name: String
    /// Plain text; blank lines separate paragraphs.
    public var description: String
    public var isSynthetic: Bool
    /// Label-value facts shown as a list (image size, counts per class, split sizes, noise settings).
    public var facts: [ReportFact]

    public init(name: String, description: String, isSynthetic: Bool, facts: [ReportFact] = []) {
        self.name = name
        self.description = description
        self.isSynthetic = isSynthetic
        self.facts = facts
    }

    func html() -> String {
        var out = "<section class=\"dataset\">\n<h2>Data: \(HTMLText.escaped(name))"
        if isSynthetic { out += " <span class=\"badge\">synthetic phantoms</span>" }
        out += "</h2>\n" + HTMLText.paragraphs(description) + "\n"
        if !facts.isEmpty { out += ReportFact.html(facts) }
        return out + "</section>\n"
    }
}

/// A label and its value, shown in a definition list.
public struct ReportFact: Sendable, Equatable {
    public var label: String
    public var value: String
    public init(_ label: String, _ value: String) {
        self.label = label
        self.value = value
    }

    static func html(_ facts: [ReportFact]) -> String {
        "<dl class=\"facts\">\n" + facts.map {
            "<dt>\(HTMLText.escaped($0.label))</dt><dd>\(HTMLText.escaped($0.value))</dd>"
        }.joined(separator: "\n") + "\n</dl>\n"
    }
}

/// A titled part of the report.
public struct ReportSection: Sendable, Equatable {
    public var title: String
    public var blocks: [ReportBlock]
    public init(title: String, blocks: [ReportBlock]) {
        self.title = title
        self.blocks = blocks
    }
}

public enum ReportBlock: Sendable, Equatable {
    /// Plain text; blank lines separate paragraphs.
    case paragraph(String)
    case table(ReportTable)
    case figure(ReportFigure)
}

/// A PNG figure with its caption, embedded in the page as a data URI.
public struct ReportFigure: Sendable, Equatable {
    public var caption: String
    public var png: Data
    /// Text for screen readers and when the image cannot be shown; defaults to the caption.
    public var altText: String

    public init(caption: String, png: Data, altText: String? = nil) {
        self.caption = caption
        self.png = png
        self.altText = altText ?? caption
    }

    /// Renders `figure` now and keeps its PNG.
    public init(caption: String, rendering figure: some RenderableFigure, altText: String? = nil) throws {
        self.init(caption: caption, png: try figure.renderPNG(), altText: altText)
    }

    func html(number: Int) -> String {
        """
        <figure>
        <img src="\(HTMLText.dataURI(png))" alt="\(HTMLText.escaped(altText))">
        <figcaption><span class="label">Figure \(number).</span> \(HTMLText.escaped(caption))</figcaption>
        </figure>
        """
    }
}

/// How the results were produced, so that a reader can reproduce them.
public struct Provenance: Sendable, Equatable {
    /// The run's configuration as JSON (see `Provenance.json(_:)`).
    public var configurationJSON: String
    /// Machine description, e.g. "Debian 12, AMD EPYC (2 cores), 24 GiB".
    public var machine: String
    public var threads: Int
    public var seeds: [UInt64]
    public var timings: [Timing]
    /// Anything else worth recording: command line, commit, start time, tool version.
    public var extra: [ReportFact]

    public struct Timing: Sendable, Equatable {
        public var label: String
        public var seconds: Double
        public init(_ label: String, seconds: Double) {
            self.label = label
            self.seconds = seconds
        }
    }

    public init(configurationJSON: String, machine: String, threads: Int, seeds: [UInt64],
                timings: [Timing] = [], extra: [ReportFact] = []) {
        self.configurationJSON = configurationJSON
        self.machine = machine
        self.threads = threads
        self.seeds = seeds
        self.timings = timings
        self.extra = extra
    }

    /// Pretty-printed JSON with sorted keys (stable across runs), for `configurationJSON`.
    public static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// "0.85 s", "12.3 s", "4 min 05 s", "2 h 03 min".
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "n/a" }
        if seconds < 10 { return String(format: "%.2f s", seconds) }
        if seconds < 60 { return String(format: "%.1f s", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return String(format: "%d min %02d s", whole / 60, whole % 60) }
        return String(format: "%d h %02d min", whole / 3600, (whole % 3600) / 60)
    }

    func html() -> String {
        var facts = [ReportFact("Machine", machine), ReportFact("Threads", String(threads)),
                     ReportFact("Seeds", seeds.isEmpty ? "none" : seeds.map(String.init).joined(separator: ", "))]
        facts += extra
        var out = "<section class=\"provenance\">\n<h2>Settings and provenance</h2>\n" + ReportFact.html(facts)
        if !timings.isEmpty {
            let table = ReportTable(caption: "", columns: [.init("Step"), .init("Wall time")],
                                    rows: timings.map { [.text($0.label), .text(Provenance.duration($0.seconds))] })
            out += "<h3>Timings</h3>\n" + table.html() + "\n"
        }
        out += "<h3>Configuration</h3>\n<pre class=\"config\">\(HTMLText.escaped(configurationJSON))</pre>\n"
        return out + "</section>\n"
    }
}
