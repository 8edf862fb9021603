import ArgumentParser
import Experiments
import Foundation
import Influence
import NN
import RobustTraining

extension TrainingMethodKind: ExpressibleByArgument {}
extension ModelVariant: ExpressibleByArgument {}
extension ISRDirection: ExpressibleByArgument {}
extension ISPRanking: ExpressibleByArgument {}
extension ISPStep: ExpressibleByArgument {}
extension ISPRounding: ExpressibleByArgument {}
extension InfluenceSolverKind: ExpressibleByArgument {}

/// Options that decide how the CNN is trained (train, compare, influence and denoise share them). Each one is
/// an override: nil keeps the base configuration's value (train: the library's defaults, `TrainingConfiguration()`;
/// compare: the preset's), and `apply(to:)` is the one place they are applied.
struct TrainingOptions: ParsableArguments {
    /// The library's defaults, for the help texts.
    private static let defaults = TrainingConfiguration()

    @Option(name: .long, help: "Model variant: authors (5x5 valid convolutions, needs >= 156 px), same3x3, or auto (authors when the image is large enough; train's default, and compare's when --image-size is given).")
    var model: ModelVariant?

    @Option(name: .customLong("channels"), parsing: .upToNextOption, help: ArgumentHelp(
        "Channels of the convolution blocks, \(ListSyntax.note) (default: \(TrainingOptions.list(CNNConfiguration.authorsChannels))).",
        valueName: "c1 c2 ..."), transform: { try ListSyntax.items($0, option: "--channels") })
    var channelLists: [[Int]] = []

    @Option(name: .long, help: "Training epochs (default: \(TrainingOptions.defaults.epochs), the authors' code).")
    var epochs: Int?

    @Option(name: .long, help: "Mini-batch size (default: \(TrainingOptions.defaults.batchSize)).")
    var batchSize: Int?

    @Option(name: .long, help: "Adam learning rate (default: \(TrainingOptions.number(TrainingOptions.defaults.learningRate))).")
    var lr: Float?

    @Option(name: [.customLong("seed"), .customLong("seeds")], parsing: .upToNextOption, help: ArgumentHelp(
        "Seed of initialisation, shuffling, flips and noise (default: \(TrainingOptions.defaults.seed)); compare: the seeds of the grid, one trial each, \(ListSyntax.note).",
        valueName: "seed"), transform: { try ListSyntax.items($0, option: "--seeds") })
    var seedLists: [[UInt64]] = []

    /// --channels' counts (nil when not given) and --seed's seeds, each list joined from its words (`ListSyntax`).
    var channels: [Int]? { channelLists.isEmpty ? nil : Array(channelLists.joined()) }
    var seeds: [UInt64] { Array(seedLists.joined()) }

    @Option(name: .long, help: "Threads (default: \(TrainingOptions.defaults.threads)).")
    var threads: Int?

    @Flag(name: .long, help: "Turn off random horizontal flips.")
    var noFlip = false

    @OptionGroup(title: "Training recipe") var recipeOptions: RecipeOptions

    // ISR and ISP.
    @Option(name: .long, help: "ISR/ISP: epochs of normal training before the influence step (T; default: \(TrainingOptions.defaults.switchEpoch), or the preset's; with fewer --epochs than that, the same share of them).")
    var switchEpoch: Int?

    @Option(name: .long, help: "ISR: weights are scaled into [1, alpha] (default: \(TrainingOptions.number(TrainingOptions.defaults.isr.alpha))).")
    var alpha: Double?

    @Option(name: .long, help: "ISR: helpful-up (authors' code: helpful points weigh more; the default) or harmful-up (paper text).")
    var isrDirection: ISRDirection?

    @Option(name: .long, help: "ISP: share of training points perturbed (default: \(TrainingOptions.number(TrainingOptions.defaults.isp.topKRatio))).")
    var topKRatio: Double?

    @Option(name: .long, help: "ISP: which points are kept when top-k < 1: helpful (authors' code; the default) or harmful (paper text).")
    var ispRanking: ISPRanking?

    @Option(name: .long, help: "ISP: step size epsilon (default: \(TrainingOptions.number(TrainingOptions.defaults.isp.epsilon))).")
    var epsilon: Double?

    @Option(name: .long, help: "ISP: raw (authors: the gradient itself; the default) or sign.")
    var ispStep: ISPStep?

    @Option(name: .long, help: "ISP: none (paper text: keep clip(x + delta) as it is; the default) or authors-uint8 (the authors' code truncates the perturbed image to 8 bits, which at their epsilon is most of the change).")
    var ispRounding: ISPRounding?

    @Option(name: .long, help: "Inverse-HVP solver: exact, cg or lissa (authors; the default).")
    var solver: InfluenceSolverKind?

