import MRIData
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
/// and `trainMasks` (optional) serve figures and denoiser metrics only; no method trains on them, so they are
/// formed when asked, from the dataset they come from (held as bytes where exact, shared with the loaded data).
public struct TrainingData: Sendable {
    public var train: LabelledImages
    public var validation: LabelledImages
    public var testSets: TestSets
    private var clean: CleanTrainingImages

    /// Where the clean training images and masks come from: given tensors, or items of a dataset.
    private enum CleanTrainingImages: Sendable {
        case tensors(images: Tensor?, masks: Tensor?)
        case items(MRIDataset, [Int])
    }

    public init(train: LabelledImages, validation: LabelledImages, test: [(rho: Double, set: LabelledImages)],
                trainClean: Tensor? = nil, trainMasks: Tensor? = nil) {
        self.init(train: train, validation: validation, testSets: TestSets(test), trainClean: trainClean, trainMasks: trainMasks)
    }

    public init(train: LabelledImages, validation: LabelledImages, testSets: TestSets,
                trainClean: Tensor? = nil, trainMasks: Tensor? = nil) {
        self.train = train
        self.validation = validation
        self.testSets = testSets
        clean = .tensors(images: trainClean, masks: trainMasks)
    }

    /// The clean training images are `dataset`'s items `cleanTrainItems` (and their masks, when it has them).
    public init(train: LabelledImages, validation: LabelledImages, testSets: TestSets, dataset: MRIDataset, cleanTrainItems: [Int]) {
        precondition(cleanTrainItems.count == train.count,
                     "TrainingData: \(cleanTrainItems.count) clean items for \(train.count) training images")
        self.train = train
        self.validation = validation
        self.testSets = testSets
        clean = .items(dataset, cleanTrainItems)
    }

    /// The training images without noise [N, 1, S, S], when known (a new array each time).
    public var trainClean: Tensor? { trainClean(items: Array(0..<train.count)) }

    /// The training images' tumour masks [N, 1, S, S], when known (a new array each time).
    public var trainMasks: Tensor? { trainMasks(items: Array(0..<train.count)) }

    /// Training images `positions` without noise [P, 1, S, S], when known.
    public func trainClean(items positions: [Int]) -> Tensor? {
        switch clean {
        case .tensors(let images, _): return images?.gathered(items: positions)
        case .items(let dataset, let items): return dataset.subset(positions.map { items[$0] }).images
        }
    }

    /// The tumour masks of training images `positions` [P, 1, S, S], when known.
    public func trainMasks(items positions: [Int]) -> Tensor? {
        switch clean {
        case .tensors(_, let masks): return masks?.gathered(items: positions)
        case .items(let dataset, let items): return dataset.maskPixels == nil ? nil : dataset.subset(positions.map { items[$0] }).masks
        }
    }

    /// The test set at each rho as its own labelled images (copies: the trainer evaluates `testSets`).
    public var test: [(rho: Double, set: LabelledImages)] { testSets.materialised }
}
