#ifndef CKERNELS_H
#define CKERNELS_H

// The hand-written kernels that are not GEMM, compiled once per instruction set and chosen at run time, so that
// one portable binary uses AVX-512 or AVX2 where the CPU has them (Swift code is compiled for baseline x86-64).
// Every path runs the same arithmetic in the same order, without fused multiply-add, so every path computes the
// same bytes: the path is a matter of speed only. Swift reaches the kernels through `KernelISA`
// (Sources/Tensor/KernelISA.swift); the naive Swift references they are tested against sit beside their callers.
//
// Legend: C channels, H, W an input plane, K the kernel size, P the zero padding, Ho, Wo the output plane.

#include <stddef.h>
#include <stdint.h>

// The largest Winograd input tile (alpha = m + r - 1) the tile transforms take.
#define CK_WINOGRAD_MAX 8

// Instruction-set paths (`KernelISA`'s raw values).
enum {
    CK_ISA_DEFAULT = 0,  // what the compiler's baseline target gives (SSE2 on x86-64, NEON on aarch64)
    CK_ISA_AVX2 = 1,     // AVX2 (x86-64 only)
    CK_ISA_AVX512 = 2,   // AVX-512 F, BW, DQ, VL (x86-64 only)
};

// 1 when this CPU and operating system can run `isa`, else 0.
int ck_isa_supported(int isa);

