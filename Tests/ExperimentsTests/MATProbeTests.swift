import Foundation
import MRIData
import Testing
import TestSupport

/// `.mat` files on which libhdf5 1.10.8 itself crashes (fuzz findings 14 and 22, Fuzz/KnownCrashes/mat) are read
/// first in a child process (`robust-mri probe-mat`), so the run gets an error naming the file, not a SIGSEGV.
@Suite(.serialized) struct MATProbeTests {
    static let knownCrashes = (FuzzCorpus.root as NSString).deletingLastPathComponent + "/KnownCrashes/mat/"
    static let slice = FuzzCorpus.root + "/mat/seed-slice.mat"

    /// A folder `1.mat ... n.mat` of the given files.
    static func folder(_ files: [String], name: String) throws -> URL {
        let folder = try temporaryFolder(name)
        for (i, file) in files.enumerated() {
            try FileManager.default.copyItem(atPath: file, toPath: folder.appendingPathComponent("\(i + 1).mat").path)
        }
        return folder
    }

    @Test func theProbeFindsEveryCrashingFileInOnePass() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let files = [Self.slice, Self.knownCrashes + "libhdf5-1.10.8-null-heap-read.mat", Self.slice,
                     Self.knownCrashes + "libhdf5-1.10.8-null-btree-read.mat", Self.knownCrashes + "libhdf5-1.10.8-null-heap-read-2.mat"]
        let folder = try Self.folder(files, name: "probe")
        defer { try? FileManager.default.removeItem(at: folder) }
        let paths = (1...files.count).map { folder.appendingPathComponent("\($0).mat").path }
        let crashed = try MATProbe.crashingFiles(paths, executable: cli.executable.path)
        #expect(Set(crashed.keys) == Set([paths[1], paths[3], paths[4]]), "\(crashed)")
        #expect(crashed.values.allSatisfy { $0.contains("libhdf5 crashed reading it (signal 11, SIGSEGV") })
        // Readable files (and files that are errors, not crashes) pass; no executable: no child, nothing found.
        #expect(try MATProbe.crashingFiles([paths[0], paths[2], FuzzCorpus.root + "/mat/finding-huge-dims.mat"],
                                           executable: cli.executable.path).isEmpty)
        #expect(try MATProbe.crashingFiles(paths, executable: nil).isEmpty)
    }

    @Test func aRunOnAFolderWithACrashingFileStopsWithAnErrorNamingIt() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try Self.folder([Self.slice, Self.knownCrashes + "libhdf5-1.10.8-null-heap-read.mat", Self.slice],
                                     name: "probe-run")
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try cli.run(["train", "--data", ".", "--no-cache", "--image-size", "32", "--epochs", "1"], in: folder)
        expectCleanFailure(result, mentioning: ["2.mat", "libhdf5 crashed reading it", "--skip-unreadable"])
        // With --skip-unreadable the file is left out with a warning naming it (the two slices left are too few to
        // train on, which is its own clean error).
        let skipped = try cli.run(["train", "--data", ".", "--no-cache", "--image-size", "32", "--epochs", "1", "--skip-unreadable"],
                                  in: folder)
        #expect(skipped.status < 128 && skipped.error.contains("skipped 1 unreadable file(s) of 3"), "\(skipped.transcript)")
    }
}
