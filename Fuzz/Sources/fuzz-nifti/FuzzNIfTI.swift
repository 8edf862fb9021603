import CZlib
import FuzzSupport
import MRIData

/// At most this many slices are read per volume (the first ones and the last): the whole volume is decoded
/// with the first, so more would only repeat the preprocessing.
let slicesPerVolume = 4

/// NIfTI-1/2 through niftilib (the CNIfTI shim), as `robust-mri` reads a volume a manifest names. The input is
/// written three times: as `x.nii`, gzipped as `x.nii.gz` (as scanners' converters store it), and as it is
/// under `raw.nii.gz` (a gzip seed is then decompressed by niftilib, any other input read through zlib's
/// transparent mode). Each file is read as the tool reads it: `decodeFile` (a manifest row without `slice`),
/// then the header (`NIfTIHeader.read`), and for the first and the last volume of a 4D file (the `volume`
/// column) the slices `--nifti-slices all` lists, the first few and the last, each preprocessed to 16 x 16
/// and checked to be in [0, 1]. Seeds: Fuzz/Corpus/nifti.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNIfTI(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    readAsTheToolDoes(Scratch.write(bytes, to: "nifti/x.nii"))
    readAsTheToolDoes(writeGzipped(bytes, to: "nifti/x.nii.gz"))
    readAsTheToolDoes(Scratch.write(bytes, to: "nifti/raw.nii.gz"))
    return 0
}

func readAsTheToolDoes(_ path: String) {
    // A decoder per file: it keeps the last volume it read by path, and the paths repeat between inputs.
    let decoder = ImageDecoder()
    if let image = try? decoder.decodeFile(path) { check(image) }
    guard let header = try? NIfTIHeader.read(path: path) else { return }
    let volumes: [Int?] = header.volumeCount > 1 ? [0, header.volumeCount - 1] : [nil]
    for volume in volumes {
        guard let slices = try? SliceReference.slices(of: path, slice: nil, volume: volume, mode: .all) else { continue }
        for reference in slices.prefix(slicesPerVolume) + slices.suffix(1) {
            if let image = try? decoder.decode(reference) { check(image) }
        }
    }
}

func check(_ image: GrayImage) {
    LoaderPromise.checkPreprocessed(Preprocessing.preprocessed(image, size: 16, intensity: .standard), size: 16)
}

/// Writes `bytes` gzipped (zlib's default level) to `name` in the scratch folder and returns the path.
func writeGzipped(_ bytes: [UInt8], to name: String) -> String {
    let path = Scratch.write([], to: name)
    guard let file = gzopen(path, "wb") else { fatalError("fuzz scratch: cannot write \(path)") }
    let written = bytes.withUnsafeBytes { gzwrite(file, $0.baseAddress, UInt32($0.count)) }
    guard gzclose(file) == Z_OK, written == bytes.count else { fatalError("fuzz scratch: cannot gzip to \(path)") }
    return path
}
