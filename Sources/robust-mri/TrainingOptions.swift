import ArgumentParser
import NN
import RobustTraining

extension TrainingMethodKind: ExpressibleByArgument {}
extension ISRDirection: ExpressibleByArgument {}
extension ISPRanking: ExpressibleByArgument {}
extension ISPStep: ExpressibleByArgument {}
extension ISPRounding: ExpressibleByArgument {}
extension InfluenceSolverKind: ExpressibleByArgument {}

/// Options that decide how the CNN is trained (shared by train and compare). Defaults: the authors' values.
struct TrainingOptions: ParsableArguments {
    @Option(name: .long, help: "Model variant: authors (5x5 valid convolutions, needs >= 156 px), same3x3, or auto (authors when the image is large enough).")
    var model: String = "auto"

    @Option(name: .long, help: ArgumentHelp("Channels of the five convolution blocks.", valueName: "c1,c2,..."))
    var channels: String = "32,32,64,64,64"

    @Option(name: .long, help: "Training epochs (authors' code: 20).")
    var epochs: Int = 20

    @Option(name: .long, help: "Mini-batch size.")
    var batchSize: Int = 32

    @Option(name: .long, help: "Adam learning rate.")
    var lr: Float = 0.01

    @Option(name: .long, help: "Seed of initialisation, shuffling, flips and noise.")
    var seed: UInt64 = 1

    @Option(name: .long, help: "Threads.")
    var threads: Int = 2

    @Flag(name: .long, help: "Turn off random horizontal flips.")
    var noFlip = false

    @OptionGroup(title: "Training recipe") var recipeOptions: RecipeOptions

    // ISR and ISP.
    @Option(name: .long, help: "ISR/ISP: epochs of normal training before the influence step (T).")
    var switchEpoch: Int = 15

    @Option(name: .long, help: "ISR: weights are scaled into [1, alpha].")
    var alpha: Double = 2

    @Option(name: .long, help: "ISR: helpful-up (authors' code: helpful points weigh more) or harmful-up (paper text).")
    var isrDirection: ISRDirection = .helpfulUp

    @Option(name: .long, help: "ISP: share of training points perturbed.")
    var topKRatio: Double = 1.0

    @Option(name: .long, help: "ISP: which points are kept when top-k < 1: helpful (authors' code) or harmful (paper text).")
    var ispRanking: ISPRanking = .helpful

    @Option(name: .long, help: "ISP: step size epsilon.")
    var epsilon: Double = 0.1

    @Option(name: .long, help: "ISP: raw (authors: the gradient itself) or sign.")
    var ispStep: ISPStep = .raw

    @Option(name: .long, help: "ISP: none (paper text: keep clip(x + delta) as it is) or authors-uint8 (the authors' code truncates the perturbed image to 8 bits, which at their epsilon is most of the change).")
    var ispRounding: ISPRounding = .none

    @Option(name: .long, help: "Inverse-HVP solver: exact, cg or lissa (authors).")
    var solver: InfluenceSolverKind = .lissa

    @Option(name: .long, help: "Damping lambda of (H + lambda I) for every solver (authors' LiSSA: 50 x 0.05 = 2.5).")
    var damping: Double = 2.5

    @Option(name: .long, help: ArgumentHelp("LiSSA scale (must exceed the Hessian's largest eigenvalue), or auto (max(50, 1.5 x the estimated top eigenvalue)).", valueName: "scale|auto"))
    var lissaScale: String = "50"

    @Option(name: .long, help: "CG: relative residual at which the solve stops.")
    var cgTolerance: Double = 1e-8

    @Option(name: .long, help: "LiSSA recursion depth (default: training set size / LiSSA batch).")
    var lissaDepth: Int?

    @Option(name: .long, help: "LiSSA mini-batch size.")
    var lissaBatchSize: Int = 10

    @Option(name: .long, help: "LiSSA repetitions (averaged).")
    var lissaRepetitions: Int = 1

    // Adversarial training.
    @Option(name: .long, help: ArgumentHelp("AT: L-infinity radius on the [0, 1] scale (fractions like 8/255 accepted).", valueName: "eps"))
    var atEpsilon: String = "8/255"

    @Option(name: .long, help: ArgumentHelp("AT: FGSM step (Wong et al.: 1.25 x eps = 10/255).", valueName: "alpha"))
    var atAlpha: String = "10/255"

    @Option(name: .long, help: "AT: steps of the PGD attack behind the robust accuracy recorded every epoch.")
    var atPgdSteps: Int = 10

    @Option(name: .long, help: "AT: epochs over which epsilon and alpha grow linearly from 0 to their values (0: full radius from the start).")
    var atWarmupEpochs: Int = 0

    @Flag(name: .long, help: "AT: stop at catastrophic overfitting (PGD robust accuracy collapsing while clean accuracy holds) and keep the last good epoch's weights.")
    var atEarlyStop = false

