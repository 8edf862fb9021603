#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The package's one source of randomness: SplitMix64 (Steele, Lea and Flood 2014), seeded explicitly.
///
/// Same seed, same sequence, on every machine. A run's generators come from `init(seed:purpose:index:)`
/// and the table of named purposes in `RandomStreams.swift` (one per image for noise, one per epoch for
/// shuffling, ...), so results do not depend on the order in which work is scheduled and no two purposes
/// draw the same numbers. `init(seed:)` is for tests, benchmarks and synthetic problems.
public struct SeededGenerator: RandomNumberGenerator, Sendable, Equatable {
    public private(set) var state: UInt64
    private var spareGaussian: Float?

    public init(seed: UInt64) {
        state = seed
        spareGaussian = nil
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func nextUniform() -> Float {
        Float(next() >> 40) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUniformDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Standard normal sample (Box-Muller; the second value of each pair is kept for the next call).
    public mutating func nextGaussian() -> Float {
        if let spare = spareGaussian {
            spareGaussian = nil
            return spare
        }
        var u1 = nextUniformDouble()
        while u1 <= .leastNormalMagnitude { u1 = nextUniformDouble() }
        let u2 = nextUniformDouble()
        let radius = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spareGaussian = Float(radius * sin(angle))
        return Float(radius * cos(angle))
    }

    /// Uniform integer in 0..<upperBound.
    public mutating func nextInt(below upperBound: Int) -> Int {
        precondition(upperBound > 0, "SeededGenerator.nextInt: upper bound \(upperBound) must be positive")
        return Int(next(upperBound: UInt64(upperBound)))
    }

    /// A uniformly random permutation of 0..<count (Fisher-Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        if count < 2 { return order }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = nextInt(below: i + 1)
            order.swapAt(i, j)
        }
        return order
    }
}

