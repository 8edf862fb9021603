import Tensor

/// Images with labels: images [N, 1, S, S] in [0, 1], labels 0..<classes, and the source ids.
public struct LabelledImages: Sendable {
    public var images: Tensor
    public var labels: [Int]
    public var ids: [Int]

    public init(images: Tensor, labels: [Int], ids: [Int]? = nil) {
        precondition(images.rank == 4 && images.shape[0] == labels.count,
                     "LabelledImages: \(labels.count) labels for images \(images.shape)")
        self.images = images
        self.labels = labels
        self.ids = ids ?? Array(0..<labels.count)
    }

    public var count: Int { labels.count }
}

/// The sets one training run uses: noisy training images, clean validation images, and the test set at
/// each test-noise fraction rho (stored once as `testSets`: the sets share their images). `trainClean`
/// and `trainMasks` (optional) serve figures and denoiser metrics only; no method trains on them.
public struct TrainingData: Sendable {
    public var train: LabelledImages
    public var validation: LabelledImages
    public var testSets: TestSets
    public var trainClean: Tensor?
    public var trainMasks: Tensor?

    public init(train: LabelledImages, validation: LabelledImages, test: [(rho: Double, set: LabelledImages)],
                trainClean: Tensor? = nil, trainMasks: Tensor? = nil) {
        self.init(train: train, validation: validation, testSets: TestSets(test), trainClean: trainClean, trainMasks: trainMasks)
    }

    public init(train: LabelledImages, validation: LabelledImages, testSets: TestSets,
                trainClean: Tensor? = nil, trainMasks: Tensor? = nil) {
        self.train = train
        self.validation = validation
        self.testSets = testSets
        self.trainClean = trainClean
        self.trainMasks = trainMasks
    }

    /// The test set at each rho as its own labelled images (copies: the trainer evaluates `testSets`).
    public var test: [(rho: Double, set: LabelledImages)] { testSets.materialised }
}
