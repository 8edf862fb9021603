import Tensor

/// The three tumour classes of Cheng's figshare dataset, with the 0-based labels the models use
/// (figshare codes 1, 2, 3 minus one).
public enum TumourClass: Int, CaseIterable, Codable, Sendable, CustomStringConvertible {
    case meningioma = 0
    case glioma = 1
    case pituitary = 2

    /// Lower-case name, as in figshare-jpg's `manifest.csv`.
    public var name: String {
        switch self {
        case .meningioma: return "meningioma"
        case .glioma: return "glioma"
        case .pituitary: return "pituitary"
        }
    }

    public var description: String { name }

    /// The class of a figshare label (1 = meningioma, 2 = glioma, 3 = pituitary), or nil.
    public init?(figshareLabel: Int) {
        guard (1...TumourClass.allCases.count).contains(figshareLabel) else { return nil }
        self.init(rawValue: figshareLabel - 1)
    }

    /// The class a folder or class name means, case-insensitively: `glioma`, `glioma_tumor`,
    /// `Glioma-Tumour`, ... Returns nil for anything else (including `notumor`).
    public init?(folderName: String) {
        var key = folderName.lowercased()
        for suffix in ["_tumor", "_tumour", "-tumor", "-tumour", " tumor", " tumour"] where key.hasSuffix(suffix) {
            key.removeLast(suffix.count)
        }
        guard let match = TumourClass.allCases.first(where: { $0.name == key }) else { return nil }
        self = match
    }
}

/// A labelled set of greyscale brain MRI slices, preprocessed to one square size.
///
/// images: [N, 1, S, S], Float in [0, 1]; masks (when known): [N, 1, S, S] with 0 / 1 tumour pixels. Both are held as
/// bytes where that is exact (`PixelStore`): preprocessed images are multiples of 1/255, masks 0 or 1.
public struct MRIDataset: Sendable, Equatable {
    /// The images' pixels (bytes k for k / 255 where exact).
    public private(set) var pixels: PixelStore
    /// The masks' pixels (bytes 0 / 1 where exact).
    public private(set) var maskPixels: PixelStore?

    /// images: [N, 1, S, S] in [0, 1], as Float (a new array each time when held as bytes: gather first with `subset`).
    public var images: Tensor {
        get { pixels.tensor }
        set { pixels = PixelStore(newValue, scale: 255) }
    }
    /// 0 meningioma, 1 glioma, 2 pituitary (see `TumourClass`), one per image.
    public var labels: [Int]
    /// Cross-validation fold of each image (figshare: 1...5, patient-wise), when the source has folds.
    public var folds: [Int]?
    /// Patient of each image, when the source names patients.
    public var patientIDs: [String]?
    /// masks: [N, 1, S, S], 1 inside the tumour, when the source has outlines or masks (a new array each time).
    public var masks: Tensor? {
        get { maskPixels?.tensor }
        set { maskPixels = newValue.map { PixelStore($0, scale: 1) } }
    }
    /// The figshare id of each image, or its running index in the source.
    public var sourceIDs: [Int]
    /// Human-readable description of where the data came from.
    public var sourceDescription: String

    public init(images: Tensor, labels: [Int], folds: [Int]? = nil, patientIDs: [String]? = nil,
                masks: Tensor? = nil, sourceIDs: [Int]? = nil, sourceDescription: String) {
        self.init(pixels: PixelStore(images, scale: 255), labels: labels, folds: folds, patientIDs: patientIDs,
                  maskPixels: masks.map { PixelStore($0, scale: 1) }, sourceIDs: sourceIDs, sourceDescription: sourceDescription)
    }

    /// The same from pixel stores (bytes read from the cache, or a subset's).
    public init(pixels: PixelStore, labels: [Int], folds: [Int]? = nil, patientIDs: [String]? = nil,
                maskPixels: PixelStore? = nil, sourceIDs: [Int]? = nil, sourceDescription: String) {
        precondition(pixels.shape.count == 4 && pixels.shape[1] == 1 && pixels.shape[2] == pixels.shape[3],
                     "MRIDataset: images must be [N, 1, S, S], got \(pixels.shape)")
        let n = pixels.shape[0]
        precondition(labels.count == n, "MRIDataset: \(labels.count) labels for images \(pixels.shape)")
        precondition(labels.allSatisfy { TumourClass(rawValue: $0) != nil },
                     "MRIDataset: labels must be 0, 1 or 2")
        precondition(folds == nil || folds!.count == n, "MRIDataset: \(folds!.count) folds for \(n) images")
        precondition(patientIDs == nil || patientIDs!.count == n,
                     "MRIDataset: \(patientIDs!.count) patient IDs for \(n) images")
        precondition(maskPixels == nil || maskPixels!.shape == pixels.shape,
                     "MRIDataset: masks \(maskPixels!.shape) differ from images \(pixels.shape)")
        precondition(sourceIDs == nil || sourceIDs!.count == n,
                     "MRIDataset: \(sourceIDs!.count) source IDs for \(n) images")
        self.pixels = pixels
        self.labels = labels
        self.folds = folds
        self.patientIDs = patientIDs
        self.maskPixels = maskPixels
        self.sourceIDs = sourceIDs ?? Array(0..<n)
        self.sourceDescription = sourceDescription
    }

    /// Number of images N.
    public var count: Int { labels.count }
    /// Side S of the square images.
    public var imageSize: Int { pixels.shape[2] }

    /// The images at `indices`, in that order, with their labels, folds, patients, masks and ids.
    public func subset(_ indices: [Int]) -> MRIDataset {
        MRIDataset(
            pixels: pixels.gathered(items: indices),
            labels: indices.map { labels[$0] },
            folds: folds.map { f in indices.map { f[$0] } },
            patientIDs: patientIDs.map { p in indices.map { p[$0] } },
            maskPixels: maskPixels?.gathered(items: indices),
            sourceIDs: indices.map { sourceIDs[$0] },
            sourceDescription: sourceDescription)
    }

    /// Images per class, indexed by label (always three entries).
    public var classCounts: [Int] { Self.classCounts(of: labels) }

    /// Images per class among `indices`.
    public func classCounts(at indices: [Int]) -> [Int] { Self.classCounts(of: indices.map { labels[$0] }) }

    /// Images per class for a list of labels (0, 1, 2).
    public static func classCounts(of labels: [Int]) -> [Int] {
        var counts = [Int](repeating: 0, count: TumourClass.allCases.count)
        for label in labels { counts[label] += 1 }
        return counts
    }

    /// The distinct folds present, sorted (empty when the source has no folds).
    public var availableFolds: [Int] { Array(Set(folds ?? [])).sorted() }

    /// One line per class, e.g. "meningioma 708, glioma 1426, pituitary 930".
    public static func describeCounts(_ counts: [Int]) -> String {
        TumourClass.allCases.map { "\($0.name) \(counts[$0.rawValue])" }.joined(separator: ", ")
    }
}
