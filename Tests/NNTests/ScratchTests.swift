import NN
import Tensor
import Testing
import Foundation

func cpuMs() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
}

@Suite struct ScratchTests {
    @Test func profile() throws {
        guard ProcessInfo.processInfo.environment["NN_PROFILE"] != nil else { return }
        let size = Int(ProcessInfo.processInfo.environment["NN_SIZE"] ?? "128") ?? 128
        let config: CNNConfiguration = ProcessInfo.processInfo.environment["NN_VARIANT"] == "authors" ? .authors(imageSize: size) : .same3x3(imageSize: size)
        var g = SeededGenerator(seed: 1)
        let cnn = try CNN(configuration: config, generator: &g)
        var x = Tensor(randomNormal: [16, 1, size, size], generator: &g)
        var report = ""
        var totals = [String: Double]()
        for rep in 0..<3 {
            var caches: [(Conv2D.Cache, BatchNormReLUPool.Cache)] = []
            x = Tensor(randomNormal: [16, 1, size, size], generator: &g)
            for (b, block) in cnn.blocks.enumerated() {
                var t = cpuMs()
                func lap(_ name: String) { let now = cpuMs(); if rep >= 1 { totals["\(b) \(name)"] = min(totals["\(b) \(name)"] ?? 1e9, now - t) }; t = now }
                let (c, cc) = block.convolution.forward(x); lap("conv fwd")
                let (p, pc) = BatchNormReLUPool.forward(c, batchNorm: block.batchNorm, mode: .training); lap("fused fwd")
                caches.append((cc, pc))
                x = p
            }
            var dx = Tensor(randomNormal: x.shape, generator: &g)
            for b in cnn.blocks.indices.reversed() {
                let block = cnn.blocks[b]
                var t = cpuMs()
                func lap(_ name: String) { let now = cpuMs(); if rep >= 1 { totals["\(b) \(name)"] = min(totals["\(b) \(name)"] ?? 1e9, now - t) }; t = now }
                let (cc, pc) = caches[b]
                let (dn, _, _) = BatchNormReLUPool.backward(dout: dx, cache: pc, batchNorm: block.batchNorm); lap("fused bwd")
                var dw = Tensor(zeros: block.convolution.weight.shape), db = Tensor(zeros: [block.convolution.outputChannels])
                if b > 0 { dx = block.convolution.backward(dout: dn, cache: cc, dweight: &dw, dbias: &db) } else {
                    block.convolution.accumulateParameterGradients(dout: dn, cache: cc, dweight: &dw, dbias: &db)
                    lap("conv bwd")
                }
                lap("conv bwd")
            }
        }
        var sum = 0.0
        for (k, v) in totals.sorted(by: { $0.key < $1.key }) { report += "\(k): \(String(format: "%.1f", v)) ms\n"; sum += v }
        print(report + "total \(sum) ms per batch of 32 (thread CPU time)")
    }
}
