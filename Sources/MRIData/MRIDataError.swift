import Foundation

/// Everything that can go wrong reading a dataset from disk. Each message names the file or setting
/// and says what to do about it.
public enum MRIDataError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The path does not exist.
    case missingPath(String)
    /// A folder where one file is expected (an image, a .mat file, a CSV table).
    case folderNotFile(String)
    /// The folder is none of the known layouts.
    case unrecognisedSource(String)
    /// A file exists but could not be read or decoded (truncated, corrupt, wrong format).
    case unreadableFile(path: String, reason: String)
    /// A readable file this tool does not take as it is (a DICOM report, a colour or multi-frame image, a
    /// compression it cannot decode, a NIfTI volume without a slice choice); `reason` says what to do.
    case unsupportedImage(path: String, reason: String)
    /// A file cannot be written (cache, PNG).
    case unwritableFile(path: String, reason: String)
    /// A file named by a manifest or index is absent.
    case missingFile(path: String, namedIn: String)
    /// A label outside the three known classes.
    case invalidLabel(path: String, label: String)
    /// A CSV file is malformed (missing column, bad number, wrong field count).
    case malformedCSV(path: String, line: Int, reason: String)
    /// A CSV file separated by something else than commas (`;`, tab, `|`).
    case wrongSeparator(path: String, found: Character)
    /// A class folder holds no images.
    case emptyClassFolder(String)
    /// A folder of the class-per-folder layout that is not one of the three classes and not skippable.
    case unknownClassFolder(String)
    /// The data has no image at all.
    case noImages(String)
    /// A requested fold is not in the data.
    case missingFold(requested: Int, available: [Int])
    /// A setting is out of range.
    case invalidSetting(name: String, reason: String)

    public var description: String {
        switch self {
        case .missingPath(let path):
            return "No such file or folder: \(path) (a relative path is taken from the current folder, \(FileManager.default.currentDirectoryPath)). Check the path; for a saved run, whose config.json keeps --data as it was typed in the folder it was trained from, pass --data with the data's folder."
        case .folderNotFile(let path):
            return "\(path) is a folder, where one file is expected: name a file inside it (a whole folder of scans goes "
                + "to --data; `predict` takes files, such as \(path)/*.dcm)."
        case .unrecognisedSource(let path):
            return "\(path) is not a dataset this tool reads: expected a folder of figshare `<id>.mat` files with `cvind.mat`, "
                + "a folder with `manifest.csv`, or class folders (glioma/, meningioma/, pituitary/). See docs/data.md."
        case .unreadableFile(let path, let reason):
            return "Cannot read \(path): \(reason). The file may be truncated or corrupt: re-download or re-extract it."
        case .unsupportedImage(let path, let reason):
            return "Cannot use \(path): \(reason)."
        case .unwritableFile(let path, let reason):
            return "Cannot write \(path): \(reason). Check that the folder exists and is writable, and that the disk has room."
        case .missingFile(let path, let namedIn):
            return "\(path), named in \(namedIn), does not exist. Restore the file or remove its row from \(namedIn)."
        case .invalidLabel(let path, let label):
            return "\(path): label \(label) is not a known class (figshare labels are 1 meningioma, 2 glioma, 3 pituitary). "
                + "Fix or remove that entry."
        case .malformedCSV(let path, let line, let reason):
            return "\(path), line \(line): \(reason). Fix the line; fields with commas must be quoted."
        case .wrongSeparator(let path, let found):
            let name = found == "\t" ? "a tab" : "'\(found)'"
            return "\(path) must be comma-separated; found \(name) (line 1 is one field). "
                + "Save it as comma-separated CSV, or replace the separator with commas."
        case .emptyClassFolder(let path):
            return "Class folder \(path) holds no images (.jpg, .jpeg, .png, .dcm, .nii, .nii.gz, or DICOM files without an extension). "
                + "Add its images or remove the folder."
        case .unknownClassFolder(let path):
            return "Folder \(path) is not a known class (glioma, meningioma, pituitary, with optional _tumor). "
                + "Rename or remove it."
        case .noImages(let path):
            return "No images found in \(path). Point the loader at the folder that holds the data."
        case .missingFold(let requested, let available):
            guard !available.isEmpty else {
                return "Fold \(requested) is not in the data: it has no folds (no Training/Testing folders, no `fold` column, "
                    + "no cvind.mat). Hold out a share of it as the test set instead (`DataSplit.holdout`; the tool does so when "
                    + "--test-fold is left out)."
            }
            return "Fold \(requested) is not in the data; it has folds \(available.map(String.init).joined(separator: ", ")). "
                + "Choose one of those."
        case .invalidSetting(let name, let reason):
            return "Setting \(name): \(reason)."
        }
    }

    public var errorDescription: String? { description }
}

extension MRIDataError {
    /// Throws `missingPath` when nothing is at `path` and `folderNotFile` when a folder is: every reader of one file
    /// checks this first, so a folder given for a file is named as such, not reported as a corrupt file.
    public static func requireFile(_ path: String) throws(MRIDataError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .missingPath(path) }
        if isDirectory.boolValue { throw .folderNotFile(path) }
    }
}
