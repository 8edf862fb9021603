import CKernels
import Testing
import Tensor

/// The instruction-set paths of the C kernels: which run here, and, for im2col and the reductions, that every path
/// this CPU supports computes the same bytes as the others and as the definition (`KernelPathTests` in NNTests
/// holds the layers' kernels to their references).
@Suite struct KernelISATests {
    @Test func theDefaultPathAlwaysRunsAndTheActivePathIsSupported() {
        #expect(KernelISA.supported.first == .baseline)
        #expect(KernelISA.active.isSupported)
    }

    /// The run-time check (cpuid and the operating system's saved state) agrees with the kernel's flags.
    @Test func theSupportedPathsAgreeWithTheCPUFlags() {
        let flags = BLAS.cpuFlags()
        #if arch(x86_64)
        #expect(KernelISA.avx2.isSupported == flags.contains("avx2"))
        #expect(KernelISA.avx512.isSupported == ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains))
        #else
        #expect(KernelISA.supported == [.baseline])
        #endif
    }

    @Test func aRequestIsFollowedOnlyWhenItNamesASupportedPath() throws {
        let best = try #require(KernelISA.supported.last)
        #expect(KernelISA.chosen(requested: nil) == best)
        #expect(KernelISA.chosen(requested: "sse9") == best)
        for isa in KernelISA.supported { #expect(KernelISA.chosen(requested: isa.rawValue) == isa) }
        for isa in KernelISA.allCases where !isa.isSupported { #expect(KernelISA.chosen(requested: isa.rawValue) == best) }
        #expect(KernelISA.environmentWarning(requested: nil) == nil)
        #expect(KernelISA.environmentWarning(requested: "default") == nil)
        #expect(KernelISA.environmentWarning(requested: "sse9")?.contains("not one of default, avx2, avx512") == true)
    }

    /// Channels, height, width, kernel, padding, output rows: widths below 4, 8 and 16 lanes, at and past 16, paddings
    /// of `.valid`, `.same` and the input gradient's K - 1 - P (wider than the image too), and row ranges that start
    /// or end inside the padding.
    static let im2colCases: [(Int, Int, Int, Int, Int, Range<Int>?)] = [
        (1, 5, 7, 3, 1, nil), (2, 9, 16, 3, 1, nil), (3, 8, 17, 5, 0, nil), (2, 11, 37, 5, 2, 3..<6),
        (1, 6, 33, 3, 2, nil), (4, 13, 12, 1, 0, 2..<9), (2, 7, 40, 5, 4, 0..<1), (3, 4, 4, 3, 1, nil),
        (2, 8, 8, 5, 2, 1..<7), (2, 3, 5, 5, 4, nil), (1, 2, 3, 5, 2, nil), (2, 12, 6, 3, 1, 9..<12),
    ]

    @Test(arguments: im2colCases)
    func im2colOfEveryPathEqualsTheDefinition(_ shape: (Int, Int, Int, Int, Int, Range<Int>?)) {
        let (c, h, w, k, p, rows) = shape
        let wo = w + 2 * p - k + 1, ho = h + 2 * p - k + 1
        let outputRows = rows ?? 0..<ho
        var generator = SeededGenerator(seed: 1)
        let image = Tensor(randomUniform: [c, h, w], low: -1, high: 1, generator: &generator)
        let count = c * k * k * outputRows.count * wo
        func packed(_ pack: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
            var columns = [Float](repeating: .nan, count: count)  // an entry left unwritten stays NaN and fails ==
            image.withUnsafeBufferPointer { x in columns.withUnsafeMutableBufferPointer { pack(x.baseAddress!, $0.baseAddress!) } }
            return columns
        }
        let reference = packed {
            Im2col.naivePack(image: $0, channels: c, height: h, width: w, kernelSize: k, padding: p, outputWidth: wo,
                             outputRows: outputRows, columns: $1)
        }
        for isa in KernelISA.supported {
            let columns = packed {
                Im2col.pack(image: $0, channels: c, height: h, width: w, kernelSize: k, padding: p, outputWidth: wo,
                            outputRows: outputRows, columns: $1, isa: isa)
            }
            #expect(columns == reference, "\(isa) \(shape)")
        }
    }

    /// Two images' column matrices side by side in one [C*K*K, 2 * rows * Wo] matrix (`leadingDimension`): each path
    /// writes exactly the definition's entries into its own half, and nothing between the rows.
    @Test(arguments: im2colCases)
    func im2colWithALeadingDimensionFillsItsBlockOfAWiderMatrix(_ shape: (Int, Int, Int, Int, Int, Range<Int>?)) {
        let (c, h, w, k, p, rows) = shape
        let wo = w + 2 * p - k + 1, ho = h + 2 * p - k + 1
        let outputRows = rows ?? 0..<ho
        let dense = outputRows.count * wo, ld = 2 * dense + 3
        var generator = SeededGenerator(seed: 2)
        let images = Tensor(randomUniform: [2, c, h, w], low: -1, high: 1, generator: &generator)
        func packed(_ pack: (UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
            var columns = [Float](repeating: 7_777, count: c * k * k * ld)  // a sentinel where nothing may be written
            images.withUnsafeBufferPointer { x in columns.withUnsafeMutableBufferPointer { pack(x.baseAddress!, $0.baseAddress!) } }
            return columns
        }
        let reference = packed { x, out in
            for i in 0..<2 {
                Im2col.naivePack(image: x + i * c * h * w, channels: c, height: h, width: w, kernelSize: k, padding: p,
                                 outputWidth: wo, outputRows: outputRows, columns: out + i * dense, leadingDimension: ld)
            }
        }
        #expect(reference.filter { $0 == 7_777 }.count == c * k * k * 3)
        for isa in KernelISA.supported {
            let columns = packed { x, out in
                for i in 0..<2 {
                    Im2col.pack(image: x + i * c * h * w, channels: c, height: h, width: w, kernelSize: k, padding: p,
                                outputWidth: wo, outputRows: outputRows, columns: out + i * dense, leadingDimension: ld, isa: isa)
                }
            }
            #expect(columns == reference, "\(isa) \(shape)")
        }
    }

    /// Float32 summation of n terms is within (n - 1) u sum|term| of the exact sum (u = 2^-24, the unit roundoff),
    /// whatever the order; forming a term (a product, or a difference squared) adds at most 3 u |term|.
    static func roundingBound(terms n: Int, absoluteSum: Double) -> Double {
        Double(n + 3) * Double(Float.ulpOfOne) / 2 * absoluteSum
    }

    @Test(arguments: [0, 1, 15, 16, 17, 31, 32, 33, 48, 100, 1_000, 4_099])
    func reductionsOfEveryPathAreTheSameBytesAndWithinTheRoundingBound(n: Int) {
        var generator = SeededGenerator(seed: UInt64(n) + 2)
        let a = Tensor(randomUniform: [n], low: -1, high: 3, generator: &generator).scalars
        let b = Tensor(randomUniform: [n], low: -2, high: 2, generator: &generator).scalars
        let mu: Float = 0.7
        let exactSum = a.reduce(0.0) { $0 + Double($1) }
        let exactDot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let exactSquares = a.reduce(0.0) { $0 + (Double($1) - Double(mu)) * (Double($1) - Double(mu)) }
        var first: [Float]?
        for isa in KernelISA.supported {
            let kernels = isa.kernels
            let results = a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let x = pa.baseAddress ?? UnsafePointer(bitPattern: 8)!, y = pb.baseAddress ?? UnsafePointer(bitPattern: 8)!
                    return [kernels.sum(x, n), kernels.dot(x, y, n), kernels.centred_squares(x, n, mu)]
                }
            }
            #expect(abs(Double(results[0]) - exactSum) <= Self.roundingBound(terms: n, absoluteSum: a.reduce(0.0) { $0 + Double(abs($1)) }), "\(isa) sum")
            #expect(abs(Double(results[1]) - exactDot)
                    <= Self.roundingBound(terms: n, absoluteSum: zip(a, b).reduce(0.0) { $0 + abs(Double($1.0) * Double($1.1)) }), "\(isa) dot")
            #expect(abs(Double(results[2]) - exactSquares) <= Self.roundingBound(terms: n, absoluteSum: exactSquares), "\(isa) squares")
            if let first {
                #expect(results.map(\.bitPattern) == first.map(\.bitPattern), "\(isa) differs from \(KernelISA.baseline)")
            } else {
                first = results
            }
        }
    }
}
