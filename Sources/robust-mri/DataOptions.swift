import ArgumentParser
import Foundation
import Experiments
import MRIData

extension NIfTISlices: ExpressibleByArgument {}

extension NoiseType: ExpressibleByArgument {
    /// Any case, and the aliases `clean` and `rician-authors` (`NoiseType.init(named:)`).
    public init?(argument: String) { self.init(named: argument) }
}

/// Options that choose the data, its split and its noise (train, evaluate, compare, influence and denoise share
/// them). Each one is an override: nil keeps the base settings' value (the library's `DataSettings()`, or
/// compare's preset), and `apply(to:)` is the one place they are applied.
struct DataOptions: ParsableArguments {
    /// The library's defaults, for the help texts.
    private static let defaults = DataSettings()

    @Option(name: .long, help: ArgumentHelp(
        "Dataset folder: the figshare .mat release (with cvind.mat), a folder with manifest.csv, or class folders (images: JPEG, PNG, DICOM, NIfTI). Default: synthetic phantoms.",
        valueName: "path"))
    var data: String?

    @Option(name: .long, help: ArgumentHelp(
        "Image side in pixels after preprocessing, \(DatasetLoader.imageSizes) (the authors: 256). Default: \(DataOptions.defaults.imageSize); evaluate: the checkpoint's size; compare: the preset's.",
        valueName: "pixels"))
    var imageSize: Int?

    @Option(name: .long, help: "Number of phantom slices when no --data is given (default: \(DataOptions.defaults.phantom.count)).")
    var phantomCount: Int?

    @Option(name: .long, help: "Phantom difficulty in [0, 1] (how alike the tumour classes look; default: \(TrainingOptions.number(DataOptions.defaults.phantom.difficulty))).")
    var phantomDifficulty: Double?

    @Option(name: .long, help: "Seed of the phantom generator (default: \(DataOptions.defaults.phantom.seed)).")
    var phantomSeed: UInt64?

    @Option(name: .long, help: "Test fold (default: the authors' fold 4 when present, else the data's last fold; data without folds takes none).")
    var testFold: Int?

    @Option(name: .long, help: "For data without folds (class folders without Training/Testing, a manifest without a fold column): the share of each class's patients held out as the test set, seeded by --split-seed (default: \(DataSettings.defaultTestFraction)).")
    var testFraction: Double?

    @Option(name: .customLong("validation-patients"), parsing: .upToNextOption, help: ArgumentHelp(
        "Validation patients per class (meningioma glioma pituitary, \(ListSyntax.note)) when patient IDs are known (default: \(TrainingOptions.list(DataOptions.defaults.validation.patientsPerClass))).",
        valueName: "m g p"), transform: { try ListSyntax.items($0, option: "--validation-patients") })
    var validationPatientLists: [[Int]] = []

    @Option(name: .long, help: "Validation share of each class's training images when patient IDs are unknown (default: \(TrainingOptions.number(DataOptions.defaults.validation.fraction))).")
    var validationFraction: Double?

    @Option(name: .long, help: "Seed of the validation draw, fixed across trials (default: \(DataOptions.defaults.splitSeed)).")
    var splitSeed: UInt64?

    @Option(name: [.customLong("noise"), .customLong("noises")], parsing: .upToNextOption, help: ArgumentHelp(
        "Noise on the training images (and a fraction of test images): none, gaussian, rician (the authors' additive field), rician-magnitude (the physical model). Default: \(DataOptions.defaults.noise.type.rawValue); compare: the grid's noise types, \(ListSyntax.note) (default: the preset's).",
        valueName: "type"), transform: { try ListSyntax.items($0, option: "--noise") })
    var noiseLists: [[NoiseType]] = []

    @Option(name: .long, help: "Noise level on the 0..255 scale: Gaussian sigma (default \(DataOptions.level(.gaussian))), the authors' Rician scale (\(DataOptions.level(.rician))), Rician-magnitude sigma (\(DataOptions.level(.ricianMagnitude))).")
    var noiseLevel: Float?

    @Flag(name: .long, help: "Reproduce the authors' quirk: one noise field reused for every image.")
    var sameNoiseField = false

