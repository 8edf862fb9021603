import Foundation
import Testing
@testable import Reporting

/// Renders a report in headless Chromium (Debian package `chromium`, installed by scripts/install-deps.sh)
/// and checks the screenshot: the page is laid out, the synthetic-data warning is styled, and the embedded
/// figure's palette colours appear, so an empty, unstyled or image-less report fails.
@Suite struct ReportChromiumTests {
    static let chromium = "/usr/bin/chromium"
    static let available: Bool = {
        let present = FileManager.default.isExecutableFile(atPath: chromium)
        if !present { print("ReportChromiumTests: SKIPPED, \(chromium) not found (apt-get install chromium)") }
        return present
    }()

    /// Runs Chromium with a deadline; returns its exit status, or nil when it had to be stopped.
    static func screenshot(of page: URL, to output: URL, profile: URL, timeout: TimeInterval = 60) throws -> Int32? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                             "--user-data-dir=\(profile.path)", "--screenshot=\(output.path)",
                             "--window-size=1200,1600", page.absoluteString]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let finished = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in finished.signal() }
        try process.run()
        if finished.wait(timeout: .now() + timeout) == .timedOut {
            process.terminate()
            finished.wait()
            return nil
        }
        return process.terminationStatus
    }

    @Test(.enabled(if: available, "chromium is not installed at /usr/bin/chromium: run scripts/install-deps.sh"))
    func screenshotShowsStyledReportWithFigures() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("report-chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("report.html")
        let shot = directory.appendingPathComponent("screenshot.png")
        try ReportExamples.report(synthetic: true).write(to: page)

        let status = try Self.screenshot(of: page, to: shot, profile: directory.appendingPathComponent("profile"))
        try #require(status != nil, "chromium did not finish within 60 s")
        try #require(FileManager.default.fileExists(atPath: shot.path), "chromium wrote no screenshot (exit \(status ?? -1))")
        if let keep = ProcessInfo.processInfo.environment["ROBUST_MRI_FIGURE_DIR"] {
            try? FileManager.default.copyItem(at: shot, to: URL(fileURLWithPath: keep).appendingPathComponent("report-screenshot.png"))
        }
        let image = try DecodedPNG(contentsOf: shot)
        #expect(image.width == 1200 && image.height == 1600)

        // Not blank: the grey level varies (text, figure) across the page.
        let levels = image.pixels.map { Double(($0 >> 16) & 0xFF) * 0.299 + Double(($0 >> 8) & 0xFF) * 0.587 + Double($0 & 0xFF) * 0.114 }
        let mean = levels.reduce(0, +) / Double(levels.count)
        let variance = levels.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(levels.count)
        #expect(variance > 200, "screenshot looks blank: grey-level variance \(variance)")

        func count(_ color: RGBColor, tolerance: Int) -> Int {
            image.pixels.filter { FigureRenderingTests.matches($0, color, tolerance: tolerance) }.count
        }
        // The learning-curve figure: vermillion and bluish-green series (colours the stylesheet never uses).
        let vermillion = count(Colormap.seriesColor(1), tolerance: 20), bluishGreen = count(Colormap.seriesColor(2), tolerance: 20)
        print("ReportChromiumTests: series pixels vermillion \(vermillion), bluish-green \(bluishGreen)")
        #expect(vermillion > 400, "\(vermillion) vermillion series pixels: figure missing")
        #expect(bluishGreen > 400, "\(bluishGreen) bluish-green series pixels: figure missing")
        // The synthetic-data warning box is styled (CSS applied).
        #expect(count(RGBColor(hex: 0xFFF4D6), tolerance: 2) > 5000, "synthetic-data warning box not rendered")
        // The page column is white on a light grey background: CSS layout happened.
        #expect(image.pixel(x: 5, y: 800) == RGBColor(hex: 0xF6F6F4) && image.pixel(x: 600, y: 5) == .white)
    }
}
