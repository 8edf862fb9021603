import Foundation
@testable import NN
import Tensor
import Testing

/// Per-layer timing of im2col + sgemm against Winograd (every tile size for the kernel) on the CNN's convolutions with
/// more than one input channel, batch 32: forward, and backward (weight and input gradient), median of `repeats`
/// runs, with the largest difference from the im2col result relative to its largest entry. The figures behind
/// `Conv2D.prefersWinograd` and `Conv2D.winogradTransform`. Runs only when ROBUSTMRI_WINOGRAD_TIMING
/// is set, to 1 for every layer or to a part of their names (a release build: `swift test -c release ... --filter WinogradTimingTests`); THREADS sets the thread count.
/// The test binary does not re-execute itself as the tool does (`BLASKernelChoice`): on a CPU where OpenBLAS falls back
/// to its "Prescott" kernels, set OPENBLAS_CORETYPE (e.g. SkylakeX) as the tool would.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ROBUSTMRI_WINOGRAD_TIMING"] != nil))
struct WinogradTimingTests {
    /// (name, C, O, K, padding, input side).
    static let layers: [(String, Int, Int, Int, Conv2D.Padding, Int)] = [
        ("authors-256 L2", 32, 32, 5, .valid, 126), ("authors-256 L3", 32, 64, 5, .valid, 61),
        ("authors-256 L4", 64, 64, 5, .valid, 28), ("authors-256 L5", 64, 64, 5, .valid, 12),
        ("same3x3-128 L2", 32, 32, 3, .same, 64), ("same3x3-128 L3", 32, 64, 3, .same, 32),
        ("same3x3-128 L4", 64, 64, 3, .same, 16), ("same3x3-128 L5", 64, 64, 3, .same, 8),
    ]
    static let repeats = 3

    func median(_ body: () -> Void) -> Double {
        var times: [Double] = []
        for _ in 0..<Self.repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return times.sorted()[times.count / 2]
    }

    @Test func perLayerTimes() {
        let threads = Int(ProcessInfo.processInfo.environment["THREADS"] ?? "") ?? 2
        print("layer                 kernel      forward ms  backward ms  max rel diff (out, dx, dw)   threads \(threads)")
        let only = ProcessInfo.processInfo.environment["ROBUSTMRI_WINOGRAD_TIMING"] ?? ""
        for (name, c, o, k, padding, side) in Self.layers where only == "1" || name.contains(only) {
            var generator = SeededGenerator(seed: 1)
            let conv = Conv2D(inputChannels: c, outputChannels: o, kernelSize: k, padding: padding, generator: &generator)
            let x = randomTensor([32, c, side, side], seed: 2)
            let g = conv.geometry(x)
            let dy = randomTensor([32, o, g.ho, g.wo], seed: 3)
            let pieces = Swift.min(Parallel.reductionPieces, g.n)
            let transforms: [WinogradTransform?] = k == 3 ? [nil, .f2x3, .f4x3] : [nil, .f2x5, .f3x5, .f4x5]
            var reference: [[Float]] = []
            for t in transforms {
                var y = [Float](repeating: 0, count: g.n * g.outPlane), dx = [Float](repeating: 0, count: g.n * g.inPlane)
                var dw = [Float](repeating: 0, count: pieces * g.o * g.ckk), db = [Float](repeating: 0, count: pieces * g.o)
                var forward = 0.0, backward = 0.0
                withPointer(x) { inp in withPointer(conv.weight) { wt in withPointer(conv.bias) { b in withPointer(dy) { d in
                    y.withUnsafeMutableBufferPointer { out in dx.withUnsafeMutableBufferPointer { din in
                        dw.withUnsafeMutableBufferPointer { dwp in db.withUnsafeMutableBufferPointer { dbp in
                            let work = Conv2D.BackwardBuffers(dweight: dwp.baseAddress, dbias: dbp.baseAddress, din: din.baseAddress)
                            let buffers = [din, dwp, dbp]
                            let clear = { for buffer in buffers { buffer.update(repeating: 0) } }
                            if let t {
                                forward = median { Conv2D.winogradForward(g, inp, wt, b, out.baseAddress!, threads: threads, transform: t) }
                                backward = median {
                                    clear()
                                    Conv2D.winogradBackward(g, inp, wt, d, work, pieces: pieces, threads: threads, transform: t)
                                }
                            } else {
                                forward = median { Conv2D.gemmForward(g, inp, wt, b, out.baseAddress!, threads: threads) }
                                backward = median {
                                    clear()
                                    Conv2D.gemmBackward(g, inp, wt, d, work, pieces: pieces, threads: threads)
                                }
                            }
                        } }
                    } }
                } } } }
                let results = [y, dx, dw]
                if reference.isEmpty { reference = results }
                let differences = zip(results, reference).map { a, b in
                    let scale = b.map { abs($0) }.max() ?? 1
                    return zip(a, b).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
                }
                let kernel = t.map { "F(\($0.outputTile),\($0.kernelSize))" } ?? "im2col"
                let diffs = differences.map { String(format: "%.1e", $0) }.joined(separator: " ")
                print(name.padding(toLength: 22, withPad: " ", startingAt: 0) + kernel.padding(toLength: 12, withPad: " ", startingAt: 0)
                      + String(format: "%10.1f  %11.1f  ", forward, backward) + diffs)
            }
        }
    }
}
