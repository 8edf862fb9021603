#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing a file so that readers see either the old content or the new, never a partial file:
/// the bytes go to a temporary file in the same directory, are flushed to disk, then renamed over
/// the target (rename is atomic within a file system).
public enum AtomicFile {
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "could not write \(path): \(reason)" }
    }

    /// Writes `bytes` to `path` atomically, creating missing parent directories.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        let directory = parentDirectory(of: path)
        try createDirectories(directory)
        let temporary = "\(directory)/.\(baseName(of: path)).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw WriteError(path: path, reason: "cannot create a file in \(directory): \(errnoText())") }
        var written = 0
        let ok: Bool = bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + written, raw.count - written)
                if n <= 0 { return false }
                written += n
            }
            return true
        }
        let reason = errnoText()
        if !ok || fsync(fd) != 0 {
            close(fd)
            unlink(temporary)
            throw WriteError(path: path, reason: "write failed (\(reason)); the previous file, if any, is untouched")
        }
        close(fd)
        if rename(temporary, path) != 0 {
            let renameReason = errnoText()
            unlink(temporary)
            throw WriteError(path: path, reason: "rename failed (\(renameReason)); the previous file, if any, is untouched")
        }
    }

    /// Writes UTF-8 text atomically.
    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// Reads a whole file; nil when it does not exist.
    public static func read(_ path: String) throws -> [UInt8]? {
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
    public static func createDirectories(_ directory: String) throws {
        if directory.isEmpty || directory == "/" || directory == "." { return }
        var info = stat()
        if stat(directory, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR { return }
            throw WriteError(path: directory, reason: "exists and is not a directory")
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
