import FuzzSupport
import MRIData

/// One decoder for the whole run, as each loading thread keeps one.
nonisolated(unsafe) let decoder = ImageDecoder()

/// DICOM through DCMTK (the CDICOM shim), as `robust-mri` reads a `.dcm` file a manifest names or a class
/// folder holds: the input is written to `x.dcm` (DCMTK opens files), decoded by `ImageDecoder.decodeFile`
/// (transfer syntaxes, rescale, MONOCHROME1, the refusals), preprocessed to 16 x 16 with DICOM's standard
/// intensity mapping (min-max), and every value checked to be in [0, 1]. Seeds: Fuzz/Corpus/dicom.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDICOM(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let path = Scratch.write(FuzzInput.bytes(data, size), to: "dicom/x.dcm")
    guard let image = try? decoder.decodeFile(path) else { return 0 }
    LoaderPromise.checkPreprocessed(Preprocessing.preprocessed(image, size: 16, intensity: .standard), size: 16)
    return 0
}
