import Foundation
import Tensor

/// Synthetic brain MRI slices with meningioma, glioma and pituitary tumours and their masks:
/// the embedded default when no real data is given. Synthetic; see `PhantomConfiguration`.
///
/// Each synthetic patient has one tumour (one class) and contributes a few adjacent axial slices:
/// the same head (shape, size, rotation, shift, bias field) with the tumour's cross-section shrinking
/// away from its centre. The class cues follow the real ones: meningioma extra-axial (on the skull's
/// inner surface or the falx), round, bright and homogeneous; glioma intra-axial, irregular, an
/// enhancing rim around a dark necrotic core, with darker oedema around it; pituitary small, on the
/// midline at the sella (lower centre). `difficulty` widens the overlaps (see `PhantomConfiguration`),
/// and adds "mimics": smaller, fainter look-alikes of another class's tumour, outside the mask.
/// Images are normalised per image to max 1, like the real ones; masks are 0/1.
/// Folds are assigned per patient, stratified by class. Image i depends only on (seed, its patient, i).
public struct PhantomGenerator: Sendable {
    public var configuration: PhantomConfiguration

    public init(_ configuration: PhantomConfiguration = PhantomConfiguration()) {
        self.configuration = configuration
    }

    /// One patient's plan: class, fold, and the indices of its slices.
    struct Patient {
        var index: Int
        var tumourClass: TumourClass
        var fold: Int
        var slices: Int
    }

    /// Splits `total` into parts proportional to `weights` (largest remainders).
    static func apportion(_ total: Int, _ weights: [Double]) -> [Int] {
        let sum = weights.reduce(0, +)
        let exact = weights.map { Double(total) * $0 / sum }
        var parts = exact.map { Int($0.rounded(.down)) }
        let order = exact.indices.sorted { exact[$0] - Double(parts[$0]) > exact[$1] - Double(parts[$1]) }
        for k in 0..<(total - parts.reduce(0, +)) { parts[order[k % order.count]] += 1 }
        return parts
    }

    /// Patients in image order, with classes, folds and slice counts.
    func plan() -> [Patient] {
        let c = configuration
        var generator = SeededGenerator(seed: c.seed, purpose: .phantomLayout)
        let imagesPerClass = Self.apportion(c.count, c.classBalance)
        var patientsPerClass = Self.apportion(c.patients, c.classBalance)
        for k in 0..<3 { patientsPerClass[k] = Swift.min(Swift.max(patientsPerClass[k], imagesPerClass[k] > 0 ? 1 : 0), imagesPerClass[k]) }
        var patients: [Patient] = []
        for tumourClass in TumourClass.allCases {
            let k = tumourClass.rawValue
            let n = patientsPerClass[k]
            guard n > 0 else { continue }
            let foldOffset = generator.nextInt(below: c.folds)
            let foldOrder = generator.permutation(n)
            for j in 0..<n {
                let slices = imagesPerClass[k] / n + (j < imagesPerClass[k] % n ? 1 : 0)
                patients.append(Patient(index: 0, tumourClass: tumourClass,
                                        fold: (foldOrder[j] + foldOffset) % c.folds + 1, slices: slices))
            }
        }
        let order = generator.permutation(patients.count)
        return order.enumerated().map { position, original in
            var patient = patients[original]
            patient.index = position
            return patient
        }
    }

