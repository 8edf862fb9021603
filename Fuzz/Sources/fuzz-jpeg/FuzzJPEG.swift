import FuzzSupport
import MRIData

/// One decoder for the whole run, as each loading thread keeps one (it owns a TurboJPEG handle).
nonisolated(unsafe) let decoder = ImageDecoder()

/// JPEG decoding through TurboJPEG (grey, YCbCr, CMYK/YCCK, the Adobe marker scan, the warnings that are
/// forgiven), then the loaders' preprocessing to 16 x 16. Seeds: Fuzz/Corpus/jpeg.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJPEG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    defer { _ = decoder.takeWarnings() }
    guard let image = try? decoder.decodeJPEG(FuzzInput.bytes(data, size), path: "fuzz.jpg") else { return 0 }
    _ = Preprocessing.preprocessed(pixels: image.pixels, width: image.width, height: image.height, size: 16)
    return 0
}
