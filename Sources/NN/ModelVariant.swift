/// Which of the two CNN variants a run trains (`--model`), and the rule that picks the network for an
/// image size. The image size itself is the data's (`DataSettings.imageSize`): a variant is a network
/// only once it is given one.
public enum ModelVariant: String, Codable, Sendable, CaseIterable {
    /// The authors' network: 5x5 valid convolutions (with five blocks it needs at least 156 px).
    case authors
    /// 3x3 same-padded convolutions: each block halves the size.
    case same3x3
    /// `authors` where the image is large enough for it, else `same3x3`.
    case auto

    /// The variant of a run that names none (`robust-mri train`).
    public static let standard = ModelVariant.auto

    /// The CNN of this variant for `imageSize` px images with `channels` (one count per block).
    public func configuration(imageSize: Int, channels: [Int] = CNNConfiguration.authorsChannels) -> CNNConfiguration {
        switch self {
        case .authors: return CNNConfiguration(imageSize: imageSize, channels: channels, kernelSize: 5, padding: .valid)
        case .same3x3: return CNNConfiguration(imageSize: imageSize, channels: channels, kernelSize: 3, padding: .same)
        case .auto:
            let authors = ModelVariant.authors.configuration(imageSize: imageSize, channels: channels)
            return (try? authors.validate()) != nil ? authors : ModelVariant.same3x3.configuration(imageSize: imageSize, channels: channels)
        }
    }
}
