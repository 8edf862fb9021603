import Foundation
import Synchronization

/// Reads `.mat` files once in a child process, so that a crash inside libhdf5 becomes an error naming the file.
///
/// libhdf5 1.10.8 (Debian 12) crashes with SIGSEGV inside `H5Dopen2`'s group lookup on some damaged files (a
/// damaged local heap or symbol-table B-tree: fuzz findings 14 and 22, docs/fuzzing.md; Debian's `h5ls -r`
/// crashes on them too), where no check before the call can tell. When `executable` is set (the command-line tool
/// sets it to itself), `FigshareMatReader` first has the child `<executable> probe-mat` read every file as the load
/// will (`FigshareMatReader.readSlice`, `readFoldIndex`); a file on which the child dies is then a typed
/// `MRIDataError.unreadableFile` (or, with `--skip-unreadable`, left out) instead of a crash of the whole run. The
/// in-process read that follows makes the same libhdf5 calls on the same bytes, so it meets no crash the child
/// did not. Without an executable (library use, the tests' own processes, the fuzz targets) files are read
/// in-process only, as before.
public enum MATProbe {
    private static let executableSlot = Mutex<String?>(nil)

    /// The program to start as `<executable> probe-mat --list FILE --progress FILE`; nil: no child process.
    public static var executable: String? {
        get { executableSlot.withLock { $0 } }
        set { executableSlot.withLock { $0 = newValue } }
    }

    /// The files of `paths` on which the probe child died by a signal, each with the reason to report; empty when
    /// `executable` is nil. After a crash the child is started again from the next file, so one pass finds all.
    /// Throws `MRIDataError.unreadableFile` when the child cannot be started or exits with an unexpected status.
    public static func crashingFiles(_ paths: [String], executable: String? = MATProbe.executable) throws -> [String: String] {
        guard let executable, !paths.isEmpty else { return [:] }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("robust-mri-probe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var crashed: [String: String] = [:]
        var start = 0
        while start < paths.count {
            let list = scratch.appendingPathComponent("list"), progress = scratch.appendingPathComponent("progress")
            try Data(paths[start...].joined(separator: "\n").utf8).write(to: list)
            try Data().write(to: progress)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = ["probe-mat", "--list", list.path, "--progress", progress.path]
            var environment = ProcessInfo.processInfo.environment
            environment["SWIFT_BACKTRACE"] = "enable=no"
            process.environment = environment
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                throw MRIDataError.unreadableFile(path: paths[start], reason: "cannot start the .mat probe \(executable) (\(error))")
            }
            process.waitUntilExit()
            if process.terminationReason == .exit {
                guard process.terminationStatus == 0 else {
                    throw MRIDataError.unreadableFile(
                        path: paths[start], reason: "the .mat probe \(executable) exited with status \(process.terminationStatus)")
                }
                break
            }
            // Killed by a signal: the last file it started is the one it died on.
            let started = String(decoding: (try? Data(contentsOf: progress)) ?? Data(), as: UTF8.self)
                .split(separator: "\n").compactMap { Int($0) }.last ?? 0
            let file = paths[start + started]
            crashed[file] = "libhdf5 crashed reading it (signal \(process.terminationStatus)\(signalName(process.terminationStatus)), "
                + "in a child process): its HDF5 structure is damaged (Debian's `h5ls -r` fails on it too)"
            start += started + 1
        }
        return crashed
    }

    /// The child's side: reads each file listed in `list` (one path a line) as a load would, writing its 0-based
    /// line number to `progress` before touching it (an unbuffered write: in the file for the parent however the
    /// child dies). Read errors are ignored here: the load reports
    /// them; only a crash matters.
    public static func runChild(list: String, progress: String) throws {
        let paths = try String(contentsOfFile: list, encoding: .utf8).split(separator: "\n").map(String.init)
        guard let out = FileHandle(forWritingAtPath: progress) else {
            throw MRIDataError.unwritableFile(path: progress, reason: "cannot open the probe's progress file")
        }
        defer { try? out.close() }
        for (index, path) in paths.enumerated() {
            try out.write(contentsOf: Data("\(index)\n".utf8))
            if FilePaths.lastComponent(path) == "cvind.mat" {
                _ = try? FigshareMatReader.readFoldIndex(path)
            } else {
                _ = try? FigshareMatReader.readSlice(path)
            }
        }
    }

    private static func signalName(_ signal: Int32) -> String {
        switch signal {
        case SIGSEGV: return ", SIGSEGV"
        case SIGBUS: return ", SIGBUS"
        case SIGABRT: return ", SIGABRT"
        case SIGILL: return ", SIGILL"
        case SIGFPE: return ", SIGFPE"
        default: return ""
        }
    }
}
