import ArgumentParser
import Experiments
import MRIData

extension NIfTISlices: ExpressibleByArgument {}

/// Options that choose the data, its split and its noise (shared by train, evaluate, compare, influence).
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Dataset folder: the figshare .mat release (with cvind.mat), a folder with manifest.csv, or class folders (images: JPEG, PNG, DICOM, NIfTI). Default: synthetic phantoms.",
        valueName: "path"))
    var data: String?

    @Option(name: .customLong("image-size"), help: ArgumentHelp(
        "Image side in pixels after preprocessing (the authors: 256). Default: 128; evaluate: the checkpoint's size.",
        valueName: "pixels"))
    var imageSizeOption: Int?

    static let defaultImageSize = 128

    /// The image side: --image-size when given, else 128.
    var imageSize: Int { imageSizeOption ?? Self.defaultImageSize }

    @Option(name: .long, help: "Number of phantom slices when no --data is given.")
    var phantomCount: Int = 600

    @Option(name: .long, help: "Phantom difficulty in [0, 1] (how alike the tumour classes look).")
    var phantomDifficulty: Double = 0.5

    @Option(name: .long, help: "Seed of the phantom generator.")
    var phantomSeed: UInt64 = 0

    @Option(name: .long, help: "Test fold (default: the authors' fold 4 when present, else the data's last fold).")
    var testFold: Int?

    @Option(name: .long, help: ArgumentHelp("Validation patients per class (meningioma,glioma,pituitary) when patient IDs are known.", valueName: "m,g,p"))
    var validationPatients: String = "4,5,3"

    @Option(name: .long, help: "Validation share of each class's training images when patient IDs are unknown.")
    var validationFraction: Double = 0.05

    @Option(name: .long, help: "Seed of the validation draw (fixed across trials).")
    var splitSeed: UInt64 = 0

    @Option(name: .long, help: "Noise on the training images (and a fraction of test images): none, gaussian, rician (the authors' additive field), rician-magnitude (the physical model).")
    var noise: String = "gaussian"

    @Option(name: .long, help: "Noise level on the 0..255 scale: Gaussian sigma (default 32), the authors' Rician scale (16), Rician-magnitude sigma (32).")
    var noiseLevel: Float?

    @Flag(name: .long, help: "Reproduce the authors' quirk: one noise field reused for every image.")
    var sameNoiseField = false

    @Option(name: .long, parsing: .upToNextOption, help: "Fractions rho of noisy test images to evaluate at (e.g. 0 0.5 1).")
    var testNoiseFraction: [Double] = [0]

    @Option(name: .long, help: "Cache folder for decoded datasets.")
    var cacheDir: String = DatasetCache.defaultDirectory

    @Flag(name: .long, help: "Decode the dataset again instead of using the cache.")
    var noCache = false

    @Flag(name: .long, help: "Leave out dataset images that cannot be decoded, naming them on standard error (default: stop with an error).")
    var skipUnreadable = false

    @Option(name: .long, help: ArgumentHelp(
        "NIfTI volumes: 'selected' reads the slice named by the manifest's `slice` column; 'all' reads every axial slice of every volume.",
        valueName: "selected|all"))
    var niftiSlices: NIfTISlices = .selected

    @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp(
        "Map each slice's intensities by clipping to its LOW and HIGH percentiles, then min-max (e.g. 0.5 99.5, for 16-bit scans). Default: x / max for JPEG, PNG and .mat, min-max for DICOM and NIfTI.",
        valueName: "low high"))
    var intensityClip: [Double] = []

    /// The intensity mapping: percentile clipping with --intensity-clip, else each format's standard one.
    func intensityMapping() throws -> IntensityMapping {
        guard !intensityClip.isEmpty else { return .standard }
        guard intensityClip.count == 2 else {
            throw ValidationError("--intensity-clip takes two percentiles, LOW HIGH (e.g. 0.5 99.5); got \(intensityClip.count) values")
        }
        let mapping = IntensityMapping.percentiles(low: intensityClip[0], high: intensityClip[1])
        if let problem = mapping.problem { throw ValidationError("--intensity-clip: \(problem)") }
        return mapping
    }

    func validate() throws {
        guard (8...4096).contains(imageSize) else { throw ValidationError("--image-size must be in 8...4096 (got \(imageSize))") }
        guard testNoiseFraction.allSatisfy({ (0...1).contains($0) }) else {
            throw ValidationError("--test-noise-fraction values must be in [0, 1] (got \(testNoiseFraction))")
        }
        _ = try noiseModel()
        _ = try patientsPerClass()
        _ = try intensityMapping()
    }

    func patientsPerClass() throws -> [Int] {
        let parts = validationPatients.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 3, let values = parts as? [Int], values.allSatisfy({ $0 >= 0 }) else {
            throw ValidationError("--validation-patients needs three counts like 4,5,3 (got '\(validationPatients)')")
        }
        return values
    }

    static func noiseModel(named name: String, level: Float?, sameField: Bool) throws -> NoiseModel {
        switch name.lowercased() {
        case "none", "clean": return .none
        case "gaussian": return .gaussian(sigma: level ?? 32, sameFieldForEveryImage: sameField)
        case "rician", "rician-authors": return .ricianAuthors(scale: level ?? 16, sameFieldForEveryImage: sameField)
        case "rician-magnitude": return .ricianMagnitude(sigma: level ?? 32, sameFieldForEveryImage: sameField)
        default: throw ValidationError("unknown --noise '\(name)': use none, gaussian, rician or rician-magnitude")
        }
    }

    func noiseModel() throws -> NoiseModel {
        try Self.noiseModel(named: noise, level: noiseLevel, sameField: sameNoiseField)
    }

    /// The data settings; `imageSize` overrides --image-size (evaluate: the checkpoint's size).
    func settings(imageSize: Int? = nil) throws -> DataSettings {
        let imageSize = imageSize ?? self.imageSize
        return DataSettings(
            path: data,
            phantom: PhantomConfiguration(count: phantomCount, patients: max(1, phantomCount / 5), imageSize: imageSize,
                                          seed: phantomSeed, difficulty: phantomDifficulty),
            imageSize: imageSize, testFold: testFold,
            validation: DataSplit.ValidationRule(patientsPerClass: try patientsPerClass(), fraction: validationFraction),
            splitSeed: splitSeed, noise: try noiseModel(), testNoiseFractions: testNoiseFraction,
            cacheDirectory: noCache ? nil : cacheDir, skipUnreadable: skipUnreadable ? true : nil,
            reading: ImageReading(intensity: try intensityMapping(), niftiSlices: niftiSlices))
    }
}