    @Option(name: .customLong("test-noise-fraction"), parsing: .upToNextOption, help: ArgumentHelp(
        "Fractions rho of noisy test images to evaluate at, \(ListSyntax.note), e.g. 0 0.5 1 (default: \(DataOptions.defaults.testNoiseFractions.map(TrainingOptions.number).joined(separator: " "))).",
        valueName: "rho"), transform: { try ListSyntax.items($0, option: "--test-noise-fraction") })
    var testNoiseFractionLists: [[Double]] = []

    @Option(name: .long, help: "Cache folder for decoded datasets (default: \(DataOptions.defaults.cacheDirectory ?? "none")).")
    var cacheDir: String?

    @Flag(name: .long, help: "Decode the dataset again instead of using the cache.")
    var noCache = false

    @Flag(name: .long, help: "Leave out dataset images that cannot be decoded, naming them on standard error (default: stop with an error).")
    var skipUnreadable = false

    @Option(name: .long, help: ArgumentHelp(
        "NIfTI volumes: 'selected' reads the slice named by the manifest's `slice` column (the default); 'all' reads every axial slice of every volume.",
        valueName: "selected|all"))
    var niftiSlices: NIfTISlices?

    @Option(name: .customLong("intensity-clip"), parsing: .upToNextOption, help: ArgumentHelp(
        "Map each slice's intensities by clipping to its LOW and HIGH percentiles (\(ListSyntax.note)), then min-max (e.g. 0.5 99.5, for 16-bit scans). Default: x / max for JPEG, PNG and .mat, min-max for DICOM and NIfTI.",
        valueName: "low high"), transform: { try ListSyntax.items($0, option: "--intensity-clip") })
    var intensityClipLists: [[Double]] = []

    /// --noise's types, --test-noise-fraction's fractions, --intensity-clip's percentiles and --validation-patients'
    /// counts, each list joined from its words (`ListSyntax`).
    var noises: [NoiseType] { Array(noiseLists.joined()) }
    var testNoiseFraction: [Double] { Array(testNoiseFractionLists.joined()) }
    var intensityClip: [Double] { Array(intensityClipLists.joined()) }
    var validationPatients: [Int]? { validationPatientLists.isEmpty ? nil : Array(validationPatientLists.joined()) }

    /// The intensity mapping of --intensity-clip, if given.
    func intensityMapping() throws -> IntensityMapping? {
        guard !intensityClip.isEmpty else { return nil }
        guard intensityClip.count == 2 else {
            throw ValidationError("--intensity-clip takes two percentiles, LOW HIGH (e.g. 0.5 99.5); got \(intensityClip.count) values")
        }
        let mapping = IntensityMapping.percentiles(low: intensityClip[0], high: intensityClip[1])
        if let problem = mapping.problem { throw ValidationError("--intensity-clip: \(problem)") }
        return mapping
    }

    /// --phantom-count's slices come as patients of this many slices each.
    static let phantomSlicesPerPatient = 5

    /// The phantom options checked here, with the options' names: the generator's own check names its settings
    /// (`phantom.folds`), which no option is called.
    func validatePhantomOptions() throws {
        if let phantomCount {
            let folds = DataOptions.defaults.phantom.folds, smallest = folds * DataOptions.phantomSlicesPerPatient
            guard phantomCount >= smallest else {
                throw ValidationError("--phantom-count must be at least \(smallest) (got \(phantomCount)): the phantoms are patients of "
                    + "\(DataOptions.phantomSlicesPerPatient) slices in \(folds) patient-wise folds, so \(smallest) give each fold one patient "
                    + "(the default, \(DataOptions.defaults.phantom.count), gives every set every class)")
            }
        }
        if let phantomDifficulty, !(0...1).contains(phantomDifficulty) {
            throw ValidationError("--phantom-difficulty must be in [0, 1] (got \(phantomDifficulty))")
        }
    }