    /// Renders the dataset: images [N, 1, S, S] in [0, 1], masks [N, 1, S, S].
    public func generate() throws -> MRIDataset {
        try configuration.validate()
        let c = configuration
        let patients = plan()
        var scenes: [PhantomScene] = []
        var labels: [Int] = [], folds: [Int] = [], patientIDs: [String] = []
        for patient in patients {
            var patientGenerator = SeededGenerator(seed: c.seed, purpose: .phantomPatient, index: patient.index)
            let head = Self.sampleHead(&patientGenerator)
            let tumour = Self.sampleTumour(patient.tumourClass, head: head, difficulty: c.difficulty, &patientGenerator)
            let spacing = Swift.min(0.3, 1.4 / Double(patient.slices))
            for j in 0..<patient.slices {
                var sliceGenerator = SeededGenerator(seed: c.seed, purpose: .phantomSlice, index: scenes.count)
                let offset = (Double(j) - Double(patient.slices - 1) / 2) * spacing
                scenes.append(Self.slice(head: head, tumour: tumour, offset: offset, difficulty: c.difficulty, &sliceGenerator))
                labels.append(patient.tumourClass.rawValue)
                folds.append(patient.fold)
                patientIDs.append(String(format: "phantom-%04d", patient.index))
            }
        }
        let size = c.imageSize
        let pixels = size * size
        var images = [Float](repeating: 0, count: scenes.count * pixels)
        var masks = [Float](repeating: 0, count: scenes.count * pixels)
        images.withUnsafeMutableBufferPointer { imageBuffer in
            masks.withUnsafeMutableBufferPointer { maskBuffer in
                let shared = UncheckedSendable((imageBuffer, maskBuffer))
                Parallel.forEachChunk(count: scenes.count, chunks: 2) { _, range in
                    let (imageOut, maskOut) = shared.value
                    for i in range {
                        let (image, mask) = scenes[i].render(size: size)
                        let normalised = Preprocessing.normalizedToUnitMaximum(image)
                        for j in 0..<pixels {
                            imageOut[i * pixels + j] = normalised[j]
                            maskOut[i * pixels + j] = mask[j]
                        }
                    }
                }
            }
        }
        let shape = [scenes.count, 1, size, size]
        return MRIDataset(
            images: Tensor(shape: shape, scalars: images), labels: labels, folds: folds, patientIDs: patientIDs,
            masks: Tensor(shape: shape, scalars: masks), sourceIDs: Array(0..<scenes.count),
            sourceDescription: "synthetic phantom (\(scenes.count) slices, \(patients.count) patients, seed \(c.seed), "
                + "difficulty \(c.difficulty))")
    }

    // MARK: - Sampling

    static func uniform(_ g: inout SeededGenerator, _ low: Double, _ high: Double) -> Double {
        low + (high - low) * g.nextUniformDouble()
    }

    /// Head shape, pose, tissue levels, texture and bias field of one patient (tumour and blobs empty).
    static func sampleHead(_ g: inout SeededGenerator) -> PhantomScene {
        let a = uniform(&g, 0.66, 0.80)
        let b = Swift.min(0.9, a * uniform(&g, 1.08, 1.25))
        let texture = (0..<5).map { _ in
            PhantomScene.Wave(fx: uniform(&g, -9, 9), fy: uniform(&g, -9, 9),
                              phase: uniform(&g, 0, 2 * .pi), amplitude: uniform(&g, 0.015, 0.045))
        }
        return PhantomScene(
            a: a, b: b, rotation: uniform(&g, -0.25, 0.25), shiftX: uniform(&g, -0.06, 0.06), shiftY: uniform(&g, -0.05, 0.05),
            gyri: 11 + g.nextInt(below: 8), gyriPhase: uniform(&g, 0, 2 * .pi), gyriAmplitude: uniform(&g, 0.02, 0.04),
            greyLevel: uniform(&g, 0.40, 0.48), whiteLevel: uniform(&g, 0.56, 0.66), scalpLevel: uniform(&g, 0.7, 0.95),
            texture: texture,
            bias: (uniform(&g, -0.15, 0.15), uniform(&g, -0.15, 0.15), uniform(&g, -0.15, 0.1)),
            ventricleScale: uniform(&g, 0.8, 1.2), tumour: nil, blobs: [])
    }

