import Tensor

/// The authors' only augmentation: random horizontal flips.
public enum Augmentation {
    /// Mirrors image i left-right where `flags[i]` is true. images: [N, C, H, W].
    public static func flipHorizontally(_ images: inout Tensor, where flags: [Bool]) {
        precondition(images.rank == 4 && images.shape[0] == flags.count,
                     "flipHorizontally: \(flags.count) flags for images \(images.shape)")
        let plane = images.shape[1] * images.shape[2]
        let w = images.shape[3]
        let itemSize = plane * w
        images.withUnsafeMutableBufferPointer { x in
            for (i, flip) in flags.enumerated() where flip {
                for row in 0..<plane {
                    let base = i * itemSize + row * w
                    var a = base, b = base + w - 1
                    while a < b {
                        x.swapAt(a, b)
                        a += 1
                        b -= 1
                    }
                }
            }
        }
    }
}
