import Tensor

/// Train / validation / test indices into an `MRIDataset`.
///
/// The authors' split (PAPER.md "Data"): test = one fold (fold 4), train = the other folds, validation =
/// the clean images of a few whole patients drawn from the training folds (4 meningioma, 5 glioma,
/// 3 pituitary patients), removed from training. Without patient IDs the validation set is a stratified
/// sample of training images instead (5 % by default). All draws come from `seed`.
public struct DataSplit: Codable, Equatable, Sendable {
    public var train: [Int]
    public var validation: [Int]
    public var test: [Int]

    public init(train: [Int], validation: [Int], test: [Int]) {
        self.train = train
        self.validation = validation
        self.test = test
    }

    /// How the validation set is drawn from the training folds.
    public struct ValidationRule: Codable, Equatable, Sendable {
        /// Whole patients per class (meningioma, glioma, pituitary) when patient IDs are known.
        public var patientsPerClass: [Int]
        /// Fraction of each class's training images when patient IDs are not known.
        public var fraction: Double

        public init(patientsPerClass: [Int] = [4, 5, 3], fraction: Double = 0.05) {
            self.patientsPerClass = patientsPerClass
            self.fraction = fraction
        }
    }

    /// Test = images of `testFold`; validation drawn from the other folds by `validation`; train = the rest.
    public static func byFolds(_ dataset: MRIDataset, testFold: Int, validation: ValidationRule = ValidationRule(),
                               seed: UInt64) throws -> DataSplit {
        guard let folds = dataset.folds, dataset.availableFolds.contains(testFold) else {
            throw MRIDataError.missingFold(requested: testFold, available: dataset.availableFolds)
        }
        let test = dataset.labels.indices.filter { folds[$0] == testFold }
        let pool = dataset.labels.indices.filter { folds[$0] != testFold }
        return try split(dataset, pool: pool, test: test, validation: validation, seed: seed)
    }

    /// For data without folds: a seeded, class-stratified `testFraction` of patients (or of images when
    /// patients are unknown) as the test set, validation as in `byFolds`.
    public static func holdout(_ dataset: MRIDataset, testFraction: Double, validation: ValidationRule = ValidationRule(),
                               seed: UInt64) throws -> DataSplit {
        guard testFraction > 0 && testFraction < 1 else {
            throw MRIDataError.invalidSetting(name: "testFraction", reason: "\(testFraction) must be strictly between 0 and 1")
        }
        var generator = SeededGenerator(seed: seed, purpose: .holdoutTestChoice)
        var test: [Int] = []
        for group in groupsByClass(dataset, pool: Array(dataset.labels.indices)) {
            let order = generator.permutation(group.count)
            let take = Int((Double(group.count) * testFraction).rounded())
            test += order.prefix(take).flatMap { group[$0] }
        }
        let testSet = Set(test)
        let pool = dataset.labels.indices.filter { !testSet.contains($0) }
        return try split(dataset, pool: pool, test: test.sorted(), validation: validation, seed: seed)
    }

    /// Per class, the groups of `pool` indices: one group per patient when patient IDs are known
    /// (a patient's class is that of its first image), else one group per image. Groups in first-seen order.
    static func groupsByClass(_ dataset: MRIDataset, pool: [Int]) -> [[[Int]]] {
        var groups: [[[Int]]] = Array(repeating: [], count: TumourClass.allCases.count)
        guard let patients = dataset.patientIDs else {
            for i in pool { groups[dataset.labels[i]].append([i]) }
            return groups
        }
        var position: [String: (label: Int, slot: Int)] = [:]
        for i in pool {
            if let found = position[patients[i]] {
                groups[found.label][found.slot].append(i)
            } else {
                let label = dataset.labels[i]
                position[patients[i]] = (label, groups[label].count)
                groups[label].append([i])
            }
        }
        return groups
    }

    static func split(_ dataset: MRIDataset, pool: [Int], test: [Int], validation rule: ValidationRule,
                      seed: UInt64) throws -> DataSplit {
        guard rule.patientsPerClass.count == 3, rule.patientsPerClass.allSatisfy({ $0 >= 0 }) else {
            throw MRIDataError.invalidSetting(name: "validation.patientsPerClass",
                                              reason: "needs three non-negative counts, got \(rule.patientsPerClass)")
        }
        guard rule.fraction >= 0 && rule.fraction < 1 else {
            throw MRIDataError.invalidSetting(name: "validation.fraction", reason: "\(rule.fraction) must be in [0, 1)")
        }
        var generator = SeededGenerator(seed: seed, purpose: .validationChoice)
        var validation: [Int] = []
        for (label, groups) in groupsByClass(dataset, pool: pool).enumerated() {
            let order = generator.permutation(groups.count)
            // Keep at least one group of each class for training.
            let wanted = dataset.patientIDs != nil
                ? rule.patientsPerClass[label]
                : Int((Double(groups.count) * rule.fraction).rounded())
            let take = Swift.min(wanted, Swift.max(0, groups.count - 1))
            validation += order.prefix(take).flatMap { groups[$0] }
        }
        let validationSet = Set(validation)
        return DataSplit(train: pool.filter { !validationSet.contains($0) }, validation: validation.sorted(), test: test)
    }

    /// The paper's noise rule: every training image is noisy, no validation image is, and a seeded
    /// fraction `rho` of the test images (round(rho x count) of them, chosen by `seed`) is.
    public func noisyIndices(testFraction rho: Double, seed: UInt64) -> (train: [Int], validation: [Int], test: [Int]) {
        precondition(rho >= 0 && rho <= 1, "DataSplit.noisyIndices: rho \(rho) outside [0, 1]")
        var generator = SeededGenerator(seed: seed, purpose: .testNoiseChoice)
        let order = generator.permutation(test.count)
        let take = Int((Double(test.count) * rho).rounded())
        return (train, [], order.prefix(take).map { test[$0] }.sorted())
    }
}
