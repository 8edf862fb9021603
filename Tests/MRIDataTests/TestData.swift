import Foundation
import MRIData

/// Where the shared real data lives: `$ROBUST_MRI_DATA`, or `../shared/data` beside the package root
/// (found from this file's path, so any clone placed beside `shared/` works).
enum TestData {
    static let root: String = {
        if let path = ProcessInfo.processInfo.environment["ROBUST_MRI_DATA"], !path.isEmpty { return path }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/data").path
    }()

    static func path(_ relative: String) -> String { (root as NSString).appendingPathComponent(relative) }

    static func has(_ relative: String) -> Bool { FileManager.default.fileExists(atPath: path(relative)) }

    /// A fresh temporary directory, removed by the caller with `removeTemporary`.
    static func temporaryDirectory(_ label: String = "mridata") -> String {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(label)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func remove(_ path: String) { try? FileManager.default.removeItem(atPath: path) }

    static func write(_ text: String, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A grey PNG of `width` x `height` with a pattern: value (r * 7 + c * 3 + seed) % 200 + 20.
    static func writePatternPNG(_ path: String, width: Int, height: Int, seed: Int = 0) throws {
        let pixels: [UInt8] = (0..<(width * height)).map { (i: Int) -> UInt8 in
            let value: Int = ((i / width) * 7 + (i % width) * 3 + seed) % 200 + 20
            return UInt8(value)
        }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try PNGImage.encode(gray: pixels, width: width, height: height).writePNG(path: path)
    }

    /// Truncates the file at `path` to `fraction` of its length.
    static func truncate(_ path: String, to fraction: Double) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(Int(Double(data.count) * fraction)).write(to: URL(fileURLWithPath: path))
    }
}

import Testing

/// Expects `body` to throw an `MRIDataError` whose message contains every one of `fragments`.
func expectDataError(_ fragments: String..., sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an MRIDataError mentioning \(fragments)", sourceLocation: sourceLocation)
    } catch let error as MRIDataError {
        for fragment in fragments {
            #expect(error.description.contains(fragment), "message: \(error.description)", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("expected an MRIDataError, got \(error)", sourceLocation: sourceLocation)
    }
}
