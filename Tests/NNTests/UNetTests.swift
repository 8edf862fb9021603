@testable import NN
import Tensor
import Testing
import TestSupport

@Suite struct UNetTests {
    func tinyNetwork(residual: Bool = false, seed: UInt64 = 31, channels: Int = 2) throws -> UNet {
        var generator = SeededGenerator(seed: seed)
        return try UNet(configuration: UNetConfiguration(depth: 2, firstChannels: channels, residual: residual), generator: &generator, threads: 2)
    }

    @Test func oddSizesComeOutTheSizeTheyWentIn() throws {
        var generator = SeededGenerator(seed: 1)
        var unet = try UNet(configuration: UNetConfiguration(depth: 2, firstChannels: 4), generator: &generator, threads: 2)
        let x = randomTensor([2, 1, 37, 41], seed: 2)
        #expect(unet.evaluated(x).shape == [2, 1, 37, 41])
        let (y, cache) = unet.forward(x, mode: .training)
        #expect(y.shape == [2, 1, 37, 41])
        var gradients = UNetGradients(zerosLike: unet)
        #expect(unet.backward(dout: y, cache: cache, gradients: &gradients).shape == x.shape)
    }

    @Test func channelPlanFollowsCSBDeep() {
        let plan = UNetConfiguration(depth: 2, firstChannels: 32).blockChannels.map { [$0.input, $0.output] }
        #expect(plan == [[1, 32], [32, 32], [32, 64], [64, 64], [64, 128], [128, 64], [128, 64], [64, 32], [64, 32], [32, 32]])
    }

    /// The whole network against finite differences, in both modes, with and without the residual
    /// connection, on 11x13 inputs (odd sizes through pooling and upsampling): for the input and for
    /// every parameter tensor T, the derivative along u = g_T / |g_T| (g_T the analytic gradient) must
    /// equal |g_T|. A wrong gradient g' gives g . g' / |g'| != |g'|. Per-coordinate quotients are too
    /// noisy here (measured: ReLU kinks give 5-30% errors at h = 1e-3, Float32 rounding as much at
    /// h = 1e-4 on the deeper layers' small gradients); along u the signal is the whole norm. The layers'
    /// own per-coordinate checks are in LayerTests, UpsampleTests and ConcatenateTests.
    /// In training mode a conv bias followed by BatchNorm has no effect (the batch mean absorbs it): its
    /// gradient must be zero, which is checked instead.
    @Test(arguments: [Mode.training, .evaluation], [false, true])
    func wholeNetworkGradientsMatchFiniteDifferences(mode: Mode, residual: Bool) throws {
        var unet = try tinyNetwork(residual: residual, channels: 4)
        if mode == .evaluation {
            // Non-trivial running statistics.
            for _ in 0..<3 { _ = unet.forward(randomTensor([4, 1, 11, 13], seed: 40), mode: .training) }
        }
        let x = randomTensor([4, 1, 11, 13], seed: 32)
        let r = randomTensor([4, 1, 11, 13], seed: 33)
        let (_, cache) = unet.forwardWithoutUpdating(x, mode: mode)
        var gradients = UNetGradients(zerosLike: unet)
        let dx = unet.backward(dout: r, cache: cache, gradients: &gradients)
        func loss(_ network: UNet, _ input: Tensor) -> Double { probe(network.forwardWithoutUpdating(input, mode: mode).output, r) }
        var results: [(name: String, worst: Double, detail: String)] = []
        func check(_ name: String, _ f: (Tensor) -> Double, at point: Tensor, analytic: Tensor) {
            if mode == .training && name.hasSuffix("conv bias") && !name.hasPrefix("output") {
                let largest = Double(analytic.scalars.map { abs($0) }.max() ?? 0)
                results.append((name, largest * 1e3, "largest |gradient| \(largest), should be 0"))
                return
            }
            let norm = Double(analytic.norm())
            let direction = analytic.scaled(by: 1 / Float(max(norm, 1e-12)))
            let along = kinkAwareGradientCheck(of: { t in f(point + t.scalars[0] * direction) }, at: Tensor(zeros: [1]),
                                               analytic: Tensor(shape: [1], scalars: [Float(norm)]), step: 1e-3)
            results.append((name, along.worst, along.detail))
        }
        check("input", { loss(unet, $0) }, at: x, analytic: dx)
        var paths: [(String, WritableKeyPath<UNet, Tensor>, Tensor)] = []
        for b in unet.blocks.indices {
            paths.append(("block \(b) conv weight", \UNet.blocks[b].convolution.weight, gradients.blocks[b].convolution.weight))
            paths.append(("block \(b) conv bias", \UNet.blocks[b].convolution.bias, gradients.blocks[b].convolution.bias))
            paths.append(("block \(b) bn weight", \UNet.blocks[b].batchNorm.weight, gradients.blocks[b].batchNorm.weight))
            paths.append(("block \(b) bn bias", \UNet.blocks[b].batchNorm.bias, gradients.blocks[b].batchNorm.bias))
        }
        paths.append(("output weight", \UNet.output.weight, gradients.output.weight))
        paths.append(("output conv bias", \UNet.output.bias, gradients.output.bias))
        for (name, path, analytic) in paths {
            check(name, { p in var m = unet; m[keyPath: path] = p; return loss(m, x) }, at: unet[keyPath: path], analytic: analytic)
        }
        for (name, worst, detail) in results {
            #expect(worst < FiniteDifference.tolerance, "\(name): \(detail)")
        }
    }

