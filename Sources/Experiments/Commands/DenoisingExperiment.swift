import Foundation
import MRIData
import NN
import RobustTraining
import Tensor

/// `robust-mri denoise`: Noise2Void on a dataset's noisy training images (noise applied as `train`
/// applies it), compared with the noisy input and two classical filters against the clean images
/// (known, since the noise is simulated). Writes `denoiser.safetensors`, `denoise.json` and, per
/// example image, clean / noisy / denoised / Gaussian / median PNGs.
package struct DenoisingExperiment {
    package var settings: RunSettings
    /// A saved denoiser to apply instead of training one.
    package var denoiserPath: String?
    /// Sigma (pixels) of the Gaussian-filter baseline.
    package var gaussianSigma: Double
    /// Training images the metrics are averaged over (the first ones; all when nil).
    package var evaluationCount: Int?
    package var exampleCount: Int

    package init(settings: RunSettings, denoiserPath: String? = nil, gaussianSigma: Double = 1,
                evaluationCount: Int? = 200, exampleCount: Int = 4) {
        self.settings = settings
        self.denoiserPath = denoiserPath
        self.gaussianSigma = gaussianSigma
        self.evaluationCount = evaluationCount
        self.exampleCount = exampleCount
    }

    /// Mean PSNR (dB) and SSIM against the clean images of each version, and the timings.
    package struct Report: Codable, Sendable {
        package var psnrNoisy, psnrDenoised, psnrGaussian, psnrMedian: Double
        package var ssimNoisy, ssimDenoised, ssimGaussian, ssimMedian: Double
        package var gaussianSigma: Double
        package var trainSeconds: Double
        package var denoiseSeconds: Double
        package var imagesEvaluated: Int
        package var trainingImages: Int
        package var imageSize: Int
        package var noise: String
        package var n2v: Noise2VoidSettings
        package var epochLosses: [Double]
        package var seed: UInt64
        package var denoiser: String
        /// The JSON keys: snake case.
        enum CodingKeys: String, CodingKey {
            case psnrNoisy = "psnr_noisy", psnrDenoised = "psnr_denoised", psnrGaussian = "psnr_gaussian",
                 psnrMedian = "psnr_median", ssimNoisy = "ssim_noisy", ssimDenoised = "ssim_denoised",
                 ssimGaussian = "ssim_gaussian", ssimMedian = "ssim_median", gaussianSigma = "gaussian_sigma",
                 trainSeconds = "train_seconds", denoiseSeconds = "denoise_seconds",
                 imagesEvaluated = "images_evaluated", trainingImages = "training_images", imageSize = "image_size",
                 noise, n2v, epochLosses = "epoch_losses", seed, denoiser
        }
    }

    package enum ExperimentError: Error, CustomStringConvertible {
        case noCleanImages
        package var description: String { "the training data has no clean images to compare with" }
    }

    package func run(data: ExperimentData, directory: String, observer: any TrainingObserver = SilentObserver()) throws -> Report {
        let configuration = settings.training
        let training = try data.trainingData(settings)
        guard let clean = training.trainClean else { throw ExperimentError.noCleanImages }
        let noisy = training.train.images
        let unet = Noise2VoidDenoiser.networkConfiguration(configuration.noise2void)
        var denoiser: Noise2VoidDenoiser
        var trainSeconds = 0.0, losses: [Double] = []
        try AtomicFile.createDirectories(directory)
        let denoiserFile = "\(directory)/\(Noise2VoidDenoiser.fileName)"
        if let denoiserPath {
            denoiser = try SavedModel.denoiser(from: denoiserPath, fallback: unet, threads: configuration.threads)
        } else {
            let settings = configuration.noise2void
            let batches = (settings.patchesPerEpoch + settings.batchSize - 1) / settings.batchSize
            let outcome = try Noise2VoidTraining(settings: settings, seed: configuration.seed, threads: configuration.threads)
                .train(on: noisy) { epoch, batch, _, loss in
                    observer.phase(String(format: "N2V epoch %d/%d, masked loss %.4f", epoch, settings.epochs, loss),
                                   done: (epoch - 1) * batches + batch, of: settings.epochs * batches)
                }
            denoiser = outcome.denoiser
            trainSeconds = outcome.seconds
            losses = outcome.epochLosses
        }
        try denoiser.save(to: denoiserFile)

        let count = min(noisy.shape[0], evaluationCount ?? noisy.shape[0])
        let noisyPart = noisy.items(0..<count), cleanPart = clean.items(0..<count)
        let started = Date()
        let denoised = denoiser.denoised(noisyPart, batchSize: 8) { done, total in
            observer.phase("denoising \(total) images", done: done, of: total)
        }
        let denoiseSeconds = Date().timeIntervalSince(started)
        let gaussian = DenoisingFilters.gaussian(noisyPart, sigma: gaussianSigma)
        let median = DenoisingFilters.median3x3(noisyPart)
        let metrics = [noisyPart, denoised, gaussian, median].map { DenoisingMetrics.mean($0.clipped(to: 0, 1), references: cleanPart) }
        try writeExamples([("clean", cleanPart), ("noisy", noisyPart), ("denoised", denoised), ("gaussian", gaussian), ("median", median)],
                          directory: directory)
        let report = Report(
            psnrNoisy: metrics[0].psnr, psnrDenoised: metrics[1].psnr, psnrGaussian: metrics[2].psnr, psnrMedian: metrics[3].psnr,
            ssimNoisy: metrics[0].ssim, ssimDenoised: metrics[1].ssim, ssimGaussian: metrics[2].ssim, ssimMedian: metrics[3].ssim,
            gaussianSigma: gaussianSigma, trainSeconds: trainSeconds, denoiseSeconds: denoiseSeconds, imagesEvaluated: count,
            trainingImages: noisy.shape[0], imageSize: noisy.shape[2], noise: "\(settings.data.noise)",
            n2v: configuration.noise2void, epochLosses: losses, seed: configuration.seed,
            denoiser: denoiserPath ?? denoiserFile)
        try AtomicFile.write([UInt8](try JSONCoding.encoder.encode(report)), to: "\(directory)/denoise.json")
        return report
    }

    /// `example-{i}-{version}.png` for the first `exampleCount` images.
    func writeExamples(_ versions: [(name: String, images: Tensor)], directory: String) throws {
        guard let first = versions.first?.images else { return }
        let h = first.shape[2], w = first.shape[3], plane = h * w
        for i in 0..<min(exampleCount, first.shape[0]) {
            for (name, images) in versions {
                let pixels = Array(images.scalars[(i * plane)..<((i + 1) * plane)])
                try PNGImage.encode(unitGray: pixels, width: w, height: h).writePNG(path: "\(directory)/example-\(i)-\(name).png")
            }
        }
    }
}
