/// Naive Conv2D loops (legend in `Conv2D`): the definition, written once, slow and obvious. The
/// GEMM and direct kernels are tested against these (`Conv2D.Kernel.naive`).
extension Conv2D {
    static func naiveForward(_ g: Geometry, _ inp: UnsafePointer<Float>, _ wt: UnsafePointer<Float>,
                             _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        for n in 0..<g.n {
            for o in 0..<g.o {
                for y in 0..<g.ho {
                    for x in 0..<g.wo {
                        var s = b[o]
                        for c in 0..<g.c {
                            for ky in 0..<g.k {
                                for kx in 0..<g.k {
                                    let iy = y + ky - g.p, ix = x + kx - g.p
                                    if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w { continue }
                                    s += wt[((o * g.c + c) * g.k + ky) * g.k + kx] * inp[((n * g.c + c) * g.h + iy) * g.w + ix]
                                }
                            }
                        }
                        out[((n * g.o + o) * g.ho + y) * g.wo + x] = s
                    }
                }
            }
        }
    }

    static func naiveBackward(_ g: Geometry, _ inp: UnsafePointer<Float>, _ wt: UnsafePointer<Float>,
                              _ dy: UnsafePointer<Float>, _ work: BackwardBuffers) {
        for n in 0..<g.n {
            for o in 0..<g.o {
                for y in 0..<g.ho {
                    for x in 0..<g.wo {
                        let d = dy[((n * g.o + o) * g.ho + y) * g.wo + x]
                        work.dbias?[o] += d
                        for c in 0..<g.c {
                            for ky in 0..<g.k {
                                for kx in 0..<g.k {
                                    let iy = y + ky - g.p, ix = x + kx - g.p
                                    if iy < 0 || iy >= g.h || ix < 0 || ix >= g.w { continue }
                                    let wi = ((o * g.c + c) * g.k + ky) * g.k + kx
                                    let xi = ((n * g.c + c) * g.h + iy) * g.w + ix
                                    work.dweight?[wi] += d * inp[xi]
                                    work.din?[xi] += d * wt[wi]
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
