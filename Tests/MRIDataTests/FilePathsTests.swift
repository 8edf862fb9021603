import Testing
@testable import MRIData

/// `FilePaths` (fuzz finding 23, docs/fuzzing.md): Foundation's `NSString` path methods trap on Swift 6.3.1 for
/// Linux on each `path` below (an illegal instruction in `String._startOfLastPathComponent`); these are the answers
/// POSIX path resolution gives.
struct FilePathsTests {
    @Test(arguments: [("a", "a", "."), (".", ".", "."), ("a//", "a", "."), ("/a///a//", "a", "/a"),
                      ("///_//", "_", "/"), ("im///__MACOSX////////////class///////////////", "class", "im/__MACOSX"),
                      ("manifest.csv", "manifest.csv", "."), ("/data/scans/IM0001", "IM0001", "/data/scans"),
                      ("x.png//", "x.png", "."), ("/b", "b", "/"), ("/", "", "/")])
    func lastComponentAndFolderWhereFoundationTraps(path: String, last: String, folder: String) {
        #expect(FilePaths.lastComponent(path) == last)
        #expect(FilePaths.folder(of: path) == folder)
    }

    @Test(arguments: [("x.nii.gz", "gz"), ("A/B.PNG", "png"), ("IM0001", ""), (".hidden", ""), ("x.png//", "png"),
                      ("/a///a.Dcm//", "dcm"), ("", "")])
    func extensionIsLowerCasedWithoutTheDot(path: String, ext: String) {
        #expect(FilePaths.lowercasedExtension(path) == ext)
    }

    @Test(arguments: [("folder", "images/1.png", "folder/images/1.png"), ("folder/", "a//b.png", "folder/a/b.png"),
                      ("folder", "/abs/1.png", "/abs/1.png"), (".", "x.nii", "./x.nii"), ("/", "x", "/x"),
                      ("f", "a//", "f/a")])
    func joiningCollapsesRepeatedSeparatorsAndKeepsAbsoluteNames(folder: String, name: String, joined: String) {
        #expect(FilePaths.joining(folder, name) == joined)
    }

    /// The fuzzed manifest that trapped (its `file` column `im///__MACOSX///...class///...` names a macOS metadata
    /// folder): now an error or a warning naming what was skipped, decided without a trap.
    @Test func metadataWarningOfTheFuzzedPath() {
        let warning = MetadataFiles.warning(skipped: ["im///__MACOSX////////////class///////////////"], in: "f")
        #expect(warning == "skipped 1 hidden or metadata file(s) in f (such as class): they are not images")
        let appleDouble = MetadataFiles.warning(skipped: ["a/._x.png//"], in: "f")
        #expect(appleDouble?.contains("all macOS AppleDouble") == true)
    }
}
