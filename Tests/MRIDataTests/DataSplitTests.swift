import Foundation
import Testing
import MRIData
import Tensor

@Suite struct DataSplitTests {
    static let phantom = try! PhantomGenerator(PhantomConfiguration(count: 300, patients: 75, imageSize: 16, seed: 2)).generate()

    @Test func byFoldsHoldsOutWholeValidationPatients() throws {
        let dataset = Self.phantom
        let split = try DataSplit.byFolds(dataset, testFold: 4, seed: 1)
        let folds = try #require(dataset.folds), patients = try #require(dataset.patientIDs)
        #expect(split.test == dataset.labels.indices.filter { folds[$0] == 4 })
        #expect(Set(split.train).isDisjoint(with: split.validation))
        #expect((split.train + split.validation + split.test).sorted() == Array(0..<dataset.count))
        #expect(split.validation.allSatisfy { folds[$0] != 4 })
        // 4 meningioma, 5 glioma, 3 pituitary patients, all their training-fold images, none left in train.
        let validationPatients = Set(split.validation.map { patients[$0] })
        var perClass = [0, 0, 0]
        for p in validationPatients { perClass[dataset.labels[patients.firstIndex(of: p)!]] += 1 }
        #expect(perClass == [4, 5, 3])
        #expect(split.train.allSatisfy { !validationPatients.contains(patients[$0]) })
        #expect(try DataSplit.byFolds(dataset, testFold: 4, seed: 1) == split)
        #expect(try DataSplit.byFolds(dataset, testFold: 4, seed: 2).validation != split.validation)
    }

    @Test func withoutPatientsValidationIsAStratifiedFraction() throws {
        var dataset = Self.phantom
        dataset.patientIDs = nil
        let split = try DataSplit.byFolds(dataset, testFold: 1, validation: .init(fraction: 0.1), seed: 4)
        let pool = dataset.classCounts(at: split.train + split.validation)
        let validation = dataset.classCounts(at: split.validation)
        for k in 0..<3 { #expect(validation[k] == Int((Double(pool[k]) * 0.1).rounded())) }
    }

    @Test func missingFoldListsTheFoldsThereAre() {
        expectDataError("Fold 7", "1, 2, 3, 4, 5") { _ = try DataSplit.byFolds(Self.phantom, testFold: 7, seed: 0) }
        expectDataError("validation.patientsPerClass") {
            _ = try DataSplit.byFolds(Self.phantom, testFold: 1, validation: .init(patientsPerClass: [1, 2]), seed: 0)
        }
    }

    @Test func holdoutKeepsPatientsTogether() throws {
        let dataset = Self.phantom
        let split = try DataSplit.holdout(dataset, testFraction: 0.2, seed: 6)
        let patients = try #require(dataset.patientIDs)
        let testPatients = Set(split.test.map { patients[$0] })
        #expect((split.train + split.validation).allSatisfy { !testPatients.contains(patients[$0]) })
        #expect((split.train + split.validation + split.test).sorted() == Array(0..<dataset.count))
        expectDataError("testFraction") { _ = try DataSplit.holdout(dataset, testFraction: 1, seed: 6) }
    }

    @Test func noiseRuleTrainAllValidationNoneTestFractionRho() throws {
        let split = try DataSplit.byFolds(Self.phantom, testFold: 2, seed: 1)
        let rule = split.noisyIndices(testFraction: 0.3, seed: 8)
        #expect(rule.train == split.train)
        #expect(rule.validation.isEmpty)
        #expect(rule.test.count == Int((Double(split.test.count) * 0.3).rounded()))
        #expect(Set(rule.test).isSubset(of: split.test))
        #expect(split.noisyIndices(testFraction: 0.3, seed: 8).test == rule.test)
        #expect(split.noisyIndices(testFraction: 0.3, seed: 9).test != rule.test)
        #expect(split.noisyIndices(testFraction: 0, seed: 8).test.isEmpty)
    }
}
