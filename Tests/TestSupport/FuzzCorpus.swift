import Foundation

/// The committed seed corpus of the fuzz targets, `Fuzz/Corpus/<target>/` (docs/fuzzing.md).
///
/// Seeds are made by the package's own writers in the loaders' test suites. With
/// `ROBUST_MRI_WRITE_FUZZ_CORPUS=1` those tests write them; otherwise they check that every committed
/// seed still loads, so a format change cannot leave the fuzzers starting from inputs that are
/// rejected at the first byte.
public enum FuzzCorpus {
    /// `Fuzz/Corpus` of this checkout (found from this file's path).
    public static let root: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/Corpus").path

    /// True when the seeds are to be written (`ROBUST_MRI_WRITE_FUZZ_CORPUS=1`).
    public static var writing: Bool { ProcessInfo.processInfo.environment["ROBUST_MRI_WRITE_FUZZ_CORPUS"] == "1" }

    /// Writes seed `seed-<name>` of `target` when `writing`.
    public static func offer(_ bytes: [UInt8], target: String, name: String) throws {
        guard writing else { return }
        let folder = (root as NSString).appendingPathComponent(target)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: (folder as NSString).appendingPathComponent("seed-" + name)))
    }

    /// The committed seeds of `target` (files `seed-*`; the inputs of past findings, `finding-*`, are
    /// checked by their own regression tests), by name.
    public static func seeds(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        try files(target, prefix: "seed-")
    }

    /// The inputs that crashed (or hung, or exhausted memory in) a fuzz target, `finding-*`: each must now be
    /// refused with a typed error.
    public static func findings(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        try files(target, prefix: "finding-")
    }

    private static func files(_ target: String, prefix: String) throws -> [(name: String, bytes: [UInt8])] {
        let folder = (root as NSString).appendingPathComponent(target)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix(prefix) }
        return try names.sorted().map { name in
            (name, [UInt8](try Data(contentsOf: URL(fileURLWithPath: (folder as NSString).appendingPathComponent(name)))))
        }
    }
}
