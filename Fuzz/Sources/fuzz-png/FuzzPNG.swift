import FuzzSupport
import MRIData

/// PNG decoding through libpng's simplified API (8- and 16-bit, grey and colour, the colour-space chunks
/// removed first), then the loaders' preprocessing to 16 x 16. Seeds: Fuzz/Corpus/png.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPNG(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let image = try? ImageDecoder.decodePNG(FuzzInput.bytes(data, size), path: "fuzz.png") else { return 0 }
    _ = Preprocessing.preprocessed(pixels: image.pixels, width: image.width, height: image.height, size: 16)
    return 0
}
