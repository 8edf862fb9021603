import Foundation
import Tensor

/// PyTorch's side of `bench --torch`: runs `tools/bench_torch.py` (PaperCNN, the same variant, image size, batch,
/// thread count, warm-up and timed iterations as our side) and reads its JSON line, so both engines are measured in
/// one run under the same load, one configuration right after the other.
///
/// Both sides time the same work: forward + backward (no input gradient for the images) + an Adam step on a batch
/// of random images, and an evaluation-mode forward pass without gradients; each reports the median seconds of its
/// timed iterations as images/s. Each runs in a fresh process: ours `OPENBLAS_NUM_THREADS`-free with `threads` work
/// pieces and single-threaded OpenBLAS, PyTorch with `torch.set_num_threads(threads)` and `OMP_NUM_THREADS=threads`.
package enum TorchBench {
    /// PyTorch's figures for one configuration (`bench_torch.py`'s keys).
    package struct Result: Codable, Sendable {
        package var trainImagesPerSecond: Double
        package var inferImagesPerSecond: Double
        package var peakResidentMiB: Double?
        package var torchVersion: String?
        enum CodingKeys: String, CodingKey {
            case trainImagesPerSecond = "train_images_per_s", inferImagesPerSecond = "infer_images_per_s",
                 peakResidentMiB = "peak_rss_mib", torchVersion = "torch_version"
        }
    }

    /// PyTorch's version, or a `TorchBenchError` that says why PyTorch cannot run (no interpreter, no torch module, no
    /// script). `python`: the interpreter (looked up on PATH); `script`: `tools/bench_torch.py`'s path.
    package static func availableVersion(python: String, script: String) throws(TorchBenchError) -> String {
        guard FileManager.default.fileExists(atPath: script) else { throw .missingScript(script) }
        let (status, output) = run([python, "-c", "import torch; print(torch.__version__)"])
        guard status == 0, let version = output.split(separator: "\n").last.map(String.init), !version.isEmpty else {
            throw .noTorch(python: python, detail: output.split(separator: "\n").last.map(String.init) ?? "")
        }
        return version
    }

    /// PyTorch's figures for `setting` (its variant's PaperCNN twin), from a fresh child process of `script`.
    package static func measure(_ setting: Bench.Setting, python: String, script: String) throws(TorchBenchError) -> Result {
        let arguments = [python, script, "--variants", setting.variant.torchName, "--sizes", "\(setting.imageSize)",
                         "--threads", "\(setting.threads)", "--batch", "\(setting.batchSize)",
                         "--warmup", "\(setting.warmup)", "--iterations", "\(setting.iterations)"]
        let (status, output) = run(arguments)
        guard status == 0, let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }) else {
            throw .failed(output.suffix(300).description)
        }
        do {
            return try JSONDecoder().decode(Result.self, from: Data(line.utf8))
        } catch {
            throw .failed(String(line.prefix(300)))
        }
    }

    /// Runs `arguments` (through `/usr/bin/env`, so the interpreter is looked up on PATH); its status and stdout + stderr.
    private static func run(_ arguments: [String]) -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// The header of the side-by-side table.
    package static let header =
        "variant   size thr | train img/s: ours  PyTorch  ratio | infer img/s: ours  PyTorch  ratio | ours: precise s  U-Net img/s"

    /// One row: ours beside PyTorch's (nil: PyTorch did not run; its columns read "–").
    package static func formatted(_ ours: Bench.Result, _ torch: Result?) -> String {
        func f(_ x: Double?, _ digits: Int = 1) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "–" }
        func ratio(_ a: Double, _ b: Double?) -> String { b.map { f(a / $0, 2) + "x" } ?? "–" }
        func pad(_ text: String, _ width: Int) -> String {
            text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
        }
        return [ours.variant.padding(toLength: 8, withPad: " ", startingAt: 0), pad("\(ours.imageSize)", 5),
                pad("\(ours.threads)", 3), "|", pad(f(ours.trainImagesPerSecond), 18), pad(f(torch?.trainImagesPerSecond), 8),
                pad(ratio(ours.trainImagesPerSecond, torch?.trainImagesPerSecond), 6), "|",
                pad(f(ours.inferImagesPerSecond), 17), pad(f(torch?.inferImagesPerSecond), 8),
                pad(ratio(ours.inferImagesPerSecond, torch?.inferImagesPerSecond), 6), "|",
                pad(f(ours.preciseStatisticsSeconds, 2), 15), pad(f(ours.denoiseImagesPerSecond), 12)].joined(separator: " ")
    }

    /// The CPU's family, model and widest vector extension from /proc/cpuinfo ("family 6 model 207, AVX-512"); nil
    /// where unreadable.
    package static func processorIdentity() -> String? {
        guard FileManager.default.isReadableFile(atPath: "/proc/cpuinfo") else { return nil }
        let flags = BLAS.cpuFlags()
        let vectors = flags.contains("avx512f") ? "AVX-512" : flags.contains("avx2") ? "AVX2" : "SSE"
        guard let family = BLAS.cpuInfoField("cpu family"), let model = BLAS.cpuInfoField("model") else { return vectors }
        return "family \(family) model \(model), \(vectors)"
    }
}

package enum TorchBenchError: Error, CustomStringConvertible {
    case missingScript(String)
    case noTorch(python: String, detail: String)
    case failed(String)

    package var description: String {
        switch self {
        case let .missingScript(path):
            return "PyTorch side skipped: \(path) not found (run from the repository's root, or pass --torch-script)."
        case let .noTorch(python, detail):
            return "PyTorch side skipped: `\(python) -c 'import torch'` failed (\(detail)); install PyTorch (CPU) for \(python)."
        case let .failed(text):
            return "PyTorch side failed: \(text)"
        }
    }
}

extension Bench.Variant {
    /// The variant's name in `tools/bench_torch.py`.
    package var torchName: String {
        switch self {
        case .authors: return "authors-5x5-valid"
        case .same3x3: return "3x3-same"
        }
    }
}
