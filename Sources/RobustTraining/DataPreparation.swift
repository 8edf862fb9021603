import MRIData
import Tensor

/// Turns a dataset and a split into the sets a run trains and is tested on, following the paper's noise
/// rule: every training image noisy, no validation image, and for each test-noise fraction rho a seeded
/// share rho of the test images. Image i's noise depends only on (seed, its source id), so the noisy
/// test images at rho = 0.5 are the same images, with the same noise, as in the rho = 1 set, and the test
/// sets are stored (and evaluated) as one set of distinct images.
public enum DataPreparation {
    public static func trainingData(dataset: MRIDataset, split: DataSplit, noise: NoiseModel,
                                    testNoiseFractions: [Double], seed: UInt64, threads: Int = 2) -> TrainingData {
        func labelled(_ subset: MRIDataset) -> LabelledImages {
            LabelledImages(images: subset.images, labels: subset.labels, ids: subset.sourceIDs)
        }
        // Noise is keyed by source id, so applying it to a subset gives the same pixels as to the whole set.
        let cleanTrain = dataset.subset(split.train)
        let noisyTrain = noise.applied(to: cleanTrain, indices: Array(0..<cleanTrain.count), seed: seed, threads: threads)
        return TrainingData(
            train: labelled(noisyTrain),
            validation: labelled(dataset.subset(split.validation)),
            testSets: testSets(dataset: dataset, split: split, noise: noise, testNoiseFractions: testNoiseFractions,
                               seed: seed, threads: threads),
            dataset: dataset, cleanTrainItems: split.train)
    }

    /// The test images of `split` at each rho: a seeded share rho of them noisy, stored as distinct images.
    public static func testSets(dataset: MRIDataset, split: DataSplit, noise: NoiseModel,
                                testNoiseFractions: [Double], seed: UInt64, threads: Int = 2) -> TestSets {
        func labelled(_ subset: MRIDataset) -> LabelledImages {
            LabelledImages(images: subset.images, labels: subset.labels, ids: subset.sourceIDs)
        }
        let cleanTest = dataset.subset(split.test)
        let position = Dictionary(uniqueKeysWithValues: split.test.enumerated().map { ($1, $0) })
        let noisyItems = testNoiseFractions.map { rho in
            (rho: rho, items: split.noisyIndices(testFraction: rho, seed: seed).test.compactMap { position[$0] })
        }
        // Every test image noisy once; each rho's set takes its noisy share from these.
        var noisyTest: MRIDataset?
        if case .none = noise.kind {} else if noisyItems.contains(where: { !$0.items.isEmpty }) {
            noisyTest = noise.applied(to: cleanTest, indices: Array(0..<cleanTest.count), seed: seed, threads: threads)
        }
        return TestSets(clean: labelled(cleanTest), noisy: noisyTest.map(labelled), noisyItems: noisyItems)
    }
}
