import Foundation
import MRIData
import NN
import Tensor

/// Noise2Void training (PAPER.md, "Baselines"): a U-Net denoiser trained by blind-spot masking on the
/// noisy training images alone, then the CNN trained on the denoised training images; validation and
/// test images are denoised by the same denoiser before they are classified.
///
/// `prepare` trains the denoiser (seeded by the run's seed), replaces `state.trainImages` by their
/// denoised versions and denoises the validation and test sets once; `evaluationImages` looks those up
/// (by value, which is instant for the same tensor) and denoises any other images on demand. The
/// denoiser's weights go into the checkpoint, so a resumed run denoises exactly as before.
public struct Noise2VoidMethod: TrainingMethod {
    public var settings: Noise2VoidSettings
    public var seed: UInt64
    public var threads: Int
    public private(set) var denoiser: Noise2VoidDenoiser?
    /// Denoised images already computed, by input (shared by copies of the method).
    private let memo = DenoisedImages()

    public init(settings: Noise2VoidSettings, seed: UInt64, threads: Int = 2) {
        self.settings = settings
        self.seed = seed
        self.threads = threads
    }

    public mutating func prepare(_ state: inout TrainingState, context: MethodContext) throws -> String? {
        let training = Noise2VoidTraining(settings: settings, seed: seed, threads: threads)
        let observer = context.observer
        let total = settings.epochs * ((settings.patchesPerEpoch + settings.batchSize - 1) / settings.batchSize)
        let batches = (settings.patchesPerEpoch + settings.batchSize - 1) / settings.batchSize
        let outcome = try training.train(on: state.trainImages) { epoch, batch, _, loss in
            observer.phase(String(format: "N2V denoiser epoch %d, masked loss %.4f", epoch, loss),
                           done: (epoch - 1) * batches + batch, of: total)
        }
        denoiser = outcome.denoiser
        let started = Date()
        state.trainImages = denoise(state.trainImages, phase: "N2V denoising training images", observer: observer)
        _ = denoise(context.data.validation.images, phase: "N2V denoising validation images", observer: observer)
        _ = denoise(context.data.testSets.images, phase: "N2V denoising test images", observer: observer)
        let lastLoss = outcome.epochLosses.last ?? .nan
        return String(format: "N2V: denoiser trained in %.0f s (%d epochs x %d patches of %d px, final masked loss %.4f); images denoised in %.0f s",
                      outcome.seconds, settings.epochs, settings.patchesPerEpoch, training.patchSide(for: state.trainImages),
                      lastLoss, Date().timeIntervalSince(started))
    }

    public func evaluationImages(_ images: Tensor) -> Tensor {
        denoise(images, phase: nil, observer: nil)
    }

    private func denoise(_ images: Tensor, phase: String?, observer: (any TrainingObserver)?) -> Tensor {
        guard let denoiser else {
            preconditionFailure("Noise2VoidMethod: no denoiser; prepare() or restore(from:) must run before images are denoised")
        }
        if let known = memo.lookup(images) { return known }
        let result = denoiser.denoised(images, batchSize: 8) { done, total in
            if let phase { observer?.phase(phase, done: done, of: total) }
        }
        memo.store(images, result)
        return result
    }

    public func checkpointTensors() -> [(name: String, tensor: Tensor)] {
        (denoiser?.namedTensors() ?? []).map { ("denoiser." + $0.name, $0.tensor) }
    }

    public mutating func restore(from tensors: [String: Tensor]) throws {
        var own: [String: Tensor] = [:]
        for (name, tensor) in tensors where name.hasPrefix("denoiser.") { own[String(name.dropFirst(9))] = tensor }
        guard !own.isEmpty else {
            throw TrainingError.checkpoint("the checkpoint holds no Noise2Void denoiser: it is not from an n2v run; use another --out directory")
        }
        do {
            denoiser = try Noise2VoidDenoiser(namedTensors: own, configuration: Noise2VoidDenoiser.networkConfiguration(settings),
                                              threads: threads)
        } catch {
            throw TrainingError.checkpoint("the checkpoint's Noise2Void denoiser does not match the settings: \(error)")
        }
    }

    /// The denoiser, as `denoiser.safetensors` beside the model: the model classifies denoised images, so
    /// `evaluate` and `predict` apply it (`denoiserPath(besideModel:)`).
    public func modelArtifacts() -> [ModelArtifact] {
        guard let denoiser else { return [] }
        return [ModelArtifact(fileName: Noise2VoidDenoiser.fileName, write: denoiser.save(to:))]
    }

    /// The denoiser an n2v run saved beside its model file `modelPath` (`modelArtifacts`), or nil when
    /// `modelPath`'s folder holds none.
    public static func denoiserPath(besideModel modelPath: String) -> String? {
        let path = FilePaths.joining(FilePaths.folder(of: modelPath), Noise2VoidDenoiser.fileName)
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}

/// Input -> denoised pairs, compared by value (the same tensor compares in O(1): its storage is shared).
final class DenoisedImages: @unchecked Sendable {
    private var entries: [(input: Tensor, output: Tensor)] = []
    private let lock = NSLock()

    func lookup(_ images: Tensor) -> Tensor? {
        lock.lock()
        defer { lock.unlock() }
        return entries.first { $0.input == images }?.output
    }

    func store(_ images: Tensor, _ denoised: Tensor) {
        lock.lock()
        defer { lock.unlock() }
        entries.append((images, denoised))
    }
}