    @Option(name: .long, help: "Damping lambda of (H + lambda I) for every solver (default: \(TrainingOptions.number(TrainingOptions.defaults.influence.damping)), the authors' LiSSA: 50 x 0.05).")
    var damping: Double?

    @Option(name: .long, help: ArgumentHelp("LiSSA scale (must exceed the Hessian's largest eigenvalue), or auto (max(50, 1.5 x the estimated top eigenvalue)); default: \(TrainingOptions.scaleText(TrainingOptions.defaults.influence.lissaScale)).", valueName: "scale|auto"),
            transform: TrainingOptions.lissaScale)
    var lissaScale: LiSSAConfiguration.Scale?

    @Option(name: .long, help: "CG: relative residual at which the solve stops (default: \(TrainingOptions.number(TrainingOptions.defaults.influence.cgTolerance))).")
    var cgTolerance: Double?

    @Option(name: .long, help: "LiSSA recursion depth (default: training set size / LiSSA batch).")
    var lissaDepth: Int?

    @Option(name: .long, help: "LiSSA mini-batch size (default: \(TrainingOptions.defaults.influence.lissaBatchSize)).")
    var lissaBatchSize: Int?

    @Option(name: .long, help: "LiSSA repetitions, averaged (default: \(TrainingOptions.defaults.influence.lissaRepetitions)).")
    var lissaRepetitions: Int?

    // Adversarial training.
    @Option(name: .long, help: ArgumentHelp("AT: L-infinity radius on the [0, 1] scale (fractions like 8/255 accepted; default: 8/255).", valueName: "eps"),
            transform: { try TrainingOptions.fraction($0, option: "--at-epsilon") })
    var atEpsilon: Float?

    @Option(name: .long, help: ArgumentHelp("AT: FGSM step (default: Wong et al.'s 1.25 x eps = 10/255).", valueName: "alpha"),
            transform: { try TrainingOptions.fraction($0, option: "--at-alpha") })
    var atAlpha: Float?

    @Option(name: .long, help: "AT: steps of the PGD attack behind the robust accuracy recorded every epoch (default: \(TrainingOptions.defaults.adversarial.pgdSteps)).")
    var atPgdSteps: Int?

    @Option(name: .long, help: "AT: epochs over which epsilon and alpha grow linearly from 0 to their values (0: full radius from the start; default: \(TrainingOptions.defaults.adversarial.epsilonWarmupEpochs)).")
    var atWarmupEpochs: Int?

    @Flag(name: .long, help: "AT: stop at catastrophic overfitting (PGD robust accuracy collapsing while clean accuracy holds) and keep the last good epoch's weights.")
    var atEarlyStop = false

    @OptionGroup(title: "Noise2Void (n2v)") var noise2VoidOptions: Noise2VoidOptions

    func validate() throws {
        try ListSyntax.requireDistinct(seeds, option: "--seeds")
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1 (got \(epochs))") }
        if let channels, channels.contains(where: { $0 <= 0 }) {
            throw ValidationError("--channels needs positive counts like 32 32 64 64 64 or 32,32,64,64,64 (got \(TrainingOptions.list(channels)))")
        }
    }

    /// The seed of a single run (train, influence, denoise): --seed, if given.
    func singleSeed() throws -> UInt64? {
        guard seeds.count <= 1 else {
            throw ValidationError("--seed takes one value here (got \(seeds.count)); compare runs several with --seeds")
        }
        return seeds.first
    }

    /// A list as the help shows it: values separated by spaces (commas are accepted too: `ListSyntax`).
    static func list(_ values: [Int]) -> String { values.map(String.init).joined(separator: " ") }

    /// A default as the help shows it: 0.01, 2, 1e-08.
    static func number<Value: BinaryFloatingPoint>(_ value: Value) -> String { String(format: "%g", Double(value)) }

    static func scaleText(_ scale: LiSSAConfiguration.Scale) -> String {
        switch scale {
        case .fixed(let value): return number(value)
        case .auto: return "auto"
        }
    }

    /// "auto" or a positive number.
    static func lissaScale(_ text: String) throws -> LiSSAConfiguration.Scale {
        if text.lowercased() == "auto" { return .auto }
        guard let value = Double(text), value > 0, value.isFinite else {
            throw ValidationError("--lissa-scale must be a positive number or auto (got '\(text)')")
        }
        return .fixed(value)
    }

    /// Parses "0.03" or "8/255".
    static func fraction(_ text: String, option: String) throws -> Float {
        let parts = text.split(separator: "/")
        if parts.count == 2, let a = Float(parts[0]), let b = Float(parts[1]), b != 0 { return a / b }
        if parts.count == 1, let a = Float(text) { return a }
        throw ValidationError("\(option) must be a number or a fraction like 8/255 (got '\(text)')")
    }

