/// Settings of the synthetic brain-slice generator (`PhantomGenerator`), the embedded default dataset
/// when no real data is given. Everything here is synthetic: it imitates the look of T1 contrast-enhanced
/// slices and the differences between the three tumour classes, nothing more.
public struct PhantomConfiguration: Codable, Equatable, Sendable {
    /// Number of images (slices) N.
    public var count: Int
    /// Number of synthetic patients; each contributes a few adjacent slices of one tumour.
    public var patients: Int
    /// Side S of the square images.
    public var imageSize: Int
    /// Seed of everything random; image i depends only on (seed, i's patient, i).
    public var seed: UInt64
    /// Fractions of meningioma, glioma, pituitary images (normalised; default as figshare: 23 / 47 / 30 %).
    public var classBalance: [Double]
    /// Number of patient-wise folds (1...folds).
    public var folds: Int
    /// 0...1: how much the classes resemble each other. Raises the overlap of tumour sizes and
    /// positions, lowers tumour contrast, makes atypical appearances (glioma without necrosis, parafalcine
    /// meningioma, large pituitary adenoma) more frequent, adds bright distractor blobs and fainter,
    /// smaller look-alikes of another class's tumour (outside the mask).
    /// 0 is nearly trivial; the default 0.5 is meant to keep a small CNN well below 100 %.
    public var difficulty: Double

    public init(count: Int = 600, patients: Int = 120, imageSize: Int = 128, seed: UInt64 = 0,
                classBalance: [Double] = [0.23, 0.47, 0.30], folds: Int = 5, difficulty: Double = 0.5) {
        self.count = count
        self.patients = patients
        self.imageSize = imageSize
        self.seed = seed
        self.classBalance = classBalance
        self.folds = folds
        self.difficulty = difficulty
    }

    /// Throws a typed error naming the first setting out of range.
    public func validate() throws {
        func fail(_ name: String, _ reason: String) -> MRIDataError { .invalidSetting(name: "phantom.\(name)", reason: reason) }
        guard count >= 1 else { throw fail("count", "\(count) must be at least 1") }
        guard patients >= 1 && patients <= count else { throw fail("patients", "\(patients) must be in 1...count (\(count))") }
        guard imageSize >= 16 && imageSize <= 2048 else { throw fail("imageSize", "\(imageSize) must be in 16...2048") }
        guard classBalance.count == 3, classBalance.allSatisfy({ $0 >= 0 }), classBalance.reduce(0, +) > 0 else {
            throw fail("classBalance", "needs three non-negative fractions (meningioma, glioma, pituitary), got \(classBalance)")
        }
        guard folds >= 1 && folds <= patients else { throw fail("folds", "\(folds) must be in 1...patients (\(patients))") }
        guard difficulty >= 0 && difficulty <= 1 else { throw fail("difficulty", "\(difficulty) must be in 0...1") }
    }
}
