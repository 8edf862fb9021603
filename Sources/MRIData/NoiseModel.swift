import Foundation
import Tensor

/// The paper's noise models (PAPER.md "Noise"), on the 0...255 scale of the authors' uint8 images and
/// clipped back to [0, 1]. With x in [0, 1] and n, n1, n2 ~ N(0, 1):
///
/// - `gaussian(sigma)`:          x' = clip(x + sigma n / 255)                       (paper: sigma = 32)
/// - `ricianAuthors(scale)`:     x' = clip(x + scale |1 + n1 + i n2| / 255)          (authors' code: scale = 16)
///   an additive, positive field of Rice(b = 1, scale = 1) samples: mean 16 x 1.549 = 24.8, std 16 x 0.775 = 12.4;
/// - `ricianMagnitude(sigma)`:   x' = clip(sqrt((255 x + sigma n1)^2 + (sigma n2)^2) / 255)   (MRI physics:
///   the magnitude of a complex signal with Gaussian noise in both channels).
///
/// Noise for an image depends only on (seed, the image's `sourceID`): the stream
/// (seed, `.imageNoise`, sourceID), never on order or thread count. `sameFieldForEveryImage` reproduces the
/// authors' quirk (their generator was re-seeded before every image, so every image got the same field):
/// then every image uses stream 0.
public struct NoiseModel: Codable, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Codable, Equatable, Sendable {
        case none
        case gaussian(sigma: Float)
        case ricianAuthors(scale: Float)
        case ricianMagnitude(sigma: Float)
    }

    public var kind: Kind
    public var sameFieldForEveryImage: Bool

    public init(kind: Kind, sameFieldForEveryImage: Bool = false) {
        self.kind = kind
        self.sameFieldForEveryImage = sameFieldForEveryImage
    }

    public static let none = NoiseModel(kind: .none)
    public static func gaussian(sigma: Float = 32, sameFieldForEveryImage: Bool = false) -> NoiseModel {
        NoiseModel(kind: .gaussian(sigma: sigma), sameFieldForEveryImage: sameFieldForEveryImage)
    }
    public static func ricianAuthors(scale: Float = 16, sameFieldForEveryImage: Bool = false) -> NoiseModel {
        NoiseModel(kind: .ricianAuthors(scale: scale), sameFieldForEveryImage: sameFieldForEveryImage)
    }
    public static func ricianMagnitude(sigma: Float = 32, sameFieldForEveryImage: Bool = false) -> NoiseModel {
        NoiseModel(kind: .ricianMagnitude(sigma: sigma), sameFieldForEveryImage: sameFieldForEveryImage)
    }

    public var description: String {
        let quirk = sameFieldForEveryImage ? ", same field for every image" : ""
        switch kind {
        case .none: return "no noise"
        case .gaussian(let sigma): return "Gaussian sigma \(sigma)/255\(quirk)"
        case .ricianAuthors(let scale): return "Rician (authors' additive field) scale \(scale)/255\(quirk)"
        case .ricianMagnitude(let sigma): return "Rician magnitude sigma \(sigma)/255\(quirk)"
        }
    }

    /// The generator of the image with `sourceID`.
    func generator(seed: UInt64, sourceID: Int) -> SeededGenerator {
        sameFieldForEveryImage
            ? SeededGenerator(seed: seed, purpose: .sharedNoiseField)
            // A (user-given, possibly negative) id as its low 48 bits.
            : SeededGenerator(seed: seed, purpose: .imageNoise, index: UInt64(bitPattern: Int64(sourceID)) & (SeededGenerator.streamIndexLimit - 1))
    }

    /// Adds noise to one image's pixels (values in [0, 1]) in place, drawing from `generator` in pixel order.
    public func apply(to pixels: inout ArraySlice<Float>, generator: inout SeededGenerator) {
        switch kind {
        case .none:
            return
        case .gaussian(let sigma):
            for i in pixels.indices { pixels[i] += sigma * generator.nextGaussian() / 255 }
        case .ricianAuthors(let scale):
            for i in pixels.indices {
                let real = 1 + generator.nextGaussian(), imaginary = generator.nextGaussian()
                pixels[i] += scale * (real * real + imaginary * imaginary).squareRoot() / 255
            }
        case .ricianMagnitude(let sigma):
            for i in pixels.indices {
                let real = 255 * pixels[i] + sigma * generator.nextGaussian()
                let imaginary = sigma * generator.nextGaussian()
                pixels[i] = (real * real + imaginary * imaginary).squareRoot() / 255
            }
        }
        for i in pixels.indices { pixels[i] = Swift.min(Swift.max(pixels[i], 0), 1) }
    }

    /// The dataset with noise added to the images at `indices` (others unchanged). Image i's noise comes
    /// from stream `dataset.sourceIDs[i]` of `seed`; work is split over `threads` without changing results.
    public func applied(to dataset: MRIDataset, indices: [Int], seed: UInt64, threads: Int = 2) -> MRIDataset {
        if case .none = kind { return dataset }
        var noisy = dataset
        let pixels = dataset.images.itemCount
        let ids = dataset.sourceIDs
        noisy.images.withUnsafeMutableBufferPointer { buffer in
            let shared = UncheckedSendable(buffer)
            Parallel.forEachChunk(count: indices.count, chunks: threads) { _, range in
                for k in range {
                    let i = indices[k]
                    precondition(i >= 0 && i < ids.count, "NoiseModel.applied: index \(i) outside 0..<\(ids.count)")
                    var generator = generator(seed: seed, sourceID: ids[i])
                    var slice = Array(shared.value[(i * pixels)..<((i + 1) * pixels)])[...]
                    apply(to: &slice, generator: &generator)
                    for j in 0..<pixels { shared.value[i * pixels + j] = slice[slice.startIndex + j] }
                }
            }
        }
        return noisy
    }
}
