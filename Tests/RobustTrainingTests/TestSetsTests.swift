import Testing
import MRIData
import NN
import RobustTraining
import Tensor

/// The test sets at several rho are stored and evaluated once per distinct image, with the same sets and
/// the same metrics as evaluating each set on its own.
@Suite struct TestSetsTests {
    static let phantom = try! PhantomGenerator(PhantomConfiguration(count: 60, patients: 20, imageSize: 16, seed: 4)).generate()

    static func split() throws -> DataSplit {
        try DataSplit.holdout(phantom, testFraction: 0.4, seed: 3)
    }

    static func expectSame(_ a: LabelledImages, _ b: LabelledImages) {
        #expect(a.images == b.images)
        #expect(a.labels == b.labels)
        #expect(a.ids == b.ids)
    }

    @Test func setsSharingImagesAreStoredOnce() {
        let clean = toyData(count: 12, seed: 1)
        var noisy = clean
        for k in noisy.images.scalars.indices { noisy.images.scalars[k] = min(1, noisy.images.scalars[k] + 0.01 * Float(k % 7)) }
        // Half noisy: items 0..<6 from the noisy set, the rest clean.
        let mixed = LabelledImages(
            images: Tensor.stacked((0..<12).map { ($0 < 6 ? noisy : clean).images.items($0..<($0 + 1)).reshaped([1, 16, 16]) }),
            labels: clean.labels, ids: clean.ids)
        let sets = TestSets([(0, clean), (0.5, mixed), (1, noisy)])
        #expect(sets.images.shape == [24, 1, 16, 16])
        #expect(sets.sets.map(\.rho) == [0, 0.5, 1])
        Self.expectSame(sets.labelled(0), clean)
        Self.expectSame(sets.labelled(1), mixed)
        Self.expectSame(sets.labelled(2), noisy)
        #expect(sets.sets[1].rows == Array(12..<18) + Array(6..<12))
    }

    @Test func onlyTheSameIDWithTheSamePixelsIsMerged() {
        let a = toyData(count: 6, seed: 1)
        // Same pixels under other ids, and other pixels under the same ids: nothing to merge.
        let renamed = LabelledImages(images: a.images, labels: a.labels, ids: a.ids.map { $0 + 100 })
        let other = LabelledImages(images: toyData(count: 6, seed: 2).images, labels: a.labels, ids: a.ids)
        let sets = TestSets([(0, a), (0.5, renamed), (1, other), (1, a)])
        #expect(sets.images.shape[0] == 18)
        #expect(sets.sets[3].rows == sets.sets[0].rows)
        Self.expectSame(sets.labelled(1), renamed)
        Self.expectSame(sets.labelled(2), other)
    }

    @Test func cleanAndNoisyKeepOnlyWhatTheSetsUse() {
        let clean = toyData(count: 8, seed: 5)
        let noisy = LabelledImages(images: toyData(count: 8, seed: 6).images, labels: clean.labels, ids: clean.ids)
        let onlyNoisy = TestSets(clean: clean, noisy: noisy, noisyItems: [(1, Array(0..<8))])
        #expect(onlyNoisy.images == noisy.images)
        let half = TestSets(clean: clean, noisy: noisy, noisyItems: [(0, []), (0.5, [1, 3, 5, 7]), (1, Array(0..<8))])
        #expect(half.images.shape[0] == 16)
        #expect(half.labelled(1).images.items(1..<2) == noisy.images.items(1..<2))
        #expect(half.labelled(1).images.items(2..<3) == clean.images.items(2..<3))
        let noiseless = TestSets(clean: clean, noisy: nil, noisyItems: [(0, []), (1, Array(0..<8))])
        #expect(noiseless.images == clean.images)
        Self.expectSame(noiseless.labelled(1), clean)
    }

    /// What DataPreparation gives at each rho is what adding noise to that rho's share of the test set gives.
    @Test(arguments: [NoiseModel.none, .gaussian(), NoiseModel(kind: .ricianMagnitude(sigma: 32))])
    func preparedSetsMatchNoisingEachShare(noise: NoiseModel) throws {
        let split = try Self.split()
        let fractions = [0, 0.5, 1.0]
        let data = DataPreparation.trainingData(dataset: Self.phantom, split: split, noise: noise,
                                                testNoiseFractions: fractions, seed: 7, threads: 2)
        let cleanTest = Self.phantom.subset(split.test)
        let position = Dictionary(uniqueKeysWithValues: split.test.enumerated().map { ($1, $0) })
        for (k, rho) in fractions.enumerated() {
            let chosen = split.noisyIndices(testFraction: rho, seed: 7).test.compactMap { position[$0] }
            let expected = noise.applied(to: cleanTest, indices: chosen, seed: 7, threads: 1)
            Self.expectSame(data.testSets.labelled(k),
                            LabelledImages(images: expected.images, labels: expected.labels, ids: expected.sourceIDs))
        }
        let distinct = data.testSets.images.shape[0]
        if case .none = noise.kind {
            #expect(distinct == split.test.count)
        } else {
            #expect(distinct == 2 * split.test.count)
        }
    }

    /// The clean training images and masks are formed from the dataset when asked: the clean subset's, all of them
    /// or picked items, as the copies made at preparation used to be.
    @Test func cleanTrainingImagesAndMasksAreTheCleanSubsets() throws {
        let split = try Self.split()
        let data = DataPreparation.trainingData(dataset: Self.phantom, split: split, noise: .gaussian(),
                                                testNoiseFractions: [0], seed: 7, threads: 2)
        let clean = Self.phantom.subset(split.train)
        #expect(data.trainClean == clean.images)
        #expect(data.trainMasks == clean.masks)
        #expect(data.trainClean(items: [3, 1]) == clean.images.gathered(items: [3, 1]))
        #expect(data.trainMasks(items: [3, 1]) == clean.masks?.gathered(items: [3, 1]))
        #expect(data.trainClean != data.train.images)
    }

    @Test func evaluatingOnceMatchesEvaluatingEachSet() throws {
        let split = try Self.split()
        let data = DataPreparation.trainingData(dataset: Self.phantom, split: split, noise: .gaussian(sigma: 40),
                                                testNoiseFractions: [0, 0.25, 0.5, 1], seed: 2, threads: 2)
        var generator = SeededGenerator(seed: 11)
        let model = try CNN(configuration: CNNConfiguration(imageSize: 16, channels: [4, 8], kernelSize: 3, padding: .same),
                            generator: &generator, threads: 1)
        let trainer = Trainer(configuration: toyConfiguration())
        let together = trainer.evaluateTests(model, on: data.testSets, method: NaiveMethod())
        #expect(together.map(\.rho) == [0, 0.25, 0.5, 1])
        for (k, entry) in data.test.enumerated() {
            let alone = Trainer.evaluate(model, on: entry.set)
            #expect(together[k].evaluation.confusion == alone.confusion)
            #expect(together[k].evaluation.count == alone.count)
            #expect(abs(together[k].evaluation.meanLoss - alone.meanLoss) < 1e-6)
        }
        // The noisy share changes the result, so the sets really differ.
        #expect(together[0].evaluation.meanLoss != together[3].evaluation.meanLoss)
    }
}
