import Foundation
import Testing
@testable import Reporting

/// Example report shaped like `robust-mri compare`'s, shared with the Chromium test.
enum ReportExamples {
    static func table1() -> ReportTable {
        let means: [[Double]] = [[87.77, 86.50], [88.38, 86.85], [88.12, 83.92], [88.79, 88.12], [89.52, 89.49]]
        let stds: [[Double]] = [[0.84, 3.38], [1.47, 1.62], [1.69, 2.52], [1.75, 2.28], [2.61, 1.45]]
        return ReportTable(
            caption: "Test accuracy (%) at the last epoch, mean \u{00B1} std over 5 seeds",
            columns: [.init("Method"), .init("Gaussian", best: .highest), .init("Rician", best: .highest),
                      .init("Train time (s)", best: .lowest)],
            rows: FigureExamples.methods.indices.map { m in
                [.text(FigureExamples.methods[m]), .meanStd(mean: means[m][0], std: stds[m][0], decimals: 2),
                 .meanStd(mean: means[m][1], std: stds[m][1], decimals: 2), .number(Double(40 + 7 * m), decimals: 1)]
            },
            note: "Best value per column highlighted.")
    }

    static func report(synthetic: Bool, title: String = "RobustMRI: method comparison") throws -> HTMLReport {
        HTMLReport(
            title: title,
            summary: "ISP reaches the highest test accuracy under both noise types.\n\nSecond paragraph.",
            dataset: DatasetDescription(name: synthetic ? "Phantom brain MRI" : "figshare brain tumour",
                                        description: "64x64 greyscale slices, three tumour classes.",
                                        isSynthetic: synthetic,
                                        facts: [ReportFact("Images", "3064"), ReportFact("Noise", "Gaussian, std 0.1")]),
            sections: [
                ReportSection(title: "Learning curves", blocks: [
                    .figure(try ReportFigure(caption: "Validation accuracy per epoch.", rendering: FigureExamples.learningCurves())),
                ]),
                ReportSection(title: "Accuracy", blocks: [
                    .paragraph("Table 1 of the paper, reproduced."),
                    .table(table1()),
                    .figure(try ReportFigure(caption: "Test accuracy.", rendering: FigureExamples.table1Bars())),
                ]),
            ],
            provenance: Provenance(configurationJSON: "{\n  \"epochs\" : 20,\n  \"note\" : \"<b>&\"\n}",
                                   machine: "Debian 12, 2 cores", threads: 2, seeds: [1, 2, 3, 4, 5],
                                   timings: [.init("Training", seconds: 754.2), .init("Influence", seconds: 3.25)],
                                   extra: [ReportFact("Command", "robust-mri compare --config a.json")]))
    }
}

@Suite struct ReportHTMLTests {
    @Test func escapingCoversTheFiveSpecialCharacters() {
        #expect(HTMLText.escaped("<a href=\"x\">'&'</a>") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;")
        #expect(HTMLText.escaped("glioma \u{00B1} 2.5 %") == "glioma \u{00B1} 2.5 %", "other text is unchanged")
        #expect(HTMLText.escaped("&amp;") == "&amp;amp;", "already-escaped text is escaped again, shown literally")
    }

    @Test func base64DataURIRoundTrip() throws {
        let bytes = Data((0..<1000).map { UInt8(($0 * 37 + 11) % 256) })
        let uri = HTMLText.dataURI(bytes)
        #expect(uri.hasPrefix("data:image/png;base64,"))
        #expect(HTMLText.bytes(ofDataURI: uri) == bytes)
        #expect(HTMLText.bytes(ofDataURI: "https://example.invalid/x.png") == nil)
        let png = try FigureExamples.confusion().renderPNG()
        let back = try #require(HTMLText.bytes(ofDataURI: HTMLText.dataURI(png)))
        #expect(try DecodedPNG(data: back).width == 640)
    }

