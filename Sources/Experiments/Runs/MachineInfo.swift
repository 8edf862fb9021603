import Foundation
import Tensor

/// The machine a result was measured on, recorded beside every timing.
public struct MachineInfo: Codable, Sendable, Equatable {
    public var cpu: String
    public var cores: Int
    public var memoryGiB: Double
    public var system: String
    /// The kernel family OpenBLAS ran (`BLAS.coreName`, e.g. "SkylakeX"); nil in records written before it was kept.
    public var blasKernels: String?
    /// The instruction-set path of the C kernels (`KernelISA.active`, e.g. "avx512"); nil in records written before
    /// it was kept. Every path computes the same bytes: it tells speed only.
    public var kernelISA: String?

    public static func current() -> MachineInfo {
        let cpu = BLAS.cpuInfoField("model name") ?? "unknown CPU"
        let info = ProcessInfo.processInfo
        return MachineInfo(cpu: cpu, cores: info.activeProcessorCount,
                           memoryGiB: (Double(info.physicalMemory) / 1_073_741_824 * 10).rounded() / 10,
                           system: info.operatingSystemVersionString, blasKernels: BLAS.coreName,
                           kernelISA: KernelISA.active.rawValue)
    }

    public var description: String {
        "\(cpu), \(cores) cores, \(memoryGiB) GiB, \(system)" + (blasKernels.map { ", OpenBLAS kernels \($0)" } ?? "")
            + (kernelISA.map { ", kernels \($0)" } ?? "")
    }
}
