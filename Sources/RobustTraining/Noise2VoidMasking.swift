import Tensor

/// Noise2Void's blind-spot masking (Krull, Buchholz and Jug 2019, Sec. 3): in each training patch a
/// few pixels are chosen, their input values replaced by a random neighbour's, and the loss is taken
/// only at those pixels against their original (noisy) values. A network that cannot see a pixel's
/// own value cannot learn the identity, so with zero-mean pixel-independent noise it learns E[clean].
///
/// Reference defaults: 0.198% of a patch's pixels (at least one), each replaced by a uniformly drawn
/// pixel of the (2r+1)^2 window around it, r = 5, never the pixel itself, and inside the patch.
public struct BlindSpotMask: Sendable, Equatable {
    /// Masked positions as flat indices into one [P, P] patch plane.
    public var positions: [Int]
    /// The flat index whose value replaced each masked position's input.
    public var sources: [Int]

    /// Pixels to mask in a patch of `pixelCount`: max(1, floor(fraction * count)) (N2V: 8 at 64 x 64).
    public static func maskedCount(pixelCount: Int, fraction: Double) -> Int {
        Swift.max(1, Int((fraction * Double(pixelCount)).rounded(.down)))
    }

    /// Draws a mask for a `side` x `side` patch: distinct positions uniformly, then for each a
    /// neighbour (dy, dx) in [-r, r]^2 \ {(0, 0)} inside the patch (redrawn until it is).
    public static func draw(side: Int, fraction: Double, radius: Int, generator: inout SeededGenerator) -> BlindSpotMask {
        precondition(side >= 2 && radius >= 1, "BlindSpotMask: side \(side) must be >= 2 and radius \(radius) >= 1")
        let pixels = side * side
        let count = Swift.min(pixels, maskedCount(pixelCount: pixels, fraction: fraction))
        var chosen = Set<Int>()
        var positions: [Int] = []
        while positions.count < count {
            let p = generator.nextInt(below: pixels)
            if chosen.insert(p).inserted { positions.append(p) }
        }
        var sources: [Int] = []
        for p in positions {
            let y = p / side, x = p % side
            while true {
                let dy = generator.nextInt(below: 2 * radius + 1) - radius
                let dx = generator.nextInt(below: 2 * radius + 1) - radius
                let sy = y + dy, sx = x + dx
                if (dy != 0 || dx != 0) && (0..<side).contains(sy) && (0..<side).contains(sx) {
                    sources.append(sy * side + sx)
                    break
                }
            }
        }
        return BlindSpotMask(positions: positions, sources: sources)
    }

    /// The network input: `patch` with each masked pixel replaced by its source's value (sources read
    /// from the unmasked patch). patch: [P * P] values of one plane.
    public func applied(to patch: [Float]) -> [Float] {
        var out = patch
        for (p, s) in zip(positions, sources) { out[p] = patch[s] }
        return out
    }
}

/// The N2V loss: mean squared error at the masked pixels only, against the unmasked noisy patch.
///
///     L = (1/M) sum_{(i, p) masked} (f(x~_i)[p] - x_i[p])^2,   dL/df[i, p] = 2 (f[i, p] - x_i[p]) / M
///
/// prediction, target: [B, 1, P, P]; masks: one per patch; M = total masked pixels.
public enum MaskedMSE {
    public static func evaluate(prediction: Tensor, target: Tensor, masks: [BlindSpotMask]) -> (loss: Float, dprediction: Tensor) {
        precondition(prediction.shape == target.shape && prediction.rank == 4 && prediction.shape[0] == masks.count,
                     "MaskedMSE: prediction \(prediction.shape), target \(target.shape), \(masks.count) masks")
        let plane = prediction.shape[1] * prediction.shape[2] * prediction.shape[3]
        let m = masks.reduce(0) { $0 + $1.positions.count }
        var gradient = Tensor(zeros: prediction.shape)
        var total = 0.0
        for (i, mask) in masks.enumerated() {
            for p in mask.positions {
                let j = i * plane + p
                let r = prediction.scalars[j] - target.scalars[j]
                total += Double(r * r)
                gradient.scalars[j] = 2 * r / Float(Swift.max(m, 1))
            }
        }
        return (Float(total / Double(Swift.max(m, 1))), gradient)
    }
}
