import NN

/// The training methods of the paper: the two influence-based ones and the three baselines.
public enum TrainingMethodKind: String, Codable, Sendable, CaseIterable {
    /// The CNN trained on the noisy images as they are.
    case naive
    /// Influence-based sample reweighing (paper Algorithm 1).
    case isr
    /// Influence-based sample perturbation (paper Algorithm 2).
    case isp
    /// FGSM adversarial training with a uniform random start (Wong, Rice and Kolter 2020).
    case at
    /// Noise2Void denoising of the training images, then the CNN (Krull et al. 2019).
    case n2v
}

/// Everything that decides a training run. Saved beside every result (`config.json`) and inside every
/// checkpoint; the defaults are the authors' settings from PAPER.md except where noted.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    public var method: TrainingMethodKind
    public var model: CNNConfiguration
    /// Authors' code: 20 (the paper's text says 40).
    public var epochs: Int
    public var batchSize: Int
    /// Adam's learning rate (authors: 0.01).
    public var learningRate: Float
    public var seed: UInt64
    /// Threads for the CNN's kernels; a runtime setting that does not change results: every reduction is split
    /// into pieces independent of the thread count (`Parallel.reductionPieces`), so 1, 2 or 3 threads give the
    /// same bytes.
    public var threads: Int
    /// Random horizontal flips of the training images (the authors' only augmentation).
    public var horizontalFlip: Bool
    /// How ISR and ISP compute influence scores: stored once, here, for both.
    public var influence: InfluenceSettings
    /// ISR's settings, with `influence` the configuration's (setting `isr.influence` sets `influence`).
    public var isr: ISRSettings {
        get { var settings = isrSettings; settings.influence = influence; return settings }
        set { influence = newValue.influence; isrSettings = Self.own(newValue) }
    }
    /// ISP's settings, with `influence` the configuration's (setting `isp.influence` sets `influence`).
    public var isp: ISPSettings {
        get { var settings = ispSettings; settings.influence = influence; return settings }
        set { influence = newValue.influence; ispSettings = Self.own(newValue) }
    }
    /// ISR's and ISP's own settings; their `influence` is always the default, never read (see `influence`).
    private var isrSettings: ISRSettings
    private var ispSettings: ISPSettings
    public var adversarial: AdversarialSettings
    public var noise2void: Noise2VoidSettings
    /// Learning-rate schedule, weight average and evaluation statistics (default: `.stable`; the authors' is `.paper`).
    /// config.json files written before the recipe existed decode as `.paper`, the recipe they ran.
    public var recipe: TrainingRecipe
    /// Also evaluate, every epoch, the other weight/statistics combinations (last and EMA weights, running and
    /// precise statistics) as `EpochMetrics.variants`: for choosing a recipe by measurement; costs evaluation time.
    public var evaluateRecipeVariants: Bool

    /// `influence` is ISR's and ISP's: an `isr` or `isp` given here contributes its own settings only.
    public init(method: TrainingMethodKind = .naive, model: CNNConfiguration = .authors(imageSize: 256),
                epochs: Int = 20, batchSize: Int = 32, learningRate: Float = 0.01, seed: UInt64 = 1,
                threads: Int = 2, horizontalFlip: Bool = true, influence: InfluenceSettings = InfluenceSettings(),
                isr: ISRSettings = ISRSettings(), isp: ISPSettings = ISPSettings(),
                adversarial: AdversarialSettings = AdversarialSettings(),
                noise2void: Noise2VoidSettings = Noise2VoidSettings(), recipe: TrainingRecipe = .stable,
                evaluateRecipeVariants: Bool = false) {
        self.method = method
        self.model = model
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.seed = seed
        self.threads = threads
        self.horizontalFlip = horizontalFlip
        self.influence = influence
        self.isrSettings = Self.own(isr)
        self.ispSettings = Self.own(isp)
        self.adversarial = adversarial
        self.noise2void = noise2void
        self.recipe = recipe
        self.evaluateRecipeVariants = evaluateRecipeVariants
    }

    private enum CodingKeys: String, CodingKey {
        case method, model, epochs, batchSize, learningRate, seed, threads, horizontalFlip, influence
        case isrSettings = "isr", ispSettings = "isp", adversarial, noise2void, recipe, evaluateRecipeVariants
    }

    /// A method's settings as stored here: without the shared influence settings.
    private static func own(_ settings: ISRSettings) -> ISRSettings {
        var own = settings
        own.influence = InfluenceSettings()
        return own
    }

    private static func own(_ settings: ISPSettings) -> ISPSettings {
        var own = settings
        own.influence = InfluenceSettings()
        return own
    }

    /// Where files written before ISR and ISP shared one `influence` kept it: a copy inside `isr` and `isp`.
    private struct EarlierInfluenceCopy: Decodable { var influence: InfluenceSettings }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let method = try c.decode(TrainingMethodKind.self, forKey: .method)
        // Earlier files: the method's own copy (the copies were equal whenever the tool wrote them).
        let influence = try c.decodeIfPresent(InfluenceSettings.self, forKey: .influence)
            ?? c.decode(EarlierInfluenceCopy.self, forKey: method == .isp ? .ispSettings : .isrSettings).influence
        self.init(method: method, model: try c.decode(CNNConfiguration.self, forKey: .model),
                  epochs: try c.decode(Int.self, forKey: .epochs), batchSize: try c.decode(Int.self, forKey: .batchSize),
                  learningRate: try c.decode(Float.self, forKey: .learningRate), seed: try c.decode(UInt64.self, forKey: .seed),
                  threads: try c.decode(Int.self, forKey: .threads), horizontalFlip: try c.decode(Bool.self, forKey: .horizontalFlip),
                  influence: influence, isr: try c.decode(ISRSettings.self, forKey: .isrSettings),
                  isp: try c.decode(ISPSettings.self, forKey: .ispSettings),
                  adversarial: try c.decode(AdversarialSettings.self, forKey: .adversarial),
                  noise2void: try c.decode(Noise2VoidSettings.self, forKey: .noise2void),
                  recipe: try c.decodeIfPresent(TrainingRecipe.self, forKey: .recipe) ?? .paper,
                  evaluateRecipeVariants: try c.decodeIfPresent(Bool.self, forKey: .evaluateRecipeVariants) ?? false)
    }

    /// The influence switch epoch T: where ISR and ISP score influence and, for the schedules that change at T
    /// (`cosine-restart`, `constant-then-cosine`), where the learning rate does for every method.
    public var switchEpoch: Int { method == .isp ? isp.switchEpoch : isr.switchEpoch }

    /// What is wrong with the influence methods' switch epoch T (`method`: "ISR" or "ISP"), or nil: they train T >= 1
    /// epochs normally and at least one after the influence step, so 1 <= T < epochs, and the fix depends on which
    /// side is off (a single epoch leaves no T at all: more epochs are the only fix).
    func switchEpochProblem(_ method: String) -> String? {
        let t = switchEpoch
        let rule = "\(method) trains T epochs normally, then at least one after the influence step, so 1 <= T < epochs"
        if epochs < 2 {
            return "\(method) needs at least 2 epochs (--epochs is \(epochs)): \(rule); raise --epochs (and keep --switch-epoch below it)"
        }
        if t >= epochs {
            return "\(method)'s switch epoch T (\(t)) must be below --epochs (\(epochs)): \(rule); lower --switch-epoch to \(epochs - 1) or less, or raise --epochs above \(t)"
        }
        if t < 1 { return "\(method)'s switch epoch T (\(t)) must be at least 1: \(rule); raise --switch-epoch" }
        return nil
    }

    /// Checks the settings a user can get wrong; the message names the setting and the fix.
    public func validate() throws(TrainingError) {
        func fail(_ text: String) -> TrainingError { .invalidConfiguration(text) }
        guard epochs >= 1 else { throw fail("epochs must be at least 1 (got \(epochs))") }
        guard batchSize >= 1 else { throw fail("batch size must be at least 1 (got \(batchSize))") }
        guard learningRate > 0, learningRate.isFinite else { throw fail("learning rate must be positive (got \(learningRate))") }
        guard threads >= 1 else { throw fail("threads must be at least 1 (got \(threads))") }
        do { try model.validate() } catch { throw fail("\(error)") }
        try recipe.validate(epochs: epochs, switchEpoch: switchEpoch)
        // Every method's settings are checked whichever method runs: a wrong value given to a method that
        // ignores it is still a mistake (a grid passes one set of options to every method), and it would be
        // recorded in config.json as if it had been used.
        switch method {
        case .isr: if let problem = switchEpochProblem("ISR") { throw fail(problem) }
        case .isp: if let problem = switchEpochProblem("ISP") { throw fail(problem) }
        case .naive, .at, .n2v: break
        }
        guard isr.alpha >= 1 else { throw fail("ISR's alpha must be at least 1 (got \(isr.alpha))") }
        guard isp.topKRatio > 0 && isp.topKRatio <= 1 else { throw fail("ISP's top-k ratio must be in (0, 1] (got \(isp.topKRatio))") }
        guard isp.epsilon > 0 else { throw fail("ISP's epsilon must be positive (got \(isp.epsilon))") }
        if method == .isr || method == .isp { try influence.validate() }
        // Pixels lie in [0, 1]: a radius or step outside (0, 1] is a unit mistake (8 instead of 8/255).
        guard adversarial.epsilon > 0 && adversarial.epsilon <= 1 else {
            throw fail("--at-epsilon must be in (0, 1] on the [0, 1] pixel scale (got \(adversarial.epsilon)); write 8/255 for 8 grey levels")
        }
        guard adversarial.alpha > 0 && adversarial.alpha <= 1 else {
            throw fail("--at-alpha must be in (0, 1] on the [0, 1] pixel scale (got \(adversarial.alpha)); Wong et al. use 1.25 x epsilon, e.g. 10/255")
        }
        // The warm-up's bound is relative to the run's length, like ISR's and ISP's T: checked for AT only (a grid's
        // naive runs keep the AT warm-up the preset sets for its AT runs).
        guard adversarial.epsilonWarmupEpochs >= 0 && (method != .at || adversarial.epsilonWarmupEpochs <= epochs) else {
            throw fail("--at-warmup-epochs must be in [0, --epochs] = [0, \(epochs)] (got \(adversarial.epsilonWarmupEpochs))")
        }
        guard adversarial.pgdSteps >= 1 else {
            throw fail("--at-pgd-steps must be at least 1 (got \(adversarial.pgdSteps))")
        }
    }
}

/// Errors a training run reports to the user.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    /// The loss became NaN or infinite: the run stops rather than producing garbage.
    case diverged(epoch: Int, batch: Int, hint: String)
    case emptySet(String)
    case checkpoint(String)
    case influence(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let text): return "invalid training configuration: \(text)"
        case .diverged(let epoch, let batch, let hint):
            return "training diverged at epoch \(epoch), batch \(batch): the loss is not finite. \(hint)"
        case .emptySet(let text): return text
        case .checkpoint(let text): return text
        case .influence(let text): return text
        }
    }
}