    /// A U-Net configuration from a damaged denoiser file must be an error, not a trap (2 f 2^D beyond Int) or
    /// billions of channel pairs to plan (a depth of 10^9).
    @Test func absurdConfigurationsAreErrors() {
        for configuration in [UNetConfiguration(depth: 1_000_000_000), UNetConfiguration(firstChannels: 1 << 40),
                              UNetConfiguration(depth: 16, firstChannels: 1 << 20), UNetConfiguration(kernelSize: (1 << 31) + 1)] {
            #expect(throws: UNetConfigurationError.self, "\(configuration)") { try configuration.validate() }
        }
        #expect(throws: Never.self) { try UNetConfiguration().validate() }
        #expect(UNetConfiguration(depth: 1, firstChannels: 2).weightCount == (1 * 2 + 2 * 2 + 2 * 4 + 4 * 2 + 4 * 2 + 2 * 2) * 9 + 2 * 1)
    }

    @Test func savedTensorsLoadIntoAFreshNetwork() throws {
        var trained = try tinyNetwork(seed: 5)
        _ = trained.forward(randomTensor([2, 1, 8, 8], seed: 6), mode: .training)
        var fresh = try tinyNetwork(seed: 9)
        try fresh.load(namedTensors: Dictionary(uniqueKeysWithValues: trained.namedTensors().map { ($0.name, $0.tensor) }))
        let x = randomTensor([1, 1, 8, 8], seed: 7)
        #expect(fresh.evaluated(x) == trained.evaluated(x))
        #expect(throws: CNNLoadError.self) { try fresh.load(namedTensors: [:]) }
    }

    /// Inference in batches, each image run through the network on its own by one of the workers: the whole batch's
    /// evaluation-mode output to the bit (every layer works per image or per plane), for any batch size and thread
    /// count, with trained (non-default) BatchNorm statistics and odd sizes.
    @Test func batchedInferenceEqualsTheWholeBatchsToTheBit() throws {
        var unet = try tinyNetwork(channels: 4)
        _ = unet.forward(randomTensor([3, 1, 19, 22], seed: 8), mode: .training)
        let x = randomTensor([7, 1, 19, 22], seed: 9)
        for threads in [1, 2, 3] {
            unet.threads = threads
            let whole = unet.evaluated(x)
            for batchSize in [1, 3, 7, 16] {
                var reported: [Int] = []
                let batched = unet.evaluatedInBatches(x, batchSize: batchSize) { done, total in
                    #expect(total == 7)
                    reported.append(done)
                }
                #expect(batched.shape == whole.shape)
                #expect(batched.scalars.map(\.bitPattern) == whole.scalars.map(\.bitPattern), "threads \(threads), batch \(batchSize)")
                #expect(reported.last == 7)
            }
        }
    }

    /// The same at a size where the full-size layers run by Winograd (3x3, output planes of 48 x 48 and more, several
    /// input channels), whose evaluation pass uses the weights' transforms made once (`prepareWinogradWeights`).
    @Test func batchedInferenceWithWinogradLayersEqualsTheWholeBatchsToTheBit() throws {
        var unet = try tinyNetwork(channels: 3)
        _ = unet.forward(randomTensor([2, 1, 50, 53], seed: 10), mode: .training)
        let x = randomTensor([3, 1, 50, 53], seed: 11)
        let whole = unet.evaluated(x)
        let batched = unet.evaluatedInBatches(x, batchSize: 2)
        #expect(batched.scalars.map(\.bitPattern) == whole.scalars.map(\.bitPattern))
    }

    /// The wiring has one home (`UNet.wired`): the training pass with its caches and the cache-free evaluation pass both
    /// run through it, so at every depth, with and without the residual, they give the same output to the bit, and each
    /// block runs once, in index order, with as many pools and upsamplings as levels.
    @Test(arguments: [1, 2, 3], [false, true])
    func bothPassesShareOneWiring(depth: Int, residual: Bool) throws {
        var generator = SeededGenerator(seed: 5)
        var unet = try UNet(configuration: UNetConfiguration(depth: depth, firstChannels: 2, residual: residual), generator: &generator, threads: 1)
        _ = unet.forward(randomTensor([2, 1, 17, 21], seed: 6), mode: .training)
        let x = randomTensor([2, 1, 17, 21], seed: 7)
        let (layered, cache) = unet.layers(x, mode: .evaluation)
        #expect(unet.evaluatedLayers(x).scalars.map(\.bitPattern) == layered.scalars.map(\.bitPattern), "depth \(depth), residual \(residual)")
        #expect(cache.blocks.count == unet.blocks.count && cache.pools.count == depth && cache.upsamples.count == depth)
        var order: [Int] = [], pools = 0, upsamplings = 0
        _ = unet.wired(x, block: { b, x in order.append(b); return x }, pool: { pools += 1; return $0 },
                       upsample: { x, _, _ in upsamplings += 1; return x }, output: { _ in x })
        #expect(order == Array(unet.blocks.indices) && pools == depth && upsamplings == depth)
    }
}
