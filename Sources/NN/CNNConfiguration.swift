/// The paper's classifier as a value: `channels.count` blocks of
/// Conv2d(K x K, stride 1, padding) -> BatchNorm2d -> ReLU -> MaxPool2d(2), then Flatten and
/// Linear(featureCount -> classes).
///
/// Authors' variant (paper, "Model"): five blocks, 5x5 kernels without padding, channels
/// 32, 32, 64, 64, 64; at 256 px the spatial size goes 256 -> 126 -> 61 -> 28 -> 12 -> 4, so the
/// features are 64 * 4 * 4 = 1024.
public struct CNNConfiguration: Codable, Sendable, Equatable {
    public var imageSize: Int
    public var channels: [Int]
    public var kernelSize: Int
    public var padding: Conv2D.Padding
    public var classes: Int
    public var inputChannels: Int

    /// The authors' channels of the five blocks.
    public static let authorsChannels = [32, 32, 64, 64, 64]

    public init(imageSize: Int, channels: [Int] = authorsChannels, kernelSize: Int, padding: Conv2D.Padding,
                classes: Int = 3, inputChannels: Int = 1) {
        self.imageSize = imageSize
        self.channels = channels
        self.kernelSize = kernelSize
        self.padding = padding
        self.classes = classes
        self.inputChannels = inputChannels
    }

    /// The authors' network: 5x5 kernels, no padding (256 px -> 1024 features).
    public static func authors(imageSize: Int = 256) -> CNNConfiguration {
        ModelVariant.authors.configuration(imageSize: imageSize)
    }

    /// A lighter variant: 3x3 kernels with same padding (each block halves the size).
    public static func same3x3(imageSize: Int) -> CNNConfiguration {
        ModelVariant.same3x3.configuration(imageSize: imageSize)
    }

    /// Spatial size after block b's convolution and after its pooling, for b in 0..<channels.count;
    /// sizes below 1 mean the image is too small (see `validate()`).
    public var blockSizes: [(convolution: Int, pooled: Int)] {
        var size = imageSize
        var sizes: [(Int, Int)] = []
        let shrink = padding == .same ? 0 : kernelSize - 1
        for _ in channels {
            let conv = size - shrink
            size = conv / 2
            sizes.append((conv, size))
        }
        return sizes
    }

    /// Length of the flattened feature vector h(x): last channels * final size^2 (0 when invalid).
    public var featureCount: Int {
        guard let last = blockSizes.last, last.pooled >= 1, let c = channels.last else { return 0 }
        return c * last.pooled * last.pooled
    }

    /// The smallest image size this variant accepts; Int.max when it lies beyond Int's range (more than
    /// about 60 blocks, or a kernel near Int.max: settings from a damaged file, which must not trap here).
    public var minimumImageSize: Int {
        var size = 1
        for _ in channels {
            let (doubled, overflowA) = size.multipliedReportingOverflow(by: 2)
            let (grown, overflowB) = doubled.addingReportingOverflow(padding == .same ? 0 : Swift.max(kernelSize, 1) - 1)
            if overflowA || overflowB { return Int.max }
            size = grown
        }
        return size
    }

    /// The network's weights, convolutions and classifier (biases and BatchNorm aside):
    /// sum over blocks of C_in C_out K^2, plus featureCount x classes; nil beyond Int's range.
    /// Meaningful once `imageSize >= minimumImageSize`.
    public var weightCount: Int? {
        guard let last = blockSizes.last, let c = channels.last,
              let features = NetworkSize.product([c, last.pooled, last.pooled]) else { return nil }
        var layers: [NetworkSize.Layer] = []
        var inputs = inputChannels
        for output in channels {
            layers.append((inputs, output, kernelSize))
            inputs = output
        }
        return NetworkSize.weightCount(layers + [(features, classes, 1)])
    }

    /// Throws a `CNNConfigurationError` naming the bad setting.
    public func validate() throws(CNNConfigurationError) {
        guard !channels.isEmpty, channels.allSatisfy({ $0 > 0 }) else { throw .invalidChannels(channels) }
        guard kernelSize > 0, padding == .valid || kernelSize % 2 == 1 else {
            throw .invalidKernel(kernelSize: kernelSize, padding: padding)
        }
        guard classes >= 2 else { throw .invalidClasses(classes) }
        guard inputChannels >= 1 else { throw .invalidInputChannels(inputChannels) }
        guard imageSize >= minimumImageSize else {
            throw .imageTooSmall(imageSize: imageSize, minimum: minimumImageSize, kernelSize: kernelSize,
                                 padding: padding, blocks: channels.count)
        }
        guard let weights = weightCount, weights <= NetworkSize.maximumWeights else { throw .tooLarge(weights: weightCount) }
    }
}

/// A CNN configuration that cannot build a network.
public enum CNNConfigurationError: Error, Equatable, CustomStringConvertible {
    case imageTooSmall(imageSize: Int, minimum: Int, kernelSize: Int, padding: Conv2D.Padding, blocks: Int)
    case invalidChannels([Int])
    case invalidKernel(kernelSize: Int, padding: Conv2D.Padding)
    case invalidClasses(Int)
    case invalidInputChannels(Int)
    /// More weights than `NetworkSize.maximumWeights` (nil: beyond Int's range).
    case tooLarge(weights: Int?)

    public var description: String {
        switch self {
        case let .imageTooSmall(size, minimum, k, padding, blocks):
            return "CNN configuration: image size \(size) px is too small for \(blocks) blocks of \(k)x\(k) \(padding) convolutions "
                + "and 2x2 pooling; set imageSize to at least \(minimum), or use fewer blocks."
        case let .invalidChannels(channels):
            return "CNN configuration: channels \(channels) must be a non-empty list of positive counts."
        case let .invalidKernel(k, padding):
            return "CNN configuration: kernelSize \(k) with padding \(padding) is invalid; use a positive size (odd for .same)."
        case let .invalidClasses(classes):
            return "CNN configuration: classes \(classes) must be at least 2."
        case let .invalidInputChannels(count):
            return "CNN configuration: inputChannels \(count) must be at least 1."
        case let .tooLarge(weights):
            return "CNN configuration: \(weights.map { "\($0) weights" } ?? "a weight count beyond Int's range") exceeds the "
                + "\(NetworkSize.maximumWeights) this program builds; use fewer or narrower blocks, or a smaller image size."
        }
    }
}

/// Sizes of a network computed from settings that may come from a damaged file (a checkpoint's metadata,
/// a config.json): checked arithmetic, and the largest network a configuration may describe.
public enum NetworkSize {
    /// A convolution's (or, with kernel 1, a linear layer's) input channels, output channels and kernel side.
    public typealias Layer = (input: Int, output: Int, kernel: Int)

    /// 2^30 weights (4 GiB of Float, before Adam's two moments): the paper's CNN at 256 px has about 2e5.
    public static let maximumWeights = 1 << 30

    /// The product of `factors`, or nil beyond Int's range.
    public static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for factor in factors {
            let (next, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            result = next
        }
        return result
    }

    /// The sum over `layers` of input x output x kernel^2, or nil beyond Int's range.
    public static func weightCount(_ layers: [Layer]) -> Int? {
        var total = 0
        for layer in layers {
            guard let weights = product([layer.input, layer.output, layer.kernel, layer.kernel]) else { return nil }
            let (next, overflow) = total.addingReportingOverflow(weights)
            if overflow { return nil }
            total = next
        }
        return total
    }
}
