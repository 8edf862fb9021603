import Experiments
import FuzzSupport
import NN
@testable import RobustTraining

/// Safetensors files as every reader of the package takes them: the format itself (`SafetensorsFile.decode`),
/// a CNN checkpoint (`ModelCheckpoint.load`), a Noise2Void denoiser, a run's artifacts and a training
/// checkpoint's configuration. Seeds: Fuzz/Corpus/safetensors (one file of each kind).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    guard let file = try? SafetensorsFile.decode(bytes, fileName: "fuzz.safetensors") else { return 0 }
    let path = Scratch.write(bytes, to: "fuzz.safetensors")
    _ = try? ModelCheckpoint.load(from: path)
    _ = try? Noise2VoidDenoiser.load(from: path)
    _ = try? RunArtifacts.read(from: path)
    if let configuration = try? file.metadataJSON(TrainingCheckpoint.configurationKey, as: TrainingConfiguration.self) {
        _ = try? configuration.validate()
    }
    return 0
}
