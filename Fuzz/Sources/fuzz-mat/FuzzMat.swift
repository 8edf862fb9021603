import Foundation
import FuzzSupport
@testable import MRIData

/// The figshare `.mat` reader (MATLAB v7.3 = HDF5 through libhdf5): the input is written as the folder's
/// only slice `1.mat` and loaded as `robust-mri` loads a release (every field read, NaN checks,
/// preprocessing to 16 x 16), then read again as `cvind.mat` would be. libhdf5 only opens files, so the
/// input goes through a file in the scratch folder. Seeds: Fuzz/Corpus/mat (a slice, a fold index).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMat(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = Scratch.write(FuzzInput.bytes(data, size), to: "mat/1.mat")
    if let reader = try? FigshareMatReader(folder: (path as NSString).deletingLastPathComponent) {
        _ = try? DatasetLoader.decoded(reader, imageSize: 16, options: LoadOptions(threads: 1, verbose: false))
    }
    _ = try? FigshareMatReader.readFoldIndex(path)
    return 0
}
