import Tensor

/// Concatenation along the channel axis (PyTorch's `torch.cat([a, b], dim=1)`), the U-Net's skip join.
///
///     out[n, 0..<Ca] = a[n],  out[n, Ca..<Ca+Cb] = b[n];   backward splits dout the same way.
///
/// a: [N, Ca, H, W], b: [N, Cb, H, W] -> out: [N, Ca + Cb, H, W].
public enum Concatenate {
    public static func forward(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.rank == 4 && b.rank == 4 && a.shape[0] == b.shape[0] && Array(a.shape[2...]) == Array(b.shape[2...]),
                     "Concatenate: shapes \(a.shape) and \(b.shape) must agree except in channels")
        let n = a.shape[0], sa = a.count / Swift.max(n, 1), sb = b.count / Swift.max(n, 1)
        return makeTensor(shape: [n, a.shape[1] + b.shape[1], a.shape[2], a.shape[3]]) { y in
            withPointer(a) { pa in
                withPointer(b) { pb in
                    for i in 0..<n {
                        (y + i * (sa + sb)).update(from: pa + i * sa, count: sa)
                        (y + i * (sa + sb) + sa).update(from: pb + i * sb, count: sb)
                    }
                }
            }
        }
    }

    /// dout: [N, Ca + Cb, H, W] -> (da: [N, Ca, H, W], db: [N, Cb, H, W]).
    public static func backward(dout: Tensor, firstChannels: Int) -> (da: Tensor, db: Tensor) {
        precondition(dout.rank == 4 && (0...dout.shape[1]).contains(firstChannels),
                     "Concatenate.backward: cannot split dout \(dout.shape) after \(firstChannels) channels")
        let n = dout.shape[0], plane = dout.shape[2] * dout.shape[3]
        let sa = firstChannels * plane, sb = (dout.shape[1] - firstChannels) * plane
        let da = makeTensor(shape: [n, firstChannels, dout.shape[2], dout.shape[3]]) { y in
            withPointer(dout) { d in for i in 0..<n { (y + i * sa).update(from: d + i * (sa + sb), count: sa) } }
        }
        let db = makeTensor(shape: [n, dout.shape[1] - firstChannels, dout.shape[2], dout.shape[3]]) { y in
            withPointer(dout) { d in for i in 0..<n { (y + i * sb).update(from: d + i * (sa + sb) + sa, count: sb) } }
        }
        return (da, db)
    }
}
