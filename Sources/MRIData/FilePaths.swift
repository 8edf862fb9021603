import SystemPackage

/// Path text for the file names users type and data files list (manifests, class folders, checkpoints), through
/// swift-system's `FilePath`.
///
/// Foundation's `NSString` path methods are not used on such text: on Swift 6.3.1 for Linux they trap
/// (`String._startOfLastPathComponent`, an illegal instruction) on ordinary input: `deletingLastPathComponent`
/// of a one-character name such as `"a"` or `"."`, `lastPathComponent` and `pathExtension` of paths with repeated
/// trailing slashes such as `"/a///a//"` (fuzz finding 23, docs/fuzzing.md). `FilePath` splits on "/" and
/// collapses repeated separators, as POSIX resolves them.
public enum FilePaths {
    /// The last component of `path`: `"b.png"` for `"a/b.png"`, `"a"` for `"a//"`; `""` for `"/"` and `""`.
    public static func lastComponent(_ path: String) -> String {
        FilePath(path).lastComponent?.string ?? ""
    }

    /// The extension of the last component, lower-cased, without the dot: `"gz"` for `"x.nii.gz"`, `""` when there
    /// is none (`"IM0001"`, `".hidden"`, `"a."`).
    public static func lowercasedExtension(_ path: String) -> String {
        FilePath(path).extension?.lowercased() ?? ""
    }

    /// The folder holding `path`: `"a"` for `"a/b.png"`, `"/"` for `"/b"`, `"."` for `"b.png"` (the current folder).
    public static func folder(of path: String) -> String {
        let parent = FilePath(path).removingLastComponent().string
        return parent.isEmpty ? "." : parent
    }

    /// `name` inside `folder`: `"a/b/c.png"` for `("a", "b//c.png")`; `name` itself when it is absolute.
    public static func joining(_ folder: String, _ name: String) -> String {
        let other = FilePath(name)
        if other.isAbsolute { return other.string }
        return FilePath(folder).pushing(other).string
    }
}
