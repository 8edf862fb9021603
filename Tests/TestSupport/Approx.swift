import Tensor

/// Named tolerances for numerical tests.
public enum Tolerance {
    /// Float32 kernels against a reference computed the same way.
    public static let float32: Float = 1e-5
    /// Central finite differences on Float32 functions (step 1e-2 to 1e-3): relative error allowed.
    public static let finiteDifference: Float = 2e-2
}

/// True when |a - b| <= absolute + relative * max(|a|, |b|).
public func isClose(_ a: Float, _ b: Float, relative: Float = 1e-5, absolute: Float = 1e-6) -> Bool {
    abs(a - b) <= absolute + relative * max(abs(a), abs(b))
}

/// The worst relative error between two tensors: max |a - b| / (max |b| + floor).
public func relativeError(_ a: Tensor, _ b: Tensor, floor: Float = 1e-8) -> Float {
    precondition(a.shape == b.shape, "relativeError: shapes \(a.shape) and \(b.shape) differ")
    let scale = max(b.scalars.map { abs($0) }.max() ?? 0, floor)
    return a.maxAbsDifference(b) / scale
}
