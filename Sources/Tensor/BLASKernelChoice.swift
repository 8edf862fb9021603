import CBLAS
import Foundation

/// Which kernel family OpenBLAS runs, and a better one where its own detection falls short.
///
/// Debian's OpenBLAS (0.3.21, built with DYNAMIC_ARCH) picks its kernels once, when the library loads, from the
/// CPU's family and model. A CPU newer than the library is not recognised and gets the fallback, the SSE3
/// "Prescott" kernels: measured on an Intel Xeon of family 6 model 207 (Emerald Rapids, AVX-512), where sgemm then
/// ran on 128-bit registers. OpenBLAS reads `OPENBLAS_CORETYPE` at load time to override the choice, so the
/// command-line tool re-executes itself once with it set (`preferredCoreType`); a value the user set is kept.
extension BLAS {
    /// The kernel family OpenBLAS is running, e.g. "Haswell", "SkylakeX", "Zen" or "Prescott".
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    /// OpenBLAS's kernel families that use no AVX2/FMA (x86-64 only): when the CPU has AVX2 and FMA but OpenBLAS
    /// runs one of these, its detection did not know the CPU.
    static let familiesWithoutAVX2: Set<String> = [
        "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "sandybridge", "katmai", "coppermine",
        "northwood", "banias", "opteron", "opteron_sse3", "barcelona", "bobcat", "nano", "bulldozer", "piledriver",
        "steamroller", "excavator",
    ]

    /// The `OPENBLAS_CORETYPE` to run with instead of `current`, for a CPU with the given `/proc/cpuinfo` flags:
    /// "SkylakeX" with AVX-512 (F, CD, BW, DQ, VL), "Haswell" with AVX2 and FMA; nil when `current` already uses
    /// AVX2 (or the CPU has neither), so that a recognised CPU keeps OpenBLAS's own choice.
    public static func preferredCoreType(current: String, cpuFlags: Set<String>) -> String? {
        guard familiesWithoutAVX2.contains(current.lowercased()) else { return nil }
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(cpuFlags.contains) { return "SkylakeX" }
        if cpuFlags.contains("avx2") && cpuFlags.contains("fma") { return "Haswell" }
        return nil
    }

    /// The CPU's feature flags from `/proc/cpuinfo` (empty where there is none, e.g. not Linux or not x86-64).
    public static func cpuFlags(cpuinfo path: String = "/proc/cpuinfo") -> Set<String> {
        Set((cpuInfoField("flags", cpuinfo: path) ?? "").split(separator: " ").map(String.init))
    }

    /// The value of the first `/proc/cpuinfo` line whose key is `key` ("flags", "model name", "cpu family",
    /// "model"), trimmed; nil where there is none.
    public static func cpuInfoField(_ key: String, cpuinfo path: String = "/proc/cpuinfo") -> String? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":"), line[..<colon].trimmingCharacters(in: .whitespaces) == key else { continue }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    /// For a program's start, before any BLAS call: when `OPENBLAS_CORETYPE` is unset and OpenBLAS chose a family
    /// without AVX2 on a CPU that has it, sets the variable and replaces the process with a fresh copy of itself
    /// (same arguments, `/proc/self/exe`), in which OpenBLAS loads the better kernels. Returns (and the program goes
    /// on with OpenBLAS's choice) when nothing is to be done or the re-execution fails.
    public static func reexecutingWithPreferredKernels() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let core = preferredCoreType(current: coreName, cpuFlags: cpuFlags()) else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        // Only reached when execv failed: keep OpenBLAS's kernels, and do not pass the variable to child processes.
        unsetenv("OPENBLAS_CORETYPE")
    }
}