    /// Every given option applied to `training` (the seed aside: see `singleSeed()`). The CNN: the variant of
    /// --model, else `baseVariant` (a base that names a variant rather than a network), else `auto` where the image
    /// size changed, at `imageSize` with --channels (else the base's); otherwise the base's network with --channels.
    func apply(to training: inout TrainingConfiguration, imageSize: Int, imageSizeChanged: Bool, baseVariant: ModelVariant?) {
        if let variant = model ?? baseVariant ?? (imageSizeChanged ? .auto : nil) {
            training.model = variant.configuration(imageSize: imageSize, channels: channels ?? training.model.channels)
        } else if let channels {
            training.model.channels = channels
        }
        if let epochs {
            // A shorter run than the base's keeps the base's T and AT radius warm-up where they still fit; where they do
            // not (and were not given), they shrink in proportion, so `compare --preset quick --epochs 2` runs.
            let before = training.epochs
            training.epochs = epochs
            if epochs >= 1, switchEpoch == nil, training.isr.switchEpoch >= epochs || training.isp.switchEpoch >= epochs {
                let scaled = TrainingOptions.scaled(training.isr.switchEpoch, from: before, to: epochs, in: 1...Swift.max(1, epochs - 1))
                training.isr.switchEpoch = scaled
                training.isp.switchEpoch = scaled
            }
            if epochs >= 0, atWarmupEpochs == nil, training.adversarial.epsilonWarmupEpochs > epochs {
                training.adversarial.epsilonWarmupEpochs = TrainingOptions.scaled(
                    training.adversarial.epsilonWarmupEpochs, from: before, to: epochs, in: 0...epochs)
            }
        }
        if let batchSize { training.batchSize = batchSize }
        if let lr { training.learningRate = lr }
        if let threads { training.threads = threads }
        if noFlip { training.horizontalFlip = false }
        training.recipe = recipeOptions.applied(to: training.recipe)
        if recipeOptions.evaluateRecipeVariants { training.evaluateRecipeVariants = true }

        if let switchEpoch {
            training.isr.switchEpoch = switchEpoch
            training.isp.switchEpoch = switchEpoch
        }
        if let alpha { training.isr.alpha = alpha }
        if let isrDirection { training.isr.direction = isrDirection }
        if let topKRatio { training.isp.topKRatio = topKRatio }
        if let ispRanking { training.isp.ranking = ispRanking }
        if let epsilon { training.isp.epsilon = epsilon }
        if let ispStep { training.isp.step = ispStep }
        if let ispRounding { training.isp.rounding = ispRounding == .none ? nil : ispRounding }

        if let solver { training.influence.solver = solver }
        if let damping { training.influence.damping = damping }
        if let lissaScale { training.influence.lissaScale = lissaScale }
        if let cgTolerance { training.influence.cgTolerance = cgTolerance }
        if let lissaDepth { training.influence.lissaDepth = lissaDepth }
        if let lissaBatchSize { training.influence.lissaBatchSize = lissaBatchSize }
        if let lissaRepetitions { training.influence.lissaRepetitions = lissaRepetitions }

        if let atEpsilon { training.adversarial.epsilon = atEpsilon }
        if let atAlpha { training.adversarial.alpha = atAlpha }
        if let atPgdSteps { training.adversarial.pgdSteps = atPgdSteps }
        if atEarlyStop { training.adversarial.earlyStop = true }
        if let atWarmupEpochs { training.adversarial.epsilonWarmupEpochs = atWarmupEpochs }

        noise2VoidOptions.apply(to: &training.noise2void)
    }
}

extension TrainingOptions {
    /// An epoch count of a `before`-epoch run carried to an `after`-epoch one in proportion, rounded, within `range`.
    static func scaled(_ value: Int, from before: Int, to after: Int, in range: ClosedRange<Int>) -> Int {
        let proportional = (Double(value) * Double(after) / Double(Swift.max(1, before))).rounded()
        return Swift.min(range.upperBound, Swift.max(range.lowerBound, Int(proportional)))
    }

    /// The settings of a single run (train, influence, denoise): the library's defaults (`DataSettings()`, and
    /// `TrainingConfiguration()` with the CNN variant `ModelVariant.standard`), `method`, and every given option.
    func singleRun(method: TrainingMethodKind, dataOptions: DataOptions) throws -> RunSettings {
        let data = try dataOptions.settings()
        var training = TrainingConfiguration(method: method)
        apply(to: &training, imageSize: data.imageSize, imageSizeChanged: dataOptions.imageSize != nil,
              baseVariant: ModelVariant.standard)
        if let seed = try singleSeed() { training.seed = seed }
        return RunSettings(data: data, training: try training.validatedForTool())
    }
}

extension TrainingConfiguration {
    /// `validate()` as the tool reports it.
    func validatedForTool() throws -> TrainingConfiguration {
        do {
            try validate()
        } catch {
            throw ValidationError(error.description)
        }
        return self
    }
}
