import Foundation
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

/// A folder given where one file is expected (`predict` on a folder, a manifest path that is a folder, a folder named
/// like a .mat, .dcm or .nii file) is named as a folder by every reader of one file, not called a truncated or
/// corrupt file (a newcomer's report, session 9).
struct FolderWhereAFileIsExpectedTests {
    @Test func everySingleFileReaderNamesTheFolder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("robust-mri-folder-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for name in ["scans", "scan.dcm", "vol.nii", "slice.png", "cvind.mat", "manifest.csv"] {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
        }
        let readers: [(String, (String) throws -> Void)] = [
            ("scans", { _ = try ImageDecoder().decodeFile($0) }),
            ("scan.dcm", { _ = try ImageDecoder().decodeFile($0) }),
            ("slice.png", { _ = try ImageDecoder().decodeFile($0) }),
            ("vol.nii", { _ = try NIfTIHeader.read(path: $0) }),
            ("cvind.mat", { _ = try MATFile(path: $0) }),
            ("manifest.csv", { _ = try CSVTable(contentsOf: $0) }),
        ]
        for (name, read) in readers {
            let path = root + "/" + name
            #expect(throws: MRIDataError.folderNotFile(path), "\(name)") { try read(path) }
        }
        #expect(MRIDataError.folderNotFile(root).description.contains("is a folder, where one file is expected"))
        #expect(throws: MRIDataError.missingPath(root + "/absent.png")) { _ = try ImageDecoder().decodeFile(root + "/absent.png") }
    }
}
