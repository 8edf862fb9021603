import Tensor

/// The test set at every test-noise fraction rho, stored once. The sets share their images: at rho = 0.5
/// the noisy images are those of rho = 1 and the others those of rho = 0, and with no noise every set is
/// the clean one. Each distinct image is kept (and evaluated) once, and each set is a list of rows.
public struct TestSets: Sendable {
    /// The distinct images [U, C, S, S] that at least one set uses.
    public let images: Tensor
    /// The source id of each distinct image.
    public let ids: [Int]
    /// Each set: its rho, the row of `images` of each of its items, and their labels.
    public let sets: [(rho: Double, rows: [Int], labels: [Int])]
    /// Whether each distinct image is a clean one (the clean share of the sets, which test-time adaptation
    /// to clean statistics applies to).
    public let cleanRows: [Bool]

    /// Keeps each image once: an item of a later set is the same image as an earlier item when the two have
    /// the same source id and exactly the same pixels (ids only narrow the search; pixels decide).
    public init(_ sets: [(rho: Double, set: LabelledImages)]) {
        var distinct: [(set: Int, item: Int)] = []
        var rowsByID: [Int: [Int]] = [:]
        var rowsOfSets: [[Int]] = []
        for (s, entry) in sets.enumerated() {
            let set = entry.set
            if s > 0 {
                precondition(Array(set.images.shape.dropFirst()) == Array(sets[0].set.images.shape.dropFirst()),
                             "TestSets: set \(s) has images \(set.images.shape), set 0 \(sets[0].set.images.shape)")
            }
            var rows: [Int] = []
            rows.reserveCapacity(set.count)
            for i in 0..<set.count {
                let id = set.ids[i]
                let match = rowsByID[id, default: []].first { row in
                    let (t, j) = distinct[row]
                    return Self.samePixels(sets[t].set.images, j, set.images, i)
                }
                if let match {
                    rows.append(match)
                } else {
                    rowsByID[id, default: []].append(distinct.count)
                    rows.append(distinct.count)
                    distinct.append((s, i))
                }
            }
            rowsOfSets.append(rows)
        }
        images = Self.stack(distinct.map { (sets[$0.set].set.images, $0.item) },
                            itemShape: sets.first.map { Array($0.set.images.shape.dropFirst()) } ?? [1, 1, 1])
        ids = distinct.map { sets[$0.set].set.ids[$0.item] }
        self.sets = zip(sets, rowsOfSets).map { ($0.rho, $1, $0.set.labels) }
        // Without noise flags, an image is clean when a set at rho = 0 (all clean) uses it.
        var clean = [Bool](repeating: false, count: distinct.count)
        for (entry, rows) in zip(sets, rowsOfSets) where entry.rho == 0 {
            for row in rows { clean[row] = true }
        }
        cleanRows = clean
    }

    /// From the clean test images and the same images with noise on every one (nil for no noise: every set
    /// is then the clean set), given which items are noisy in each set. Only the images a set uses are kept.
    public init(clean: LabelledImages, noisy: LabelledImages?, noisyItems: [(rho: Double, items: [Int])]) {
        if let noisy {
            precondition(noisy.images.shape == clean.images.shape && noisy.labels == clean.labels,
                         "TestSets: noisy images \(noisy.images.shape) do not match the clean \(clean.images.shape)")
        }
        let n = clean.count
        let flags = noisyItems.map { entry -> [Bool] in
            var isNoisy = [Bool](repeating: false, count: n)
            if noisy != nil {
                for i in entry.items {
                    precondition((0..<n).contains(i), "TestSets: noisy item \(i) out of range 0..<\(n)")
                    isNoisy[i] = true
                }
            }
            return isNoisy
        }
        // Row of clean item i and of noisy item i, assigned in first-use order (clean items first).
        var cleanRow = [Int?](repeating: nil, count: n), noisyRow = [Int?](repeating: nil, count: n)
        var sources: [(Tensor, Int)] = [], sourceIDs: [Int] = []
        for isNoisy in flags {
            for i in 0..<n where !isNoisy[i] && cleanRow[i] == nil {
                cleanRow[i] = sources.count
                sources.append((clean.images, i))
                sourceIDs.append(clean.ids[i])
            }
        }
        if let noisy {
            for isNoisy in flags {
                for i in 0..<n where isNoisy[i] && noisyRow[i] == nil {
                    noisyRow[i] = sources.count
                    sources.append((noisy.images, i))
                    sourceIDs.append(noisy.ids[i])
                }
            }
        }
        images = Self.stack(sources, itemShape: Array(clean.images.shape.dropFirst()))
        ids = sourceIDs
        let cleanSet = Set(cleanRow.compactMap { $0 })
        cleanRows = (0..<sources.count).map { cleanSet.contains($0) }
        sets = zip(noisyItems, flags).map { entry, isNoisy in
            (entry.rho, (0..<n).map { isNoisy[$0] ? noisyRow[$0]! : cleanRow[$0]! }, clean.labels)
        }
    }

    private static func stack(_ sources: [(images: Tensor, item: Int)], itemShape: [Int]) -> Tensor {
        let size = itemShape.reduce(1, *)
        var scalars = [Float](repeating: 0, count: sources.count * size)
        scalars.withUnsafeMutableBufferPointer { out in
            for (row, source) in sources.enumerated() {
                source.images.withUnsafeBufferPointer { src in
                    for k in 0..<size { out[row * size + k] = src[source.item * size + k] }
                }
            }
        }
        return Tensor(shape: [sources.count] + itemShape, scalars: scalars)
    }

    /// The number of sets.
    public var count: Int { sets.count }

    /// Set `index` as its own labelled images (a copy of its rows).
    public func labelled(_ index: Int) -> LabelledImages {
        let set = sets[index]
        return LabelledImages(images: images.gathered(items: set.rows), labels: set.labels,
                              ids: set.rows.map { ids[$0] })
    }

    /// Every set as its own labelled images, with its rho.
    public var materialised: [(rho: Double, set: LabelledImages)] {
        sets.indices.map { (sets[$0].rho, labelled($0)) }
    }

    /// Each set's metrics, from the logits [U, classes] of the distinct images.
    public func evaluations(logits: Tensor, classes: Int) -> [Evaluation] {
        precondition(logits.rank == 2 && logits.shape[0] == images.shape[0],
                     "TestSets.evaluations: logits \(logits.shape) for \(images.shape[0]) distinct images")
        return sets.map { set in
            Trainer.evaluation(logits: logits.gathered(items: set.rows), labels: set.labels, classes: classes)
        }
    }

    private static func samePixels(_ a: Tensor, _ i: Int, _ b: Tensor, _ j: Int) -> Bool {
        let size = a.itemCount
        return a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                for k in 0..<size where pa[i * size + k].bitPattern != pb[j * size + k].bitPattern { return false }
                return true
            }
        }
    }
}
