import Foundation

/// What every fuzz target needs around the loader it calls: the input as bytes, and a scratch folder
/// for loaders that only take a path (libhdf5 opens files; the manifest reader reads a folder).
public enum FuzzInput {
    /// libFuzzer's input as an array.
    public static func bytes(_ data: UnsafePointer<UInt8>, _ size: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// `bytes` split at the first NUL byte (the second part empty when there is none): one input that
    /// holds two files, e.g. `manifest.csv` and `borders.csv`.
    public static func split(_ bytes: [UInt8]) -> (first: [UInt8], second: [UInt8]) {
        guard let nul = bytes.firstIndex(of: 0) else { return (bytes, []) }
        return (Array(bytes[..<nul]), Array(bytes[(nul + 1)...]))
    }
}

/// One folder per fuzzing process (in /dev/shm when there is one: the loaders read real files at every
/// execution), removed when the process exits normally.
public enum Scratch {
    public static let folder: String = {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = (base as NSString).appendingPathComponent("robust-mri-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: Scratch.folder) }
        return path
    }()

    /// Writes `bytes` to `name` inside the scratch folder (creating subfolders) and returns the path.
    @discardableResult
    public static func write(_ bytes: [UInt8], to name: String) -> String {
        let path = (folder as NSString).appendingPathComponent(name)
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                 withIntermediateDirectories: true)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            fatalError("fuzz scratch: cannot write \(path)")
        }
        return path
    }

    /// Removes `name` inside the scratch folder, if it is there.
    public static func remove(_ name: String) {
        try? FileManager.default.removeItem(atPath: (folder as NSString).appendingPathComponent(name))
    }
}

/// What a loader promises of every slice it returns, checked where a violation would not crash by itself.
public enum LoaderPromise {
    /// A preprocessed slice holds only finite values in [0, 1]: a NaN or an infinity from a file's scaling
    /// (DICOM's rescale, NIfTI's scl_slope, float voxels) would otherwise reach training without a sound.
    public static func checkPreprocessed(_ values: [Float], size: Int) {
        precondition(values.count == size * size, "preprocessed slice of \(values.count) values, not \(size) x \(size)")
        precondition(values.allSatisfy { $0 >= 0 && $0 <= 1 }, "preprocessed slice with values outside [0, 1] or NaN")
    }
}
