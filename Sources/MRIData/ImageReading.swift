/// Which slices of NIfTI volumes become images.
public enum NIfTISlices: String, Codable, Sendable, CaseIterable {
    /// One slice per manifest row, named by its `slice` column (a file with one slice needs none).
    case selected
    /// Every axial slice of every volume, in order.
    case all
}

/// How images are read from files: the intensity mapping of every format and the slice choice of NIfTI
/// volumes. Part of the data settings (`config.json`) and of the dataset cache's key.
public struct ImageReading: Codable, Equatable, Sendable {
    public var intensity: IntensityMapping
    public var niftiSlices: NIfTISlices

    public init(intensity: IntensityMapping = .standard, niftiSlices: NIfTISlices = .selected) {
        self.intensity = intensity
        self.niftiSlices = niftiSlices
    }

    /// What the cache key adds: nothing for the defaults, so caches made before these settings stay valid.
    var cacheKeyText: String {
        self == ImageReading() ? "" : "intensity \(intensity); nifti slices \(niftiSlices.rawValue)\n"
    }
}
