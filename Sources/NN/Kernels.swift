import CKernels
import Tensor

/// Small vector kernels shared by the layers: the C kernels of `KernelISA` (16-lane partial sums in a fixed order,
/// so results depend only on the data, never on scheduling or on the instruction-set path).

/// sum_i p[i], for i in 0..<n.
@inline(__always)
func vectorSum(_ p: UnsafePointer<Float>, _ n: Int, isa: KernelISA = .active) -> Float {
    isa.kernels.sum(p, n)
}

/// sum_i a[i] * b[i], for i in 0..<n.
@inline(__always)
func vectorDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int, isa: KernelISA = .active) -> Float {
    isa.kernels.dot(a, b, n)
}

/// A tensor whose scalars are written by `fill` (no zero-filling first: `fill` must write all of them).
@inline(__always)
func makeTensor(shape: [Int], _ fill: (UnsafeMutablePointer<Float>) -> Void) -> Tensor {
    let count = shape.reduce(1, *)
    let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
        if let base = buffer.baseAddress { fill(base) }
        initialized = count
    }
    return Tensor(shape: shape, scalars: scalars)
}

/// Runs `body` with read-only pointers to several tensors' storage.
@inline(__always)
func withPointer<R>(_ t: Tensor, _ body: (UnsafePointer<Float>) -> R) -> R {
    t.withUnsafeBufferPointer { body($0.baseAddress ?? UnsafePointer(bitPattern: 8)!) }
}

@inline(__always)
func withMutablePointer<R>(_ t: inout Tensor, _ body: (UnsafeMutablePointer<Float>) -> R) -> R {
    t.withUnsafeMutableBufferPointer { body($0.baseAddress ?? UnsafeMutablePointer(bitPattern: 8)!) }
}

/// Train/evaluation mode, always passed explicitly (never hidden state): BatchNorm uses batch
/// statistics and updates its running averages in training, the running averages in evaluation.
public enum Mode: String, Sendable, Codable {
    case training, evaluation
}
