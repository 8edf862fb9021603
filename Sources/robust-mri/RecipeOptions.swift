import ArgumentParser
import RobustTraining

extension LearningRateScheduleKind: ExpressibleByArgument {}
extension WeightAverageKind: ExpressibleByArgument {}
extension BatchNormStatisticsKind: ExpressibleByArgument {}
extension TrainingRecipe.Preset: ExpressibleByArgument {}

/// The training recipe around the paper's method (train, compare, evaluate and influence share it): a named
/// recipe, then each part overridden on its own. Defaults live in the library (`TrainingRecipe`).
struct RecipeOptions: ParsableArguments {
    @Option(name: .long, help: "Recipe: stable (constant lr then cosine decay over the last quarter, EMA weights, precise BatchNorm statistics with a clean-validation adapted figure; the default) or paper (the authors': constant lr, last weights, running statistics).")
    var recipe: TrainingRecipe.Preset?

    @Option(name: .long, help: "Learning-rate schedule: constant, cosine (decay to 0 over the run), cosine-restart (decay to 0 at the switch epoch T, restart, decay to 0 again) or constant-then-cosine (constant, then decay to 0 over the last --decay-fraction of the run; the default).")
    var lrSchedule: LearningRateScheduleKind?

    @Option(name: .long, help: "constant-then-cosine: share of the run over which the rate decays to 0 (0.25: from epoch 15 of 20, the paper's T).")
    var decayFraction: Double?

    @Option(name: .long, help: "Epochs of linear learning-rate warm-up (fractions allowed; 0 = none).")
    var warmupEpochs: Double?

    @Option(name: .long, help: "Weights evaluated and saved: none (the last step's) or ema (an exponential moving average).")
    var weightAverage: WeightAverageKind?

    @Option(name: .long, help: "EMA decay per optimiser step, in (0, 1) (0.99: about the last 100 steps).")
    var emaDecay: Double?

    @Option(name: .long, help: "BatchNorm statistics at evaluation: running (as trained; for evaluate/influence: as stored in the model file), precise (recomputed for the evaluated weights over the training images) or clean-validation (precise, plus a test-time-adapted figure whose clean share uses statistics of the clean validation images).")
    var bnStatistics: BatchNormStatisticsKind?

    @Option(name: .long, help: "Most training images the precise statistics are recomputed over (a fixed seeded subset when there are more; 0 = all).")
    var preciseImages: Int?

    @Flag(name: .long, help: "Also evaluate every epoch the other weight/statistics combinations (last/EMA x running/precise/clean-validation): for choosing a recipe; slower.")
    var evaluateRecipeVariants = false

    /// `base` (a preset's recipe) with the named recipe and every given part applied.
    func applied(to base: TrainingRecipe) -> TrainingRecipe {
        var r = recipe?.recipe ?? base
        if let lrSchedule { r.learningRateSchedule = lrSchedule }
        if let warmupEpochs { r.warmupEpochs = warmupEpochs }
        if let decayFraction { r.decayFraction = decayFraction }
        if let weightAverage { r.weightAverage = weightAverage }
        if let emaDecay { r.emaDecay = emaDecay }
        if let bnStatistics { r.batchNormStatistics = bnStatistics }
        if let preciseImages { r.preciseStatisticsImages = preciseImages }
        return r
    }
}
