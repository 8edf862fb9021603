/// Every source of chance in RobustMRI, in one table (STYLE.md habit 12: randomness by name).
///
/// A random stream is named by (seed, purpose, index): `SeededGenerator(seed:purpose:index:)`. The purpose's
/// reserved id and the index form a 64-bit key `id << 48 | index`; the key, multiplied by an odd constant,
/// is added to a mix of the seed and the sum is mixed again. Both mixes and the odd multiplication are
/// bijections of UInt64, so for one seed two different (purpose, index) pairs always start from two
/// different generator states: no two purposes can draw the same numbers, whatever their indices (which
/// used to happen when ids were plain numbers: image 1000's noise and epoch 0's shuffle shared one).
/// Indices must be below 2^48.
///
/// To add a purpose: give it the next unused id here, and never reuse or renumber an id (that would change
/// the numbers of every run that uses it).
public enum RandomPurpose: UInt16, CaseIterable, Sendable, CustomStringConvertible {
    /// The CNN's initial weights (index 0).
    case modelInitialisation = 1
    /// The order of the training images in epoch `index` (0-based).
    case epochShuffle = 2
    /// The horizontal flips of epoch `index`.
    case epochFlips = 3
    /// FGSM's uniform random start in epoch `index` (adversarial training).
    case adversarialStart = 4
    /// The noise field of the image with source id `index` (training, validation and test images alike).
    case imageNoise = 5
    /// The one noise field every image shares under the authors' quirk (`--same-noise-field`), index 0.
    case sharedNoiseField = 6
    /// Which test images are noisy at each rho (index 0: one order, its first round(rho n) are noisy).
    case testNoiseChoice = 7
    /// Which patients (or images) form the test set when the data has no folds (index 0).
    case holdoutTestChoice = 8
    /// Which patients (or images) of the training folds form the validation set (index 0).
    case validationChoice = 9
    /// LiSSA's mini-batch draws, repetition `index`.
    case lissaSampling = 10
    /// The Noise2Void U-Net's initial weights (index 0).
    case noise2VoidInitialisation = 11
    /// Noise2Void's patches, flips and blind-spot masks in denoiser epoch `index`.
    case noise2VoidPatches = 12
    /// The phantom generator's patients, classes and folds (index 0).
    case phantomLayout = 13
    /// The phantom head and tumour of patient `index`.
    case phantomPatient = 14
    /// Slice `index` of the phantom dataset.
    case phantomSlice = 15
    /// The method's version of the example images shown in figures (AT's attack; index 0).
    case figureExamples = 16
    /// The training images over which precise BatchNorm statistics are recomputed when not all are used (index 0).
    case preciseStatisticsSubset = 17
    /// The random start of the robust-accuracy attacks on the validation set in epoch `index`.
    case robustAccuracyAttack = 18
    /// Points drawn at random for the leave-one-out check of influence (index 0).
    case leaveOneOutChoice = 19

    public var description: String {
        switch self {
        case .modelInitialisation: return "model initialisation"
        case .epochShuffle: return "epoch shuffle"
        case .epochFlips: return "epoch flips"
        case .adversarialStart: return "adversarial random start"
        case .imageNoise: return "image noise"
        case .sharedNoiseField: return "shared noise field"
        case .testNoiseChoice: return "test-noise choice"
        case .holdoutTestChoice: return "hold-out test choice"
        case .validationChoice: return "validation choice"
        case .lissaSampling: return "LiSSA sampling"
        case .noise2VoidInitialisation: return "Noise2Void initialisation"
        case .noise2VoidPatches: return "Noise2Void patches"
        case .phantomLayout: return "phantom layout"
        case .phantomPatient: return "phantom patient"
        case .phantomSlice: return "phantom slice"
        case .figureExamples: return "figure examples"
        case .preciseStatisticsSubset: return "precise-statistics subset"
        case .robustAccuracyAttack: return "robust-accuracy attack"
        case .leaveOneOutChoice: return "leave-one-out choice"
        }
    }
}

extension SeededGenerator {
    /// The largest index a purpose can take (exclusive).
    public static let streamIndexLimit: UInt64 = 1 << 48

    /// The 64-bit key of (purpose, index): distinct pairs give distinct keys.
    public static func streamKey(_ purpose: RandomPurpose, index: UInt64) -> UInt64 {
        precondition(index < streamIndexLimit, "SeededGenerator: stream index \(index) of \(purpose) must be below 2^48")
        return UInt64(purpose.rawValue) << 48 | index
    }

    /// The generator of stream (`seed`, `purpose`, `index`); see `RandomPurpose`. For one seed, the
    /// starting state is a bijection of the key, so different purposes or indices never coincide.
    public init(seed: UInt64, purpose: RandomPurpose, index: UInt64 = 0) {
        let key = Self.streamKey(purpose, index: index)
        let seedMix = Self.mix(seed ^ 0x6A09_E667_F3BC_C909)
        self.init(seed: Self.mix(seedMix &+ key &* 0xD1B5_4A32_D192_ED03))
    }

    /// As `init(seed:purpose:index:)` with an integer index (a source id, an epoch); must be non-negative.
    public init(seed: UInt64, purpose: RandomPurpose, index: Int) {
        precondition(index >= 0, "SeededGenerator: stream index \(index) of \(purpose) must be non-negative")
        self.init(seed: seed, purpose: purpose, index: UInt64(index))
    }

    /// SplitMix64's finaliser (Stafford's mix 13): a bijection of UInt64.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