typedef struct ck_kernels {
    // Direct convolution of one image with one input channel:
    // out[o, y, x] = bias[o] + sum_{ky, kx} weight[o, ky, kx] * x[y + ky - P, x + kx - P] (0 outside the image),
    // the terms added in (ky, kx) order. x: [H, W], weight: [O, K, K], bias: [O], out: [O, Ho, Wo];
    // padded: scratch of `ck_conv1_padded_floats(K, Ho, Wo)` floats.
    void (*_Nonnull conv1_forward)(const float *_Nonnull x, ptrdiff_t h, ptrdiff_t w, ptrdiff_t k, ptrdiff_t p,
                                   ptrdiff_t ho, ptrdiff_t wo, const float *_Nonnull weight,
                                   const float *_Nonnull bias, ptrdiff_t outputs, float *_Nonnull padded,
                                   float *_Nonnull out);

    // Weight gradient of one image with one input channel: dweight[o, ky, kx] += sum_{y, x} dout[o, y, x] *
    // x[y + ky - P, x + kx - P] (0 outside the image). x: [H, W], dout: [O, Ho, Wo], dweight: [O, K, K];
    // padded: scratch of `ck_conv1_padded_floats(K, Ho, Wo)` floats.
    void (*_Nonnull conv1_weight_gradient)(const float *_Nonnull x, ptrdiff_t h, ptrdiff_t w, ptrdiff_t k, ptrdiff_t p,
                                           ptrdiff_t ho, ptrdiff_t wo, const float *_Nonnull dout, ptrdiff_t outputs,
                                           float *_Nonnull padded, float *_Nonnull dweight);

    // The evaluation-mode first block of one image with one input channel: out[o] = 2x2 max-pool of
    // relu(conv(x)[o] * scale[o] + shift[o]), [O, Ho/2, Wo/2] (a last odd row or column dropped), the same bytes as
    // `conv1_forward` then `bn_relu_pool_forward` per plane; scale, shift: [O]; padded as for `conv1_forward`.
    void (*_Nonnull conv1_bn_relu_pool)(const float *_Nonnull x, ptrdiff_t h, ptrdiff_t w, ptrdiff_t k, ptrdiff_t p,
                                        ptrdiff_t ho, ptrdiff_t wo, const float *_Nonnull weight,
                                        const float *_Nonnull bias, const float *_Nonnull scale,
                                        const float *_Nonnull shift, ptrdiff_t outputs, float *_Nonnull padded,
                                        float *_Nonnull out);

    // im2col of image [C, H, W] for output rows [row_start, row_end): columns [C*K*K, rows * Wo] with rows `ld`
    // floats apart (ld >= rows * Wo), row (c*K + ky)*K + kx, column (y - row_start)*Wo + x holding
    // image[c, y + ky - P, x + kx - P], or 0 outside.
    void (*_Nonnull im2col_pack)(const float *_Nonnull image, ptrdiff_t channels, ptrdiff_t h, ptrdiff_t w,
                                 ptrdiff_t k, ptrdiff_t p, ptrdiff_t wo, ptrdiff_t row_start, ptrdiff_t row_end,
                                 float *_Nonnull columns, ptrdiff_t ld);

    // Winograd tile transforms (`Conv2D.Kernel.winograd`), for a row of `tiles` tiles `step` columns apart, the first
    // with its top-left corner at (y0, x0) of a plane [H, W] (positions outside the plane read as 0, written nowhere).
    // In (`winograd_tiles_in`): each tile's s x s patch D gives Z = L D L^T with L: [p, s] (row-major), stored as
    // out[(a*p + b)*ld + t] = Z[a, b] for tile t. Out (`winograd_tiles_out`): Z[a, b] = in[(a*s + b)*ld + t] gives the
    // p x p patch R Z R^T with R: [p, s], added to the plane where `accumulate` (overlapping tiles add, in order of
    // their columns), else written to it plus `bias`. The same order of operations on every path: in index order, or,
// for a matrix with paired rows (columns for `winograd_tiles_out`; `ck_winograd_has_paired_rows`), by even and odd
// halves (see `winograd_apply_paired_rows` and `_columns` in kernel_bodies.h).
    // p, s <= CK_WINOGRAD_MAX; scratch: `ck_winograd_scratch_floats(tiles, step, p, s)` floats. Both move whole
    // groups of 16 tiles: each row of `out` / `in` (one per position a*p + b, `ld` apart) must be writable / readable
    // for `tiles` rounded up to 16 floats; `winograd_tiles_in` writes values past `tiles` there (the transforms of the
    // columns beyond), `winograd_tiles_out` reads and drops them.
    // `paired`: whether L has paired rows (`ck_winograd_has_paired_rows(l, p, s, s, 1)`) / R paired columns
    // (`ck_winograd_has_paired_rows(r, s, p, 1, s)`), found once per matrix by the caller (per call it had cost 4-12 %
    // of the transforms); the transforms trust it.
    // `winograd_tiles_in` takes `rows` consecutive rows of tiles (the next row's first plane row `step` below, its
    // tiles in the next `tiles` columns of `out`); rows of 4 or 8 tiles are packed into whole 16-lane groups (paired
    // L, step 4, s <= 8), with the same bytes.
    void (*_Nonnull winograd_tiles_in)(const float *_Nonnull plane, ptrdiff_t h, ptrdiff_t w, ptrdiff_t y0,
                                       ptrdiff_t x0, ptrdiff_t step, ptrdiff_t tiles, ptrdiff_t rows, const float *_Nonnull l,
                                       ptrdiff_t p, ptrdiff_t s, float *_Nonnull out, ptrdiff_t ld,
                                       float *_Nonnull scratch, int paired);
    void (*_Nonnull winograd_tiles_out)(const float *_Nonnull in, ptrdiff_t ld, ptrdiff_t tiles,
                                        const float *_Nonnull r, ptrdiff_t p, ptrdiff_t s, float *_Nonnull plane,
                                        ptrdiff_t h, ptrdiff_t w, ptrdiff_t y0, ptrdiff_t x0, ptrdiff_t step,
                                        float bias, int accumulate, float *_Nonnull scratch, int paired);
    // The evaluation-mode block after a Winograd convolution, fused with its output transform: for `rows` consecutive
    // tile rows (side by side in `in`'s columns, as `winograd_tiles_in` writes them) of one output channel whose p x p
    // patches (p = step, even) lie inside the plane, `pooled` (row stride wp) gets rows [0, rows * p/2), columns
    // [0, tiles * p/2) of the 2x2 max-pool of relu((bias + patch) * scale + shift): the same bytes as
    // `winograd_tiles_out` (accumulate 0) then `bn_relu_pool_forward` over those rows, without the convolution's plane.
    // in, ld, tiles, r, p, s, paired as for `winograd_tiles_out`.
    void (*_Nonnull winograd_tiles_out_pool)(const float *_Nonnull in, ptrdiff_t ld, ptrdiff_t tiles, ptrdiff_t rows,
                                             const float *_Nonnull r, ptrdiff_t p, ptrdiff_t s,
                                             float *_Nonnull pooled, ptrdiff_t wp, float bias, float scale,
                                             float shift, int paired);

    // Reductions in a fixed order (two 16-lane accumulators, then the lanes, then the tail):
    // sum_i a[i], sum_i a[i] * b[i], sum_i (a[i] - mu)^2, for i in [0, n).
    float (*_Nonnull sum)(const float *_Nonnull a, ptrdiff_t n);
    float (*_Nonnull dot)(const float *_Nonnull a, const float *_Nonnull b, ptrdiff_t n);
    float (*_Nonnull centred_squares)(const float *_Nonnull a, ptrdiff_t n, float mu);

    // BatchNorm (as an affine map z = x * scale + shift), ReLU and 2x2 max pooling of one plane x: [H, W] ->
    // y: [H/2, W/2]; winners[j] is the winning position in window j (0...3, row-major, the first of equal values)
    // plus 4 when the winner is not positive (no gradient flows).
    void (*_Nonnull bn_relu_pool_forward)(const float *_Nonnull x, ptrdiff_t h, ptrdiff_t w, float scale,
                                          float shift, float *_Nonnull y, uint8_t *_Nonnull winners);

    // The BatchNorm sums of one plane's backward pass, from the pooled positions: *sum_dy = sum_j g_j and
    // *sum_dy_x = sum_j g_j * x[winner j], where g_j = dy[j] for an active winner and 0 otherwise.
    void (*_Nonnull bn_relu_pool_sums)(const float *_Nonnull x, ptrdiff_t h, ptrdiff_t w,
                                       const float *_Nonnull dy, const uint8_t *_Nonnull winners,
                                       float *_Nonnull sum_dy, float *_Nonnull sum_dy_x);

    // One plane's input gradient dx: [H, W]. Training: dx = k dy + bx x + c0 at active winners (in that order of
    // addition), bx x + c0 elsewhere; evaluation (training = 0): k dy at active winners, 0 elsewhere.
    void (*_Nonnull bn_relu_pool_backward)(const float *_Nonnull x, ptrdiff_t h, ptrdiff_t w,
                                           const float *_Nonnull dy, const uint8_t *_Nonnull winners, float k,
                                           float bx, float c0, int training, float *_Nonnull dx);

    // Per 2x2 window of one plane x: [H, W] (stride 2, a last odd row or column dropped), the maximum and the minimum
    // as Swift's max and min take them: maxima, minima: [H/2, W/2].
    void (*_Nonnull window_extremes)(const float *_Nonnull x, ptrdiff_t h, ptrdiff_t w, float *_Nonnull maxima,
                                     float *_Nonnull minima);

    // One Adam step over n parameters (torch.optim.Adam, see `Adam`): g = grad + decay p,
    // m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, p -= step_size m / (sqrt(v) / correction2 + eps).
    void (*_Nonnull adam)(float *_Nonnull p, const float *_Nonnull grad, float *_Nonnull m, float *_Nonnull v,
                          ptrdiff_t n, float b1, float b2, float step_size, float correction2, float eps,
                          float decay);
} ck_kernels;

// The kernels of `isa`; the default path's for an unknown value. The caller checks `ck_isa_supported` first.
const ck_kernels *_Nonnull ck_kernels_for(int isa);

// Floats of the scratch buffer `conv1_forward` needs.
ptrdiff_t ck_conv1_padded_floats(ptrdiff_t k, ptrdiff_t ho, ptrdiff_t wo);

// Floats of the scratch buffer `winograd_tiles_in` and `winograd_tiles_out` need for `tiles` tiles.
ptrdiff_t ck_winograd_scratch_floats(ptrdiff_t tiles, ptrdiff_t step, ptrdiff_t p, ptrdiff_t s);

// 1 when m (element (i, j) at m[i*row_stride + j*column_stride], `rows` x `columns`) has "paired rows": row 0 is 0 at
// odd columns, the last row 0 at even columns, and rows 2k+1, 2k+2 are equal at even columns and opposite at odd ones,
// as Winograd's B^T and A from points 0, ±a..., infinity are (A^T and B in their columns). The tile transforms then
// take about half the products (`winograd_apply_paired_rows` in kernel_bodies.h).
int ck_winograd_has_paired_rows(const float *_Nonnull m, ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t row_stride,
                                ptrdiff_t column_stride);

#endif
