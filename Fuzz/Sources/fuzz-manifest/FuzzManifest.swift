import Foundation
import FuzzSupport
@testable import MRIData

/// The folder the manifests refer to: three small PNGs (grey 8-bit, grey 16-bit, colour) at the paths the
/// seeds name, made once with the package's own PNG writer.
let folder: String = {
    let images: [(name: String, png: PNGImage?)] = [
        ("images/1.png", try? PNGImage.encode(gray: (0..<48).map { UInt8($0 * 5) }, width: 8, height: 6)),
        ("images/2.png", try? PNGImage.encode(gray16: (0..<30).map { UInt16($0 * 2000) }, width: 5, height: 6)),
        ("3.png", try? PNGImage.encode(rgb: (0..<(3 * 12)).map { UInt8($0 * 7) }, width: 4, height: 3)),
    ]
    for (name, png) in images {
        guard let png else { fatalError("fuzz-manifest: cannot encode \(name)") }
        Scratch.write(png.data, to: "manifest/\(name)")
    }
    return (Scratch.folder as NSString).appendingPathComponent("manifest")
}()

/// A manifest folder as `robust-mri` loads it: the input up to its first NUL byte is `manifest.csv`, the
/// rest (if any) `borders.csv`; the folder is read (`ManifestReader`, `CSVTable`) and loaded at 16 x 16
/// with masks from the borders (`PolygonFill`). Seeds: Fuzz/Corpus/manifest.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzManifest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let (manifest, borders) = FuzzInput.split(FuzzInput.bytes(data, size))
    Scratch.write(manifest, to: "manifest/manifest.csv")
    if borders.isEmpty { Scratch.remove("manifest/borders.csv") } else { Scratch.write(borders, to: "manifest/borders.csv") }
    guard let reader = try? ManifestReader(folder: folder) else { return 0 }
    _ = try? DatasetLoader.decoded(reader, imageSize: 16, options: LoadOptions(threads: 1, verbose: false))
    return 0
}