    /// The tumour of one patient, at its largest cross-section, in head coordinates.
    static func sampleTumour(_ kind: TumourClass, head: PhantomScene, difficulty d: Double,
                             _ g: inout SeededGenerator) -> PhantomTumour {
        let atypical = g.nextUniformDouble() < 0.4 * d
        let contrast = uniform(&g, 1 - 0.6 * d, 1)
        let angle = uniform(&g, -Double.pi, Double.pi)
        func smoothOutline(_ amplitude: Double, _ orders: ClosedRange<Int>) -> [(k: Double, amplitude: Double, phase: Double)] {
            orders.map { k in (Double(k), uniform(&g, 0, amplitude) / Double(k - orders.lowerBound + 1), uniform(&g, 0, 2 * .pi)) }
        }
        switch kind {
        case .meningioma:
            let radius = uniform(&g, 0.10 - 0.03 * d, 0.22)
            var x: Double, y: Double
            if atypical {
                // Parafalcine: against the midline falx rather than the convexity.
                let side: Double = g.nextUniformDouble() < 0.5 ? -1 : 1
                x = side * radius * 0.9
                y = uniform(&g, -0.5, 0.2) * head.b
            } else {
                // On the inner skull surface, bulging inward.
                let rho = PhantomScene.csfEdge - 0.45 * radius / Swift.min(head.a, head.b)
                x = head.a * rho * cos(angle)
                y = head.b * rho * sin(angle)
            }
            return PhantomTumour(kind: kind, x: x, y: y, radius: radius, harmonics: smoothOutline(0.06, 2...3),
                                 level: uniform(&g, 0.88, 1.0), coreLevel: 0, rimFraction: 0, necrotic: false,
                                 oedemaExtent: atypical ? 1.3 : 1, oedemaFactor: 0.85, contrast: contrast)
        case .glioma:
            let radius = uniform(&g, 0.11 - 0.03 * d, 0.25)
            let rho = atypical ? uniform(&g, 0.55, 0.72) : uniform(&g, 0.15, 0.6)
            let necrotic = g.nextUniformDouble() > 0.5 * d
            return PhantomTumour(kind: kind, x: head.a * rho * cos(angle), y: head.b * rho * sin(angle), radius: radius,
                                 harmonics: smoothOutline(0.28, 2...5), level: uniform(&g, 0.8, 0.95),
                                 coreLevel: uniform(&g, 0.18, 0.35), rimFraction: uniform(&g, 0.25, 0.5),
                                 necrotic: necrotic, oedemaExtent: uniform(&g, 1.3, 1.9),
                                 oedemaFactor: uniform(&g, 0.6, 0.8), contrast: contrast)
        case .pituitary:
            let radius = atypical ? uniform(&g, 0.08, 0.09 + 0.1 * d) : uniform(&g, 0.045, 0.09)
            let x = (0.02 + 0.05 * d) * Double(g.nextGaussian())
            let y = head.b * (atypical ? uniform(&g, 0.3, 0.45) : uniform(&g, 0.45, 0.56))
            return PhantomTumour(kind: kind, x: x, y: y, radius: radius, harmonics: smoothOutline(0.08, 2...3),
                                 level: uniform(&g, 0.85, 0.98), coreLevel: 0, rimFraction: 0, necrotic: false,
                                 oedemaExtent: 1, oedemaFactor: 1, contrast: contrast)
        }
    }

    /// Slice at `offset` (in tumour radii) from the tumour's centre: the tumour's cross-section shrinks
    /// as sqrt(1 - offset^2), the head and ventricles change slightly, distractor blobs are drawn afresh.
    static func slice(head: PhantomScene, tumour: PhantomTumour, offset: Double, difficulty d: Double,
                      _ g: inout SeededGenerator) -> PhantomScene {
        var scene = head
        let shrink = 1 - 0.04 * abs(offset)
        scene.a *= shrink
        scene.b *= shrink
        scene.ventricleScale *= 1 - 0.25 * abs(offset)
        scene.gyriPhase += offset * 0.8
        var cut = tumour
        cut.radius *= (Swift.max(0.2, 1 - offset * offset)).squareRoot()
        scene.tumour = cut
        let blobCount = Int(uniform(&g, 0, 1 + 4 * d))
        scene.blobs = (0..<blobCount).map { _ in
            let rho = uniform(&g, 0.1, 0.78), angle = uniform(&g, -Double.pi, Double.pi)
            return (scene.a * rho * cos(angle), scene.b * rho * sin(angle),
                    uniform(&g, 0.012, 0.03 + 0.05 * d), uniform(&g, 0.7, 0.95))
        }
        // A mimic: a smaller, fainter tumour of another class (probability 0.6 d), not in the mask.
        if g.nextUniformDouble() < 0.6 * d {
            let others = TumourClass.allCases.filter { $0 != tumour.kind }
            var mimic = sampleTumour(others[g.nextInt(below: others.count)], head: scene, difficulty: d, &g)
            mimic.radius *= uniform(&g, 0.4, 0.7)
            mimic.contrast *= uniform(&g, 0.4, 0.8)
            scene.mimics = [mimic]
        }
        return scene
    }
}