    func validate() throws {
        try validatePhantomOptions()
        if let imageSize, !DatasetLoader.imageSizes.contains(imageSize) {
            throw ValidationError("--image-size must be in \(DatasetLoader.imageSizes) (got \(imageSize))")
        }
        guard testNoiseFraction.allSatisfy({ (0...1).contains($0) }) else {
            throw ValidationError("--test-noise-fraction values must be in [0, 1] (got \(testNoiseFraction))")
        }
        try ListSyntax.requireDistinct(testNoiseFraction, option: "--test-noise-fraction", describe: TrainingOptions.number)
        try ListSyntax.requireDistinct(noises.map(\.rawValue), option: "--noises")
        if let noiseLevel, !(noiseLevel > 0 && noiseLevel.isFinite) {
            throw ValidationError("--noise-level must be a positive number of grey levels out of 255, e.g. 32 (got \(noiseLevel))")
        }
        if let testFraction, !(testFraction > 0 && testFraction < 1) {
            throw ValidationError("--test-fraction must be strictly between 0 and 1 (got \(testFraction))")
        }
        _ = try intensityMapping()
        if let validationPatients, validationPatients.count != 3 || validationPatients.contains(where: { $0 < 0 }) {
            throw ValidationError("--validation-patients needs three counts (meningioma glioma pituitary) like 4 5 3 or 4,5,3 (got \(TrainingOptions.list(validationPatients)))")
        }
    }

    /// A noise type's default level as the help shows it.
    static func level(_ type: NoiseType) -> String { type.model().level.map(TrainingOptions.number) ?? "none" }

    /// The settings of a single run (train, evaluate, influence, denoise): `base` with every given option, the one
    /// --noise, and the image reading written out (config.json records how the images were read).
    func settings(base: DataSettings = DataSettings()) throws -> DataSettings {
        guard noises.count <= 1 else {
            throw ValidationError("--noise takes one type here (got \(noises.count)); compare runs several with --noises")
        }
        var settings = base
        try apply(to: &settings)
        if let noise = namedNoises([NamedNoise(name: base.noise.type.rawValue, model: base.noise)]).first { settings.noise = noise.model }
        settings.reading = settings.imageReading
        return settings
    }

    /// Every given option applied to `settings`, the noise aside (`settings(base:)`, `namedNoises(_:)`).
    func apply(to settings: inout DataSettings) throws {
        if let data { settings.path = data }
        if let imageSize { settings.imageSize = imageSize }
        if let phantomCount {
            settings.phantom.count = phantomCount
            settings.phantom.patients = max(1, phantomCount / DataOptions.phantomSlicesPerPatient)
        }
        if let phantomDifficulty { settings.phantom.difficulty = phantomDifficulty }
        if let phantomSeed { settings.phantom.seed = phantomSeed }
        if let testFold { settings.testFold = testFold }
        if let testFraction { settings.testFraction = testFraction }
        if let validationPatients { settings.validation.patientsPerClass = validationPatients }
        if let validationFraction { settings.validation.fraction = validationFraction }
        if let splitSeed { settings.splitSeed = splitSeed }
        if !testNoiseFraction.isEmpty { settings.testNoiseFractions = testNoiseFraction }
        if let cacheDir { settings.cacheDirectory = cacheDir }
        if noCache { settings.cacheDirectory = nil }
        if skipUnreadable { settings.skipUnreadable = true }
        let intensity = try intensityMapping()
        if intensity != nil || niftiSlices != nil {
            settings.reading = ImageReading(intensity: intensity ?? settings.imageReading.intensity,
                                            niftiSlices: niftiSlices ?? settings.imageReading.niftiSlices)
        }
    }

    /// The noise types to train on: --noise's (named by type), else `base`; with --noise-level and
    /// --same-noise-field applied (a type kept from `base` keeps its level unless --noise-level is given).
    func namedNoises(_ base: [NamedNoise]) -> [NamedNoise] {
        guard !noises.isEmpty else {
            guard noiseLevel != nil || sameNoiseField else { return base }
            return base.map {
                NamedNoise(name: $0.name, model: $0.model.type.model(level: noiseLevel ?? $0.model.level,
                                                                     sameFieldForEveryImage: sameNoiseField || $0.model.sameFieldForEveryImage))
            }
        }
        return noises.map { NamedNoise(name: $0.rawValue, model: $0.model(level: noiseLevel, sameFieldForEveryImage: sameNoiseField)) }
    }
}
