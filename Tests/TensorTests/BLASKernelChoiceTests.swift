import Foundation
import Testing
@testable import Tensor

/// The choice of OpenBLAS kernels where its detection falls back to SSE3 (an unknown, newer CPU).
@Suite struct BLASKernelChoiceTests {
    let avx512: Set<String> = ["sse2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
    let avx2: Set<String> = ["sse2", "avx", "avx2", "fma"]

    @Test func aFallbackFamilyOnAnAVXCapableCPUGetsTheBestFamilyTheCPURuns() {
        #expect(BLAS.preferredCoreType(current: "Prescott", cpuFlags: avx512) == "SkylakeX")
        #expect(BLAS.preferredCoreType(current: "Prescott", cpuFlags: avx2) == "Haswell")
        #expect(BLAS.preferredCoreType(current: "Sandybridge", cpuFlags: avx2) == "Haswell")
        // AVX-512 F alone (no BW/DQ/VL, e.g. Knights Landing) is not enough for SkylakeX's kernels.
        #expect(BLAS.preferredCoreType(current: "Prescott", cpuFlags: avx2.union(["avx512f"])) == "Haswell")
    }

    @Test func aRecognisedCPUOrOneWithoutAVX2KeepsOpenBLASsChoice() {
        #expect(BLAS.preferredCoreType(current: "Haswell", cpuFlags: avx512) == nil)
        #expect(BLAS.preferredCoreType(current: "Zen", cpuFlags: avx2) == nil)
        #expect(BLAS.preferredCoreType(current: "SkylakeX", cpuFlags: avx512) == nil)
        #expect(BLAS.preferredCoreType(current: "Prescott", cpuFlags: ["sse2", "sse3", "avx"]) == nil)
        #expect(BLAS.preferredCoreType(current: "Prescott", cpuFlags: []) == nil)
    }

    @Test func cpuFlagsAreReadFromTheFlagsLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cpuinfo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu sse2 avx2 fma\nbugs\t\t: spectre_v1\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(BLAS.cpuFlags(cpuinfo: path) == ["fpu", "sse2", "avx2", "fma"])
        #expect(BLAS.cpuFlags(cpuinfo: path + ".missing").isEmpty)
    }

    @Test func cpuInfoFieldsMatchTheWholeKey() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cpuinfo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "processor\t: 0\ncpu family\t: 6\nmodel name\t: Test CPU\nmodel\t\t: 207\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(BLAS.cpuInfoField("model", cpuinfo: path) == "207")
        #expect(BLAS.cpuInfoField("model name", cpuinfo: path) == "Test CPU")
        #expect(BLAS.cpuInfoField("cpu family", cpuinfo: path) == "6")
        #expect(BLAS.cpuInfoField("flags", cpuinfo: path) == nil)
        #expect(BLAS.cpuInfoField("model", cpuinfo: path + ".missing") == nil)
    }

    @Test func theLibraryNamesTheFamilyItRuns() {
        // Whatever the machine: a non-empty name OpenBLAS knows, and with OPENBLAS_CORETYPE set, that family.
        #expect(!BLAS.coreName.isEmpty && BLAS.coreName != "unknown")
        if let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] {
            #expect(BLAS.coreName.lowercased() == forced.lowercased())
        }
    }
}
