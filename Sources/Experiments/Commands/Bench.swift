import Foundation
import NN
import RobustTraining
import Tensor

/// Throughput benchmark of the paper's CNN: training (forward + backward + Adam step) and inference
/// images per second (from the median seconds of the timed batches), the convolution/linear GFLOP/s reached, and the machine's sgemm peak measured
/// in the same run. Each configuration runs in a fresh child process of the same binary, so its
/// peak resident memory (VmHWM) is its own.
package enum Bench {
    /// One measured setting.
    package struct Setting: Codable, Sendable, Equatable {
        package var variant: Variant
        package var imageSize: Int
        package var threads: Int
        package var batchSize: Int
        package var warmup: Int
        package var iterations: Int
        package var seed: UInt64

        package init(variant: Variant, imageSize: Int, threads: Int, batchSize: Int = 32, warmup: Int = 1, iterations: Int = 3, seed: UInt64 = 1) {
            self.variant = variant
            self.imageSize = imageSize
            self.threads = threads
            self.batchSize = batchSize
            self.warmup = warmup
            self.iterations = iterations
            self.seed = seed
        }
    }

    package enum Variant: String, Codable, Sendable, CaseIterable {
        case authors, same3x3

        package func configuration(imageSize: Int) -> CNNConfiguration {
            switch self {
            case .authors: return .authors(imageSize: imageSize)
            case .same3x3: return .same3x3(imageSize: imageSize)
            }
        }
    }

    /// One measured setting's figures; `bench --json` prints them under the snake-case keys of `CodingKeys`.
    package struct Result: Codable, Sendable {
        package var variant: String
        package var imageSize: Int
        package var threads: Int
        package var batchSize: Int
        package var trainImagesPerSecond: Double
        package var inferImagesPerSecond: Double
        /// Convolution + linear FLOPs of training (forward + backward) per second, in GFLOP/s.
        package var gflops: Double
        package var sgemmPeakGFLOPs: Double
        package var peakResidentMiB: Double
        package var trainMillisecondsPerBatch: Double
        package var inferMillisecondsPerBatch: Double
        package var iterations: Int
        /// The stable recipe's extra work: precise BatchNorm statistics over `preciseImages` images (once per epoch),
        /// and one EMA step of the weights (after every optimiser step), in seconds and as a share of an epoch of
        /// `epochImages` training images at this training speed.
        package var preciseImages: Int?
        package var preciseStatisticsSeconds: Double?
        package var emaMillisecondsPerStep: Double?
        package var epochImages: Int?
        package var preciseShareOfEpoch: Double?
        package var emaShareOfEpoch: Double?
        /// Noise2Void's U-Net (default settings: depth 2, 32 first-layer channels) denoising images of this size, in
        /// evaluation mode as `Noise2VoidDenoiser.denoised` runs it (median of the timed repetitions).
        package var denoiseImagesPerSecond: Double?
        /// The kernel family OpenBLAS ran (`BLAS.coreName`: "SkylakeX", "Haswell", "Prescott", ...).
        package var blasKernels: String?
        /// The instruction-set path the C kernels ran (`KernelISA.active`: "avx512", "avx2" or "default").
        package var kernelISA: String?
        enum CodingKeys: String, CodingKey {
            case variant, imageSize = "image_size", threads, batchSize = "batch_size",
                 trainImagesPerSecond = "train_images_per_s", inferImagesPerSecond = "infer_images_per_s", gflops,
                 sgemmPeakGFLOPs = "sgemm_peak_gflops", peakResidentMiB = "peak_rss_mib",
                 trainMillisecondsPerBatch = "train_ms_per_batch", inferMillisecondsPerBatch = "infer_ms_per_batch",
                 iterations, preciseImages = "precise_images", preciseStatisticsSeconds = "precise_statistics_s",
                 emaMillisecondsPerStep = "ema_ms_per_step", epochImages = "epoch_images",
                 preciseShareOfEpoch = "precise_share_of_epoch", emaShareOfEpoch = "ema_share_of_epoch",
                 blasKernels = "blas_kernels", kernelISA = "kernel_isa", denoiseImagesPerSecond = "denoise_images_per_s"
        }
    }

    /// Images per timed repetition of the U-Net denoiser (the batch `denoised` is called with).
    package static let denoiseImages = 8

    /// Training images of an epoch for the recipe-cost shares: test fold 5 of the figshare JPEG copy (1,698).
    package static let recipeEpochImages = 1_698

    /// Runs `setting` in this process.
    package static func measure(_ setting: Setting) throws -> Result {
        let configuration = setting.variant.configuration(imageSize: setting.imageSize)
        var generator = SeededGenerator(seed: setting.seed)
        var model = try CNN(configuration: configuration, generator: &generator, threads: setting.threads)
        let images = Tensor(randomNormal: [setting.batchSize, 1, setting.imageSize, setting.imageSize], generator: &generator)
        let labels = (0..<setting.batchSize).map { _ in generator.nextInt(below: configuration.classes) }
        var adam = Adam()

        func trainStep() {
            let (logits, cache) = model.forward(images, mode: .training)
            let loss = SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels)
            adam.update(&model, gradients: model.parameterGradients(dlogits: loss.dlogits, cache: cache))
        }
        for _ in 0..<setting.warmup { trainStep() }
        let trainSeconds = medianTime(setting.iterations) { trainStep() }
        // Inference as the evaluation pass runs it (`Trainer.logits` -> `evaluatedLogits`): the Winograd weights
        // transformed once per pass over a set (a test fold is many batches), not per batch.
        var evaluated = model
        evaluated.prepareWinogradWeights()
        var checksum: Float = 0
        for _ in 0..<setting.warmup { checksum += evaluated.evaluatedLogits(images).sum() }
        let inferSeconds = medianTime(setting.iterations) { checksum += evaluated.evaluatedLogits(images).sum() }
        // Noise2Void's denoiser: the U-Net of the default settings over `denoiseImages` images, as `denoised` runs it.
        let denoiser = Noise2VoidDenoiser(
            network: try UNet(configuration: Noise2VoidDenoiser.networkConfiguration(Noise2VoidSettings()), generator: &generator,
                              threads: setting.threads),
            mean: 0.5, standardDeviation: 0.25)
        let noisy = Tensor(randomUniform: [denoiseImages, 1, setting.imageSize, setting.imageSize], generator: &generator)
        for _ in 0..<setting.warmup { checksum += denoiser.denoised(noisy).sum() }
        let denoiseSeconds = medianTime(setting.iterations) { checksum += denoiser.denoised(noisy).sum() }
        if !checksum.isFinite {  // also keeps the inference work observable to the optimiser
            FileHandle.standardError.write(Data("bench: non-finite logits for \(setting)\n".utf8))
        }

        // The training/inference memory peak, read before the recipe costs (whose precise pass holds a block's
        // outputs for all 512 images) so that the column stays the training figure.
        let peakResident = peakResidentMiB() ?? -1
        // Recipe costs: precise statistics over the default 512 images, and the EMA step.
        let preciseImages = TrainingRecipe.stable.preciseStatisticsImages
        let preciseInput = Tensor(randomUniform: [preciseImages, 1, setting.imageSize, setting.imageSize], generator: &generator)
        let preciseSeconds = time(1) { _ = model.preciseStatistics(over: preciseInput) }
        var average = model
        let emaSeconds = time(setting.iterations * 4) { average.moveAverage(toward: model, decay: 0.99) } / Double(max(1, setting.iterations * 4))

        let peak = sgemmPeakGFLOPs(threads: setting.threads)
        let batchesPerSecond = 1 / trainSeconds
        let epochSeconds = Double(recipeEpochImages) / (batchesPerSecond * Double(setting.batchSize))
        let stepsPerEpoch = Double((recipeEpochImages + setting.batchSize - 1) / setting.batchSize)
        var result = Result(
            variant: setting.variant.rawValue, imageSize: setting.imageSize, threads: setting.threads,
            batchSize: setting.batchSize,
            trainImagesPerSecond: batchesPerSecond * Double(setting.batchSize),
            inferImagesPerSecond: Double(setting.batchSize) / inferSeconds,
            gflops: batchesPerSecond * Double(setting.batchSize) * trainingFLOPsPerImage(configuration) / 1e9,
            sgemmPeakGFLOPs: peak, peakResidentMiB: peakResident,
            trainMillisecondsPerBatch: 1000 * trainSeconds,
            inferMillisecondsPerBatch: 1000 * inferSeconds,
            iterations: setting.iterations)
        result.preciseImages = preciseImages
        result.preciseStatisticsSeconds = preciseSeconds
        result.emaMillisecondsPerStep = 1000 * emaSeconds
        result.epochImages = recipeEpochImages
        result.preciseShareOfEpoch = preciseSeconds / epochSeconds
        result.emaShareOfEpoch = emaSeconds * stepsPerEpoch / epochSeconds
        result.denoiseImagesPerSecond = Double(denoiseImages) / denoiseSeconds
        result.blasKernels = BLAS.coreName
        result.kernelISA = KernelISA.active.rawValue
        return result
    }

    /// Convolution and linear FLOPs (2 per multiply-add) of one training image: forward, weight
    /// gradient, and input gradient for every layer but the first.
    package static func trainingFLOPsPerImage(_ configuration: CNNConfiguration) -> Double {
        var total = 0.0
        var inChannels = configuration.inputChannels
        for (b, (channels, sizes)) in zip(configuration.channels, configuration.blockSizes).enumerated() {
            let forward = 2.0 * Double(channels * inChannels * configuration.kernelSize * configuration.kernelSize * sizes.convolution * sizes.convolution)
            total += forward * (b == 0 ? 2 : 3)
            inChannels = channels
        }
        total += 3 * 2.0 * Double(configuration.featureCount * configuration.classes)
        return total
    }

    /// GFLOP/s of a 1024 x 1024 x 1024 sgemm with OpenBLAS at `threads` threads (best of a few runs).
    package static func sgemmPeakGFLOPs(threads: Int, size: Int = 1024) -> Double {
        var generator = SeededGenerator(seed: 99)
        let a = Tensor(randomUniform: [size, size], generator: &generator)
        let b = Tensor(randomUniform: [size, size], generator: &generator)
        BLAS.setThreads(threads)
        defer { BLAS.setThreads(1) }
        _ = a.matmul(b)
        var best = Double.infinity
        for _ in 0..<3 { best = min(best, time(1) { _ = a.matmul(b) }) }
        return 2 * Double(size * size * size) / best / 1e9
    }

    /// The process's peak resident set (VmHWM in /proc/self/status), in MiB; nil where unavailable.
    package static func peakResidentMiB() -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count >= 2, let kib = Double(fields[1]) { return kib / 1024 }
        }
        return nil
    }

    /// Runs `setting` in a child process: `executable` with `arguments` plus the setting as JSON
    /// (the tool's hidden single-configuration mode), which prints one `Result` as JSON.
    package static func measureInChildProcess(_ setting: Setting, executable: URL, arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = executable
        let encoded = String(decoding: try JSONEncoder().encode(setting), as: UTF8.self)
        process.arguments = arguments + [encoded]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError.childFailed(status: process.terminationStatus, setting: encoded) }
        do {
            return try JSONDecoder().decode(Result.self, from: data)
        } catch {
            throw BenchError.unreadableOutput(String(decoding: data, as: UTF8.self))
        }
    }

    /// One line of the human-readable table.
    package static func formatted(_ r: Result) -> String {
        func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }
        return [r.variant.padding(toLength: 8, withPad: " ", startingAt: 0), "\(r.imageSize)".leftPadded(5), "\(r.threads)".leftPadded(4),
                f(r.trainImagesPerSecond).leftPadded(10), f(r.inferImagesPerSecond).leftPadded(10), f(r.gflops).leftPadded(8),
                f(r.sgemmPeakGFLOPs).leftPadded(8), f(r.peakResidentMiB, 0).leftPadded(9),
                (r.preciseStatisticsSeconds.map { f($0, 2) } ?? "–").leftPadded(9),
                (r.preciseShareOfEpoch.map { f(100 * $0) + "%" } ?? "–").leftPadded(8),
                (r.emaMillisecondsPerStep.map { f($0, 3) } ?? "–").leftPadded(8),
                (r.emaShareOfEpoch.map { f(100 * $0, 2) + "%" } ?? "–").leftPadded(7)].joined(separator: " ")
    }

    package static let header = "variant   size thr  train img/s infer img/s  GFLOP/s  sgemm pk  peak MiB  precise s  % epoch   EMA ms  % epoch"
    /// What the recipe columns mean, printed under the table.
    package static let recipeNote = "precise s: precise BatchNorm statistics over 512 images (once per epoch); EMA ms: one weight-average step (after every optimiser step); % epoch: of an epoch of 1,698 training images at this training speed."

    /// The median seconds of `repetitions` timed calls of `body` (as `tools/bench_torch.py` reports PyTorch's).
    private static func medianTime(_ repetitions: Int, _ body: () -> Void) -> Double {
        let seconds = (0..<max(1, repetitions)).map { _ in time(1, body) }.sorted()
        let middle = seconds.count / 2
        return seconds.count % 2 == 1 ? seconds[middle] : (seconds[middle - 1] + seconds[middle]) / 2
    }

    private static func time(_ repetitions: Int, _ body: () -> Void) -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<max(1, repetitions) { body() }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}

package enum BenchError: Error, CustomStringConvertible {
    case childFailed(status: Int32, setting: String)
    case unreadableOutput(String)

    package var description: String {
        switch self {
        case let .childFailed(status, setting): return "bench: the child process for \(setting) exited with status \(status)."
        case let .unreadableOutput(text): return "bench: could not read the child process's result: \(text.prefix(200))"
        }
    }
}

extension String {
    fileprivate func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