    // Noise2Void.
    @Option(name: .long, help: "N2V: denoiser training epochs.")
    var n2vEpochs: Int = 10

    @Option(name: .long, help: "N2V: patches per denoiser epoch.")
    var n2vPatches: Int = 2048

    @Option(name: .long, help: "N2V: patch side in pixels.")
    var n2vPatchSize: Int = 64

    @Option(name: .long, help: "N2V: patches per denoiser mini-batch.")
    var n2vBatchSize: Int = 16

    @Option(name: .long, help: "N2V: Adam learning rate of the denoiser (reference: 4e-4).")
    var n2vLr: Float = 4e-4

    func validate() throws {
        _ = try parseChannels()
        _ = try parsedLissaScale()
        _ = try Self.fraction(atEpsilon, option: "--at-epsilon")
        _ = try Self.fraction(atAlpha, option: "--at-alpha")
        guard ["auto", "authors", "same3x3"].contains(model) else {
            throw ValidationError("--model must be auto, authors or same3x3 (got '\(model)')")
        }
    }

    func parseChannels() throws -> [Int] {
        let values = channels.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.count == channels.split(separator: ",").count, values.allSatisfy({ $0 > 0 }) else {
            throw ValidationError("--channels needs positive integers like 32,32,64,64,64 (got '\(channels)')")
        }
        return values
    }

    /// "auto" -> 0 (`InfluenceSettings.lissaScale`'s encoding of auto), else a positive number.
    func parsedLissaScale() throws -> Double {
        if lissaScale.lowercased() == "auto" { return 0 }
        guard let value = Double(lissaScale), value > 0, value.isFinite else {
            throw ValidationError("--lissa-scale must be a positive number or auto (got '\(lissaScale)')")
        }
        return value
    }

    /// Parses "0.03" or "8/255".
    static func fraction(_ text: String, option: String) throws -> Float {
        let parts = text.split(separator: "/")
        if parts.count == 2, let a = Float(parts[0]), let b = Float(parts[1]), b != 0 { return a / b }
        if parts.count == 1, let a = Float(text) { return a }
        throw ValidationError("\(option) must be a number or a fraction like 8/255 (got '\(text)')")
    }

    func modelConfiguration(imageSize: Int) throws -> CNNConfiguration {
        let channels = try parseChannels()
        let authors = CNNConfiguration(imageSize: imageSize, channels: channels, kernelSize: 5, padding: .valid)
        let same = CNNConfiguration(imageSize: imageSize, channels: channels, kernelSize: 3, padding: .same)
        switch model {
        case "authors": return authors
        case "same3x3": return same
        default: return (try? authors.validate()) != nil ? authors : same
        }
    }

    func configuration(method: TrainingMethodKind, imageSize: Int) throws -> TrainingConfiguration {
        var influence = InfluenceSettings()
        influence.solver = solver
        influence.damping = damping
        influence.lissaScale = try parsedLissaScale()
        influence.cgTolerance = cgTolerance
        influence.lissaDepth = lissaDepth
        influence.lissaBatchSize = lissaBatchSize
        influence.lissaRepetitions = lissaRepetitions
        var isr = ISRSettings()
        isr.switchEpoch = switchEpoch
        isr.alpha = alpha
        isr.direction = isrDirection
        isr.influence = influence
        var isp = ISPSettings()
        isp.switchEpoch = switchEpoch
        isp.topKRatio = topKRatio
        isp.ranking = ispRanking
        isp.epsilon = epsilon
        isp.step = ispStep
        isp.rounding = ispRounding == .none ? nil : ispRounding
        isp.influence = influence
        var adversarial = AdversarialSettings()
        adversarial.epsilon = try Self.fraction(atEpsilon, option: "--at-epsilon")
        adversarial.alpha = try Self.fraction(atAlpha, option: "--at-alpha")
        adversarial.pgdSteps = atPgdSteps
        adversarial.earlyStop = atEarlyStop
        adversarial.epsilonWarmupEpochs = atWarmupEpochs
        var n2v = Noise2VoidSettings()
        n2v.epochs = n2vEpochs
        n2v.patchesPerEpoch = n2vPatches
        n2v.patchSize = n2vPatchSize
        n2v.batchSize = n2vBatchSize
        n2v.learningRate = n2vLr
        let configuration = TrainingConfiguration(
            method: method, model: try modelConfiguration(imageSize: imageSize), epochs: epochs, batchSize: batchSize,
            learningRate: lr, seed: seed, threads: threads, horizontalFlip: !noFlip, isr: isr, isp: isp,
            adversarial: adversarial, noise2void: n2v, recipe: recipeOptions.applied(to: .stable),
            evaluateRecipeVariants: recipeOptions.evaluateRecipeVariants)
        do {
            try configuration.validate()
        } catch {
            throw ValidationError(error.description)
        }
        return configuration
    }
}
