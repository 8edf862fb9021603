import Foundation
import Testing
import NN
import RobustTraining
import Tensor

/// A small learnable problem: class c is a bright square at one of three heights, centred left-right
/// (so that horizontal flips keep the class), plus noise.
func toyData(count: Int, size: Int = 16, seed: UInt64, noise: Float = 0.1) -> LabelledImages {
    var generator = SeededGenerator(seed: seed)
    var images = Tensor(zeros: [count, 1, size, size])
    var labels: [Int] = []
    for i in 0..<count {
        let label = i % 3
        labels.append(label)
        let (row, col) = [(1, size / 2 - 2), (size / 2 - 2, size / 2 - 2), (size - 6, size / 2 - 2)][label]
        for y in 0..<size {
            for x in 0..<size {
                let inside = y >= row && y < row + 5 && x >= col && x < col + 5
                let value = (inside ? 0.8 : 0.2) + noise * generator.nextGaussian()
                images.scalars[i * size * size + y * size + x] = min(max(value, 0), 1)
            }
        }
    }
    return LabelledImages(images: images, labels: labels)
}

func toyTrainingData(seed: UInt64 = 1) -> TrainingData {
    TrainingData(train: toyData(count: 96, seed: seed), validation: toyData(count: 15, seed: seed + 1),
                 test: [(rho: 0, set: toyData(count: 30, seed: seed + 2))])
}

func toyConfiguration(epochs: Int = 3) -> TrainingConfiguration {
    TrainingConfiguration(method: .naive, model: CNNConfiguration(imageSize: 16, channels: [4, 8], kernelSize: 3, padding: .same),
                          epochs: epochs, batchSize: 8, learningRate: 0.01, seed: 3, threads: 1)
}

@Suite struct TrainerTests {
    @Test func naiveTrainingLearnsTheToyProblem() throws {
        let trainer = Trainer(configuration: toyConfiguration(epochs: 6))
        let data = toyTrainingData()
        var state = try trainer.initialState(data: data)
        var method = NaiveMethod()
        try trainer.run(data: data, method: &method, state: &state)
        #expect(state.history.count == 6)
        #expect(state.history.last!.test[0].evaluation.accuracy > 0.9)
        #expect(state.history.last!.trainLoss < state.history.first!.trainLoss)
    }

    @Test func resumingFromACheckpointGivesTheSameRunAsAnUninterruptedOne() throws {
        let data = toyTrainingData()
        let configuration = toyConfiguration(epochs: 3)
        let trainer = Trainer(configuration: configuration)
        var method = NaiveMethod()
        var full = try trainer.initialState(data: data)
        try trainer.run(data: data, method: &method, state: &full)

        // Stop after two epochs (as a killed process: the checkpoint of epoch 2 is the last one written),
        // restore into a fresh state, finish. The recipe's schedule, EMA and statistics must survive this.
        let path = NSTemporaryDirectory() + "resume-\(UUID().uuidString)/checkpoint.safetensors"
        struct Interrupted: Error {}
        var partial = try trainer.initialState(data: data)
        #expect(throws: Interrupted.self) {
            try trainer.run(data: data, method: &method, state: &partial) { state, method in
                try TrainingCheckpoint.save(state, method: method, configuration: configuration,
                                            originalTrainImages: data.train.images, to: path)
                if state.completedEpochs == 2 { throw Interrupted() }
            }
        }
        var resumed = try TrainingCheckpoint.load(from: path, configuration: configuration,
                                                  fresh: try trainer.initialState(data: data), method: &method)
        #expect(resumed.completedEpochs == 2)
        try trainer.run(data: data, method: &method, state: &resumed)
        #expect(resumed.history.map(\.trainLoss) == full.history.map(\.trainLoss))
        #expect(resumed.model.namedTensors().map(\.tensor) == full.model.namedTensors().map(\.tensor))
        #expect(resumed.averagedModel?.namedTensors().map(\.tensor) == full.averagedModel?.namedTensors().map(\.tensor))
        #expect(resumed.history.map(\.test) == full.history.map(\.test))
        #expect(resumed.history.map(\.adaptedTest) == full.history.map(\.adaptedTest))
        #expect(resumed.history.map(\.learningRate) == full.history.map(\.learningRate))
    }

    @Test func aCheckpointFromOtherSettingsIsRefusedWithAClearMessage() throws {
        let data = toyTrainingData()
        let configuration = toyConfiguration(epochs: 1)
        let trainer = Trainer(configuration: configuration)
        var method = NaiveMethod()
        var state = try trainer.initialState(data: data)
        try trainer.run(data: data, method: &method, state: &state)
        let path = NSTemporaryDirectory() + "resume-\(UUID().uuidString)/checkpoint.safetensors"
        try TrainingCheckpoint.save(state, method: method, configuration: configuration, originalTrainImages: data.train.images, to: path)
        var other = configuration
        other.learningRate = 0.001
        other.batchSize = configuration.batchSize + 1
        let error = #expect(throws: TrainingError.self) {
            _ = try TrainingCheckpoint.load(from: path, configuration: other, fresh: state, method: &method)
        }
        // The refusal names each differing setting with its stored and its new value, and nothing else.
        let message = "\(try #require(error))"
        #expect(message.contains("training.learningRate: stored \(configuration.learningRate), now 0.001"), "\(message)")
        #expect(message.contains("training.batchSize: stored \(configuration.batchSize), now \(other.batchSize)"), "\(message)")
        #expect(message.contains("2 differ"), "\(message)")
    }

    @Test func aDivergingRunStopsWithAMessage() throws {
        var configuration = toyConfiguration(epochs: 2)
        configuration.learningRate = 1e30
        let trainer = Trainer(configuration: configuration)
        let data = toyTrainingData()
        var state = try trainer.initialState(data: data)
        var method = NaiveMethod()
        do {
            try trainer.run(data: data, method: &method, state: &state)
            Issue.record("expected the run to diverge")
        } catch let error as TrainingError {
            guard case .diverged = error else { Issue.record("unexpected error \(error)"); return }
            #expect(error.description.contains("--lr"))
        }
    }

    @Test func flipsMirrorEachRowOfTheChosenImages() {
        var images = Tensor(shape: [2, 1, 1, 3], scalars: [1, 2, 3, 4, 5, 6])
        Augmentation.flipHorizontally(&images, where: [true, false])
        #expect(images.scalars == [3, 2, 1, 4, 5, 6])
    }
}

/// The same seed gives the same bytes at any thread count (a Slurm task with other --cpus-per-task reproduces
/// a local run): every reduction is split into pieces that do not depend on the thread count.
@Suite struct ThreadCountTests {
    @Test func theSameSeedTrainsToTheSameBytesAtOneTwoAndThreeThreads() throws {
        var models: [[Tensor]] = []
        var histories: [[Double]] = []
        for threads in [1, 2, 3] {
            var configuration = toyConfiguration(epochs: 2)
            configuration.threads = threads
            configuration.recipe = .stable
            configuration.model = CNNConfiguration(imageSize: 16, channels: [4, 8], kernelSize: 3, padding: .same)
            let (trainer, data, state, method) = try trainedNaiveRun(configuration)
            let evaluated = trainer.evaluationModels(state: state, data: data, method: method).model
            models.append(state.model.namedTensors().map(\.tensor) + evaluated.namedTensors().map(\.tensor))
            histories.append(state.history.map(\.trainLoss) + state.history.map { $0.test[0].evaluation.meanLoss })
        }
        #expect(models[1] == models[0] && models[2] == models[0])
        #expect(histories[1] == histories[0] && histories[2] == histories[0])
    }
}
