import CKernels
import Foundation

/// The instruction-set path of the hand-written kernels that are not GEMM (`Sources/CKernels`: the first layer's
/// direct convolution, im2col, the fused BatchNorm-ReLU-max-pool, BatchNorm's sums, Adam).
///
/// Swift code is compiled for baseline x86-64 (SSE2), so these kernels are C compiled once per path and one is chosen
/// at run time: the best this CPU supports, or the one `ROBUSTMRI_KERNEL_ISA` names (`default`, `avx2`, `avx512`)
/// when the CPU supports it. Every path computes the same bytes (16-lane vectors on each, no fused multiply-add), so
/// the choice changes speed only; on aarch64 there is the default path alone.
public enum KernelISA: String, CaseIterable, Sendable {
    case baseline = "default"
    case avx2
    case avx512

    /// The variable that forces a path, read once.
    public static let environmentVariable = "ROBUSTMRI_KERNEL_ISA"

    /// The path every kernel takes unless told otherwise.
    public static let active = chosen(requested: ProcessInfo.processInfo.environment[environmentVariable])

    /// The paths this CPU (and operating system) can run, slowest first.
    public static let supported = allCases.filter { ck_isa_supported($0.code) != 0 }

    /// `requested` when it names a path this CPU supports, else the best supported path.
    public static func chosen(requested: String?) -> KernelISA {
        if let requested, let isa = KernelISA(rawValue: requested), isa.isSupported { return isa }
        return supported.last ?? .baseline
    }

    /// A line for the user when `ROBUSTMRI_KERNEL_ISA` is set but not followed (an unknown name, or a path this
    /// CPU cannot run); nil otherwise.
    public static func environmentWarning(requested: String? = ProcessInfo.processInfo.environment[environmentVariable]) -> String? {
        guard let requested, chosen(requested: requested).rawValue != requested else { return nil }
        let known = allCases.map(\.rawValue).joined(separator: ", ")
        let reason = KernelISA(rawValue: requested) == nil ? "not one of \(known)" : "not supported by this CPU"
        return "\(environmentVariable)=\(requested) is \(reason): the kernels use \(chosen(requested: requested).rawValue)"
    }

    public var isSupported: Bool { Self.supported.contains(self) }

    /// This path's kernels (call only for a supported path).
    package var kernels: ck_kernels {
        precondition(isSupported, "KernelISA: \(rawValue) is not supported by this CPU")
        return ck_kernels_for(code).pointee
    }

    private var code: Int32 {
        switch self {
        case .baseline: Int32(CK_ISA_DEFAULT)
        case .avx2: Int32(CK_ISA_AVX2)
        case .avx512: Int32(CK_ISA_AVX512)
        }
    }
}
