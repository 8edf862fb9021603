/// The noise types by name (`--noise`), each with the level it gets when none is given. A `NoiseModel`
/// is a type at a level; `NoiseModel.type` and `NoiseModel.level` take one apart.
public enum NoiseType: String, Codable, Sendable, CaseIterable {
    case none
    /// Gaussian, sigma 32 by default (the paper).
    case gaussian
    /// The authors' additive Rician field, scale 16 by default.
    case rician
    /// The magnitude of a complex signal with Gaussian noise (MRI physics), sigma 32 by default.
    case ricianMagnitude = "rician-magnitude"

    /// `name` in any case, with the aliases `clean` (none) and `rician-authors` (rician).
    public init?(named name: String) {
        switch name.lowercased() {
        case "clean": self = .none
        case "rician-authors": self = .rician
        default:
            guard let type = NoiseType(rawValue: name.lowercased()) else { return nil }
            self = type
        }
    }

    /// This type at `level` on the 0...255 scale (nil: the type's default level).
    public func model(level: Float? = nil, sameFieldForEveryImage: Bool = false) -> NoiseModel {
        let same = sameFieldForEveryImage
        switch self {
        case .none: return .none
        case .gaussian: return level.map { .gaussian(sigma: $0, sameFieldForEveryImage: same) } ?? .gaussian(sameFieldForEveryImage: same)
        case .rician: return level.map { .ricianAuthors(scale: $0, sameFieldForEveryImage: same) } ?? .ricianAuthors(sameFieldForEveryImage: same)
        case .ricianMagnitude:
            return level.map { .ricianMagnitude(sigma: $0, sameFieldForEveryImage: same) } ?? .ricianMagnitude(sameFieldForEveryImage: same)
        }
    }
}

extension NoiseModel {
    /// This model's type.
    public var type: NoiseType {
        switch kind {
        case .none: return .none
        case .gaussian: return .gaussian
        case .ricianAuthors: return .rician
        case .ricianMagnitude: return .ricianMagnitude
        }
    }

    /// This model's level on the 0...255 scale (sigma or scale; nil for no noise).
    public var level: Float? {
        switch kind {
        case .none: return nil
        case .gaussian(let sigma), .ricianMagnitude(let sigma): return sigma
        case .ricianAuthors(let scale): return scale
        }
    }
}