    @Test func tableHighlightsTheBestValuePerColumn() {
        let table = ReportExamples.table1()
        #expect(table.bestRows(column: 0) == [], "text column has no rule")
        #expect(table.bestRows(column: 1) == [4] && table.bestRows(column: 2) == [4])
        #expect(table.bestRows(column: 3) == [0], "lowest time is best")
        let tie = ReportTable(caption: "", columns: [.init("a", best: .highest)], rows: [[.number(2, decimals: 0)],
                              [.number(2, decimals: 0)], [.number(1, decimals: 0)], [.empty], [.number(.nan, decimals: 0)]])
        #expect(tie.bestRows(column: 0) == [0, 1], "ties are all highlighted; empty and NaN cells never win")
        let html = table.html(number: 1)
        #expect(html.contains("<td class=\"num best\"><strong>89.52 \u{00B1} 2.61</strong></td>"))
        #expect(html.contains("<td class=\"num\">87.77 \u{00B1} 0.84</td>"))
        #expect(html.contains("<td>Naive</td>"), "text cells stay left-aligned")
        #expect(html.contains("Table 1. "))
        let markdown = table.markdown()
        #expect(markdown.contains("| **ISP** |") == false && markdown.contains("**89.52 \u{00B1} 2.61**"))
        #expect(markdown.contains("|---|---:|---:|---:|"))
        #expect(ReportTable.Cell.number(-1.5, decimals: 1).formatted == "\u{2212}1.5")
    }

    @Test func reportIsSelfContainedAndEscaped() throws {
        let hostile = "Results </title><script>alert(1)</script>"
        let html = try ReportExamples.report(synthetic: true, title: hostile).html()
        #expect(!html.contains("<script"), "user text must not open tags")
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&quot;note&quot; : &quot;&lt;b&gt;&amp;&quot;"), "configuration JSON is escaped")
        // Every image is embedded; nothing is loaded from elsewhere.
        let sources = html.components(separatedBy: "src=\"").dropFirst()
        #expect(sources.count == 2)
        #expect(sources.allSatisfy { $0.hasPrefix("data:image/png;base64,") })
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("<link"))
        #expect(html.contains("Figure 1.") && html.contains("Figure 2.") && html.contains("Table 1."))
        #expect(html.contains("12 min 34 s") && html.contains("3.25 s") && html.contains("1, 2, 3, 4, 5"))
    }

    @Test func syntheticDataIsFlaggedOnlyWhenSynthetic() throws {
        let synthetic = try ReportExamples.report(synthetic: true).html()
        let real = try ReportExamples.report(synthetic: false).html()
        #expect(synthetic.contains("class=\"synthetic\"") && synthetic.contains("synthetic phantoms"))
        #expect(!real.contains("class=\"synthetic\"") && !real.contains("synthetic phantoms"))
    }

    @Test func writeReplacesAtomically() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-write-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("report.html")
        try Data("old".utf8).write(to: url)
        let report = try ReportExamples.report(synthetic: false)
        try report.write(to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == report.html())
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["report.html"])
        // Missing directories are created; a path through a regular file cannot be, and says so.
        try report.write(to: directory.appendingPathComponent("new-dir/report.html"))
        let blocker = directory.appendingPathComponent("blocker")
        try Data("x".utf8).write(to: blocker)
        #expect { try report.write(to: blocker.appendingPathComponent("report.html")) } throws: { error in
            String(describing: error).contains("blocker")
        }
    }

    @Test func durationsAndJSON() throws {
        #expect(Provenance.duration(0.854) == "0.85 s" && Provenance.duration(12.34) == "12.3 s")
        #expect(Provenance.duration(245) == "4 min 05 s" && Provenance.duration(7380) == "2 h 03 min")
        struct Settings: Codable { var epochs = 20; var rho = 1.0 }
        #expect(try Provenance.json(Settings()) == "{\n  \"epochs\" : 20,\n  \"rho\" : 1\n}")
    }
}
