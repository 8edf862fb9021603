import Foundation

/// Hidden and metadata files that operating systems and archivers leave beside images: the macOS
/// AppleDouble file `._<name>` beside every `<name>` copied to exFAT, FAT or SMB or zipped (a 4 KiB
/// resource fork, not an image), `.DS_Store`, the `__MACOSX/` folder of macOS zips, Windows'
/// `Thumbs.db` and `desktop.ini`; any other name starting with "." is hidden too. The readers skip
/// them like hidden files (never read `._scan.jpg` as a broken JPEG) and count them in one warning.
enum MetadataFiles {
    /// Metadata names that do not start with "." (compared lower-cased).
    static let visibleNames: Set<String> = ["__macosx", "thumbs.db", "ehthumbs.db", "desktop.ini"]

    /// True for a hidden or metadata file or folder name (not for "." and "..").
    static func isMetadata(_ name: String) -> Bool {
        (name.hasPrefix(".") && name != "." && name != "..") || visibleNames.contains(name.lowercased())
    }

    /// True when a relative path names or goes through a metadata entry (`__MACOSX/images/._7.jpg`).
    static func isMetadata(path: String) -> Bool {
        path.split(separator: "/").contains { isMetadata(String($0)) }
    }

    /// The entries of `folder`, sorted, without metadata ones, and the skipped metadata names.
    static func listing(_ folder: String) -> (names: [String], skipped: [String]) {
        let all = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        return (all.filter { !isMetadata($0) }, all.filter { isMetadata($0) })
    }

    /// One warning counting the skipped metadata entries (by name or path) of the dataset at `folder`,
    /// or nil when none was skipped.
    static func warning(skipped: [String], in folder: String) -> String? {
        guard !skipped.isEmpty else { return nil }
        let appleDouble = skipped.filter { FilePaths.lastComponent($0).hasPrefix("._") }.count
        let detail = appleDouble == skipped.count ? "all macOS AppleDouble `._*` files"
            : appleDouble > 0 ? "\(appleDouble) of them macOS AppleDouble `._*` files"
            : "such as \(FilePaths.lastComponent(skipped[0]))"
        return "skipped \(skipped.count) hidden or metadata file(s) in \(folder) (\(detail)): they are not images"
    }
}
