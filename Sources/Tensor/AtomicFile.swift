#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing a file so that readers see either the old content or the new, never a partial file:
/// the bytes go to a temporary file in the same directory, are flushed to disk, then renamed over
/// the target (rename is atomic within a file system).
public enum AtomicFile {
    /// A failed write, read or directory creation; `reason` says which step failed and why.
    public struct WriteError: Error, CustomStringConvertible {
        /// What went wrong, for callers that map it to their own errors.
        public enum Kind: Sendable, Equatable {
            /// The target is a directory.
            case isDirectory
            /// A path component that must be a directory is a file.
            case notADirectory
            /// A system call failed (errno in `reason`).
            case system
        }
        public let path: String
        public let reason: String
        public let kind: Kind
        public var description: String { "\(path): \(reason)" }

        public init(path: String, reason: String, kind: Kind = .system) {
            self.path = path
            self.reason = reason
            self.kind = kind
        }
    }

    /// A step of `write` that tests can make fail, to check what a failure leaves behind.
    package enum Step: Sendable {
        /// After half the bytes are written to the temporary file (as a full disk would).
        case write
        /// Just before the temporary file is renamed over the target.
        case rename
    }

    /// Writes `bytes` to `path` atomically, creating missing parent directories: a temporary sibling
    /// file, `fsync`, `rename`, then `fsync` of the directory. On failure the temporary file is
    /// removed and any previous file at `path` is left as it was.
    public static func write(_ bytes: [UInt8], to path: String) throws(WriteError) {
        try write(bytes, to: path, simulatedFailure: nil)
    }

    /// `write(_:to:)`; `creatingDirectories: false` fails when the parent directory is missing, and
    /// `simulatedFailure` (tests only) makes that step fail as if the system call had.
    package static func write(_ bytes: [UInt8], to path: String, creatingDirectories: Bool = true,
                              simulatedFailure: Step?) throws(WriteError) {
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw WriteError(path: path, reason: "cannot write: it is a directory; give a file name", kind: .isDirectory)
        }
        let directory = parentDirectory(of: path)
        if creatingDirectories { try createDirectories(directory) }
        let temporary = "\(directory)/.\(baseName(of: path)).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw WriteError(path: path, reason: "cannot create the temporary file \(temporary): \(errnoText())") }
        func fail(_ step: String) -> WriteError {
            let reason = "\(step): \(errnoText()); the previous file, if any, is untouched"
            close(fd)
            unlink(temporary)
            return WriteError(path: path, reason: reason)
        }
        let limit = simulatedFailure == .write ? bytes.count / 2 : bytes.count
        var written = 0
        while written < limit {
            let n = bytes.withUnsafeBytes { raw in systemWrite(fd, raw.baseAddress! + written, limit - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw fail("write to \(temporary) failed")
            }
            written += n
        }
        if simulatedFailure == .write {
            errno = ENOSPC
            throw fail("write to \(temporary) failed (simulated)")
        }
        guard fsync(fd) == 0 else { throw fail("fsync of \(temporary) failed") }
        guard close(fd) == 0 else {
            let reason = "close of \(temporary) failed: \(errnoText()); the previous file, if any, is untouched"
            unlink(temporary)
            throw WriteError(path: path, reason: reason)
        }
        if simulatedFailure == .rename { errno = EIO }
        guard simulatedFailure != .rename, rename(temporary, path) == 0 else {
            let reason = "rename \(temporary) -> \(path) failed: \(errnoText()); the previous file, if any, is untouched"
            unlink(temporary)
            throw WriteError(path: path, reason: reason)
        }
        // Make the rename itself durable; failing here cannot leave a partial file, so it is not an error.
        let directoryFD = open(directory, O_RDONLY)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }

    /// Writes UTF-8 text atomically.
    public static func write(_ text: String, to path: String) throws(WriteError) {
        try write(Array(text.utf8), to: path)
    }

    /// Reads a whole file; nil when it does not exist.
    public static func read(_ path: String) throws(WriteError) -> [UInt8]? {
        let fd = open(path, O_RDONLY)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw WriteError(path: path, reason: "cannot open for reading: \(errnoText())")
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress!, $0.count) }
            if n < 0 { throw WriteError(path: path, reason: "read failed: \(errnoText())") }
            if n == 0 { break }
            result.append(contentsOf: buffer[0..<n])
        }
        return result
    }

    /// Creates a directory and its parents (like `mkdir -p`).
    public static func createDirectories(_ directory: String) throws(WriteError) {
        if directory.isEmpty || directory == "/" || directory == "." { return }
        var info = stat()
        if stat(directory, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { return }
            throw WriteError(path: directory, reason: "exists and is not a directory", kind: .notADirectory)
        }
        try createDirectories(parentDirectory(of: directory))
        if mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw WriteError(path: directory, reason: "cannot create directory: \(errnoText())")
        }
    }

    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let parent = String(path[..<slash])
        return parent.isEmpty ? "/" : parent
    }

    public static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }
}

@inline(__always) private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, buffer, count)
}

@inline(__always) private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}
