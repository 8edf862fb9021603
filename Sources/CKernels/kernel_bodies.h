// The kernels' bodies, written once and compiled once per instruction set: kernels_default.c, kernels_avx2.c and
// kernels_avx512.c each include this file under their own `#pragma clang attribute push(target(...))` and define
// CK_TABLE (the name of the table made here) and CK_CONV_BLOCK (output channels the direct convolution keeps in
// registers at once). Not a header of its own: it defines static functions and a table.
//
// Every path computes the same bytes. Vectors have 16 lanes on every path (one zmm register, two ymm, four xmm),
// so every reduction adds in the same order, and fused multiply-add is off: these kernels move memory more than
// they compute (the direct convolution writes 32 output planes per input plane), so FMA would buy little and
// would make each path round differently. An element's result never depends on how the work is blocked.

#pragma STDC FP_CONTRACT OFF
// The helpers below take and return 64-byte vectors; they are always inlined, so no call uses the vector ABI the
// warning is about.
#pragma clang diagnostic ignored "-Wpsabi"

typedef float ck_v16 __attribute__((vector_size(64)));
typedef int32_t ck_i16 __attribute__((vector_size(64)));
typedef uint8_t ck_u8x16 __attribute__((vector_size(16)));
typedef float ck_v8 __attribute__((vector_size(32)));
typedef float ck_v4 __attribute__((vector_size(16)));
typedef float ck_v16u __attribute__((vector_size(64), aligned(4), may_alias));
typedef float ck_v8u __attribute__((vector_size(32), aligned(4), may_alias));
typedef float ck_v4u __attribute__((vector_size(16), aligned(4), may_alias));
typedef uint8_t ck_u8x16u __attribute__((vector_size(16), aligned(1), may_alias));

#define CK_INLINE static inline __attribute__((always_inline))
#define CK_EVEN 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30
#define CK_ODD 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31

CK_INLINE ck_v16 load16(const float *p) { return *(const ck_v16u *)p; }
CK_INLINE void store16(float *p, ck_v16 v) { *(ck_v16u *)p = v; }
CK_INLINE ck_v16 splat16(float s) { return (ck_v16){0} + s; }
CK_INLINE ck_v8 load8(const float *p) { return *(const ck_v8u *)p; }
CK_INLINE void store8(float *p, ck_v8 v) { *(ck_v8u *)p = v; }
CK_INLINE ck_v8 splat8(float s) { return (ck_v8){0} + s; }
CK_INLINE ck_v4 load4(const float *p) { return *(const ck_v4u *)p; }
CK_INLINE void store4(float *p, ck_v4 v) { *(ck_v4u *)p = v; }
CK_INLINE ck_v4 splat4(float s) { return (ck_v4){0} + s; }
CK_INLINE ck_i16 load_winners16(const uint8_t *p) { return __builtin_convertvector(*(const ck_u8x16u *)p, ck_i16); }

/// Lane-wise mask ? a : b, for masks of all-ones or all-zero lanes (from a comparison).
CK_INLINE ck_v16 select16(ck_i16 mask, ck_v16 a, ck_v16 b) {
    return (ck_v16)((mask & (ck_i16)a) | (~mask & (ck_i16)b));
}

/// The lanes added in lane order.
CK_INLINE float lanes_sum16(ck_v16 v) {
    float total = 0;
    for (int j = 0; j < 16; j++) total += v[j];
    return total;
}

/// dst[0..<n] = value. At least 4 floats go as vectors only: 16 lanes at a time, then one more vector that ends
/// at n and overlaps what was written (the same values again), so short rows take no scalar loop.
CK_INLINE void fill_floats(float *dst, float value, ptrdiff_t n) {
    if (n >= 16) {
        ptrdiff_t i = 0;
        for (; i + 16 <= n; i += 16) store16(dst + i, splat16(value));
        if (i < n) store16(dst + n - 16, splat16(value));
    } else if (n >= 8) {
        store8(dst, splat8(value));
        store8(dst + n - 8, splat8(value));
    } else if (n >= 4) {
        store4(dst, splat4(value));
        store4(dst + n - 4, splat4(value));
    } else {
        for (ptrdiff_t i = 0; i < n; i++) dst[i] = value;
    }
}

CK_INLINE void zero_floats(float *dst, ptrdiff_t n) { fill_floats(dst, 0, n); }

/// dst[0..<n] = src[0..<n] for buffers that do not overlap, with vectors as `fill_floats`.
CK_INLINE void copy_floats(float *restrict dst, const float *restrict src, ptrdiff_t n) {
    if (n >= 16) {
        ptrdiff_t i = 0;
        for (; i + 16 <= n; i += 16) store16(dst + i, load16(src + i));
        if (i < n) store16(dst + n - 16, load16(src + n - 16));
    } else if (n >= 8) {
        const ck_v8 head = load8(src), tail = load8(src + n - 8);
        store8(dst, head);
        store8(dst + n - 8, tail);
    } else if (n >= 4) {
        const ck_v4 head = load4(src), tail = load4(src + n - 4);
        store4(dst, head);
        store4(dst + n - 4, tail);
    } else {
        for (ptrdiff_t i = 0; i < n; i++) dst[i] = src[i];
    }
}

/// The first `n` (< 16) lanes of v to p, through a stack copy and `copy_floats`' overlapping vector stores (a scalar
/// loop of lane extracts cost more than the transform it stores).
CK_INLINE void store_first16(float *p, ck_v16 v, ptrdiff_t n) {
    float lanes[16] __attribute__((aligned(64)));
    store16(lanes, v);
    copy_floats(p, lanes, n);
}

CK_INLINE ptrdiff_t min_index(ptrdiff_t a, ptrdiff_t b) { return a < b ? a : b; }
CK_INLINE ptrdiff_t max_index(ptrdiff_t a, ptrdiff_t b) { return a > b ? a : b; }

// MARK: Direct convolution, one input channel

/// `count` output channels (weight: [count, K, K]) at 16 adjacent outputs of one row, whose K x K window starts
/// at `window` in the padded image (row stride pw); `valid` of the 16 are written to dst (plane stride hw), or all 16
/// where `spill` (the lanes past the row land in the plane's next rows, which are written after this one).
CK_INLINE void conv1_outputs(const float *window, ptrdiff_t pw, ptrdiff_t k, const float *weight,
                             const float *bias, int count, float *dst, ptrdiff_t hw, ptrdiff_t valid, int spill) {
    ck_v16 acc[CK_CONV_BLOCK];
    const ptrdiff_t kk = k * k;
    for (int j = 0; j < count; j++) acc[j] = splat16(bias[j]);
    for (ptrdiff_t ky = 0; ky < k; ky++) {
        for (ptrdiff_t kx = 0; kx < k; kx++) {
            const ck_v16 v = load16(window + ky * pw + kx);
            for (int j = 0; j < count; j++) acc[j] += weight[j * kk + ky * k + kx] * v;
        }
    }
    for (int j = 0; j < count; j++) {
        if (valid == 16 || spill) store16(dst + j * hw, acc[j]);
        else store_first16(dst + j * hw, acc[j], valid);
    }
}

/// Zero-bordered copy of one image for the direct kernels: `padded` [Ho + K - 1, pw] with pw = (Wo rounded up to 32)
/// + K - 1 (`conv1_bn_relu_pool` reads 32 columns at a time), image row iy at row iy + P, column P on. Returns pw.
CK_INLINE ptrdiff_t conv1_pad(const float *x, ptrdiff_t h, ptrdiff_t w, ptrdiff_t k, ptrdiff_t p, ptrdiff_t ho,
                              ptrdiff_t wo, float *padded) {
    const ptrdiff_t pw = (wo + 31) / 32 * 32 + k - 1, ph = ho + k - 1;
    zero_floats(padded, ph * pw);
    for (ptrdiff_t iy = 0; iy < h; iy++) copy_floats(padded + (iy + p) * pw + p, x + iy * w, w);
    return pw;
}

/// Each image is copied once into a zero-bordered buffer (the padding, and a width rounded up to 16), so the
/// inner loops have no branches.
static void conv1_forward(const float *x, ptrdiff_t h, ptrdiff_t w, ptrdiff_t k, ptrdiff_t p, ptrdiff_t ho,
                          ptrdiff_t wo, const float *weight, const float *bias, ptrdiff_t outputs, float *padded,
                          float *out) {
    const ptrdiff_t pw = conv1_pad(x, h, w, k, p, ho, wo, padded), hw = ho * wo, kk = k * k;
    for (ptrdiff_t y = 0; y < ho; y++) {
        for (ptrdiff_t x0 = 0; x0 < wo; x0 += 16) {
            const float *window = padded + y * pw + x0;
            const ptrdiff_t valid = min_index(16, wo - x0);
            float *dst = out + y * wo + x0;
            const int spill = y * wo + x0 + 16 <= hw;  // a row's last group may run into the plane's next rows (done later)
            ptrdiff_t o = 0;
            for (; o + CK_CONV_BLOCK <= outputs; o += CK_CONV_BLOCK) {
                conv1_outputs(window, pw, k, weight + o * kk, bias + o, CK_CONV_BLOCK, dst + o * hw, hw, valid, spill);
            }
            for (; o < outputs; o++) conv1_outputs(window, pw, k, weight + o * kk, bias + o, 1, dst + o * hw, hw, valid, spill);
        }
    }
}

/// Taps (ky, kx) whose weight-gradient sums `conv1_weight_gradient` keeps in registers at once.
#define CK_TAP_BLOCK 9

/// Weight gradient of one image with one input channel: dweight[o, ky, kx] += sum_{y, x} dout[o, y, x] *
/// x[y + ky - P, x + kx - P] (0 outside the image), from the zero-bordered copy (`conv1_pad`). Per (o, tap) the
/// products of 16 adjacent outputs of a row are added lane-wise, rows and 16-wide chunks in order (lanes past Wo add
/// 0), then the 16 lanes in lane order, and that sum is added to dweight: the same order on every path. Up to
/// CK_TAP_BLOCK taps are summed in registers per pass over dout[o].
static void conv1_weight_gradient(const float *x, ptrdiff_t h, ptrdiff_t w, ptrdiff_t k, ptrdiff_t p, ptrdiff_t ho,
                                  ptrdiff_t wo, const float *dout, ptrdiff_t outputs, float *padded, float *dweight) {
    const ptrdiff_t pw = conv1_pad(x, h, w, k, p, ho, wo, padded), hw = ho * wo, kk = k * k;
    for (ptrdiff_t o = 0; o < outputs; o++) {
        const float *d = dout + o * hw;
        for (ptrdiff_t t0 = 0; t0 < kk; t0 += CK_TAP_BLOCK) {
            const ptrdiff_t taps = min_index(CK_TAP_BLOCK, kk - t0);
            ptrdiff_t offset[CK_TAP_BLOCK];
            for (ptrdiff_t j = 0; j < taps; j++) offset[j] = ((t0 + j) / k) * pw + (t0 + j) % k;
            ck_v16 acc[CK_TAP_BLOCK];
            for (ptrdiff_t j = 0; j < CK_TAP_BLOCK; j++) acc[j] = splat16(0);
            for (ptrdiff_t y = 0; y < ho; y++) {
                const float *row = padded + y * pw;
                for (ptrdiff_t x0 = 0; x0 < wo; x0 += 16) {
                    if (x0 + 16 <= wo) {
                        const ck_v16 dv = load16(d + y * wo + x0);
                        if (taps == CK_TAP_BLOCK) {
                            for (ptrdiff_t j = 0; j < CK_TAP_BLOCK; j++) acc[j] += dv * load16(row + x0 + offset[j]);
                        } else {
                            for (ptrdiff_t j = 0; j < taps; j++) acc[j] += dv * load16(row + x0 + offset[j]);
                        }
                    } else {
                        // The last chunk of a row: products past Wo are dropped (not multiplied by 0, which a
                        // non-finite pixel would turn into NaN).
                        ck_v16 dv = splat16(0);
                        ck_i16 inside = (ck_i16){0};
                        for (ptrdiff_t j = 0; j < wo - x0; j++) { dv[j] = d[y * wo + x0 + j]; inside[j] = -1; }
                        for (ptrdiff_t j = 0; j < taps; j++) {
                            acc[j] += select16(inside, dv * load16(row + x0 + offset[j]), splat16(0));
                        }
                    }
                }
            }
            for (ptrdiff_t j = 0; j < taps; j++) dweight[o * kk + t0 + j] += lanes_sum16(acc[j]);
        }
    }
}

// MARK: im2col

/// Output rows [ya, yb) of the tile read inside the image; the others are zero. With the same padding (Wo = W) the
/// in-image rows of one (c, ky, kx) are the image's rows shifted by kx - P, one contiguous run: they are copied in
/// one piece and the columns that read outside the image (a float or two a row) zeroed after. Otherwise each row is
/// copied on its own.
/// Rows are short (Wo floats) and their zero borders a float or two: written inline, not through memset calls.
/// Consecutive rows of the column matrix are `ld` floats apart (ld >= (row_end - row_start) * Wo), so several images'
/// matrices can sit side by side in one [C*K*K, images * rows * Wo] matrix.
__attribute__((no_builtin("memset")))
static void im2col_pack(const float *image, ptrdiff_t channels, ptrdiff_t h, ptrdiff_t w, ptrdiff_t k,
                        ptrdiff_t p, ptrdiff_t wo, ptrdiff_t row_start, ptrdiff_t row_end, float *columns,
                        ptrdiff_t ld) {
    const ptrdiff_t n = ld;
    for (ptrdiff_t c = 0; c < channels; c++) {
        const float *plane = image + c * h * w;
        for (ptrdiff_t ky = 0; ky < k; ky++) {
            const ptrdiff_t ya = min_index(max_index(p - ky, row_start), row_end);
            const ptrdiff_t yb = min_index(max_index(h + p - ky, ya), row_end);
            for (ptrdiff_t kx = 0; kx < k; kx++) {
                float *dst = columns + ((c * k + ky) * k + kx) * n;
                // Output columns [xs, xe) read inside the image.
                const ptrdiff_t xs = max_index(0, p - kx), xe = max_index(xs, min_index(wo, w + p - kx));
                zero_floats(dst, (ya - row_start) * wo);
                zero_floats(dst + (yb - row_start) * wo, (row_end - yb) * wo);
                float *inside = dst + (ya - row_start) * wo;
                const ptrdiff_t first = (ya + ky - p) * w + kx - p;  // of output (ya, 0); read from column xs on
                if (w == wo && xs < xe) {
                    copy_floats(inside + xs, plane + first + xs, (yb - ya) * wo - xs - (wo - xe));
                    for (ptrdiff_t y = ya; y < yb; y++) {
                        float *row = inside + (y - ya) * wo;
                        for (ptrdiff_t x = 0; x < xs; x++) row[x] = 0;
                        for (ptrdiff_t x = xe; x < wo; x++) row[x] = 0;
                    }
                } else {
                    for (ptrdiff_t y = ya; y < yb; y++) {
                        float *row = inside + (y - ya) * wo;
                        zero_floats(row, xs);
                        copy_floats(row + xs, plane + first + (y - ya) * w + xs, xe - xs);
                        zero_floats(row + xe, wo - xe);
                    }
                }
            }
        }
    }
}

// MARK: Winograd tile transforms

// Each value of a tile's transform is one lane of a 16-lane vector, 16 tiles side by side. Tile t's column j of the
// plane is x = t*step + j; split by phase k = x mod step, it is entry t + j/step of phase j mod step, so with the
// rows stored as `step` phase rows the column stage reads whole vectors (unaligned) instead of strided lanes.

/// The nonzero entries of one row of a transform matrix, in column order (zero coefficients add nothing).
typedef struct {
    int count;
    int column[CK_WINOGRAD_MAX];
    float value[CK_WINOGRAD_MAX];
} ck_sparse_row;

/// rows[i] = the nonzero entries of row i of m: [count, columns].
CK_INLINE void winograd_sparse_rows(const float *m, ptrdiff_t count, ptrdiff_t columns, ck_sparse_row *rows) {
    for (ptrdiff_t i = 0; i < count; i++) {
        rows[i].count = 0;
        for (ptrdiff_t j = 0; j < columns; j++) {
            if (m[i * columns + j] == 0) continue;
            rows[i].column[rows[i].count] = (int)j;
            rows[i].value[rows[i].count] = m[i * columns + j];
            rows[i].count++;
        }
    }
}

#define CK_LOW_HALVES 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23
#define CK_HIGH_HALVES 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31

/// ph[k*nt + t] = lin[t*step + k] for k < step, t < used (a multiple of 16, <= nt): by even/odd shuffles for step 2
/// and 4.
CK_INLINE void winograd_split_phases(const float *lin, ptrdiff_t step, ptrdiff_t used, ptrdiff_t nt, float *ph) {
    for (ptrdiff_t t = 0; t < used; t += 16) {
        const float *src = lin + t * step;
        if (step == 4) {
            const ck_v16 v0 = load16(src), v1 = load16(src + 16), v2 = load16(src + 32), v3 = load16(src + 48);
            const ck_v16 e0 = __builtin_shufflevector(v0, v1, CK_EVEN), o0 = __builtin_shufflevector(v0, v1, CK_ODD);
            const ck_v16 e1 = __builtin_shufflevector(v2, v3, CK_EVEN), o1 = __builtin_shufflevector(v2, v3, CK_ODD);
            store16(ph + t, __builtin_shufflevector(e0, e1, CK_EVEN));
            store16(ph + nt + t, __builtin_shufflevector(o0, o1, CK_EVEN));
            store16(ph + 2 * nt + t, __builtin_shufflevector(e0, e1, CK_ODD));
            store16(ph + 3 * nt + t, __builtin_shufflevector(o0, o1, CK_ODD));
        } else if (step == 2) {
            const ck_v16 v0 = load16(src), v1 = load16(src + 16);
            store16(ph + t, __builtin_shufflevector(v0, v1, CK_EVEN));
            store16(ph + nt + t, __builtin_shufflevector(v0, v1, CK_ODD));
        } else {
            for (ptrdiff_t k = 0; k < step; k++) {
                for (ptrdiff_t lane = 0; lane < 16; lane++) ph[k * nt + t + lane] = src[lane * step + k];
            }
        }
    }
}

/// The inverse of `winograd_split_phases`: lin[t*step + k] = ph[k*nt + t].
CK_INLINE void winograd_merge_phases(const float *ph, ptrdiff_t step, ptrdiff_t nt, float *lin) {
    for (ptrdiff_t t = 0; t < nt; t += 16) {
        float *dst = lin + t * step;
        if (step == 4) {
            const ck_v16 p0 = load16(ph + t), p1 = load16(ph + nt + t), p2 = load16(ph + 2 * nt + t), p3 = load16(ph + 3 * nt + t);
            const ck_v16 e0 = __builtin_shufflevector(p0, p2, CK_LOW_HALVES), e1 = __builtin_shufflevector(p0, p2, CK_HIGH_HALVES);
            const ck_v16 o0 = __builtin_shufflevector(p1, p3, CK_LOW_HALVES), o1 = __builtin_shufflevector(p1, p3, CK_HIGH_HALVES);
            store16(dst, __builtin_shufflevector(e0, o0, CK_LOW_HALVES));
            store16(dst + 16, __builtin_shufflevector(e0, o0, CK_HIGH_HALVES));
            store16(dst + 32, __builtin_shufflevector(e1, o1, CK_LOW_HALVES));
            store16(dst + 48, __builtin_shufflevector(e1, o1, CK_HIGH_HALVES));
        } else if (step == 2) {
            const ck_v16 p0 = load16(ph + t), p1 = load16(ph + nt + t);
            store16(dst, __builtin_shufflevector(p0, p1, CK_LOW_HALVES));
            store16(dst + 16, __builtin_shufflevector(p0, p1, CK_HIGH_HALVES));
        } else {
            for (ptrdiff_t k = 0; k < step; k++) {
                for (ptrdiff_t lane = 0; lane < 16; lane++) dst[lane * step + k] = ph[k * nt + t + lane];
            }
        }
    }
}

/// Phase rows of `count` (<= CK_WINOGRAD_MAX) plane rows from y0: ph[(i*step + k)*nt + t] = plane[y0 + i, x0 + t*step + k]
/// (0 outside the plane), for t < used (a multiple of 16, <= nt); lin: scratch of step*nt floats.
CK_INLINE void winograd_split_rows(const float *plane, ptrdiff_t h, ptrdiff_t w, ptrdiff_t y0, ptrdiff_t x0,
                                   ptrdiff_t step, ptrdiff_t count, ptrdiff_t used, ptrdiff_t nt, float *lin, float *ph) {
    const ptrdiff_t n = step * used;
    const ptrdiff_t xs = min_index(n, max_index(0, -x0)), xe = max_index(xs, min_index(n, w - x0));
    for (ptrdiff_t i = 0; i < count; i++) {
        const ptrdiff_t iy = y0 + i;
        if (iy < 0 || iy >= h) {
            for (ptrdiff_t k = 0; k < step; k++) zero_floats(ph + (i * step + k) * nt, used);
            continue;
        }
        zero_floats(lin, xs);
        copy_floats(lin + xs, plane + iy * w + x0 + xs, xe - xs);
        zero_floats(lin + xe, n - xe);
        winograd_split_phases(lin, step, used, nt, ph + i * step * nt);
    }
}

/// Winograd's matrices from symmetric interpolation points (0, then pairs ±a, then infinity; `WinogradTransform`) have
/// a structure that halves the work of applying them. B^T and A (the transforms `winograd_tiles_in` takes) have
/// "paired rows": row 0 has nonzeros at even columns only, the last row at odd columns only, and the rows 2k+1, 2k+2
/// of each pair are equal at even columns and opposite at odd ones (the polynomials of ±a: M_{-a}(x) = M_a(-x) for
/// B^T, a^i and (-a)^i for A). A^T and B (the ones `winograd_tiles_out` takes) have the same layout in their columns.
/// `ck_winograd_has_paired_rows` (dispatch.c) checks it.

/// y = L x for L: [p, s] with paired rows (`ck_winograd_has_paired_rows`), x: s vectors, y: p vectors. Per pair,
/// E = sum over even i of L[2k+1, i] x[i] and O = the same over odd i (each in index order) give y[2k+1] = E + O,
/// y[2k+2] = E - O; y[0] sums over even i, y[p-1] over odd i: about half the products of L x.
CK_INLINE void winograd_apply_paired_rows(const float *l, ptrdiff_t p, ptrdiff_t s, const ck_v16 *x, ck_v16 *y) {
    ck_v16 first = splat16(0), last = splat16(0);
    for (ptrdiff_t i = 0; i < s; i += 2) first += l[i] * x[i];
    for (ptrdiff_t i = 1; i < s; i += 2) last += l[(p - 1) * s + i] * x[i];
    y[0] = first;
    y[p - 1] = last;
    for (ptrdiff_t a = 1; a + 1 < p; a += 2) {
        ck_v16 even = splat16(0), odd = splat16(0);
        for (ptrdiff_t i = 0; i < s; i += 2) even += l[a * s + i] * x[i];
        for (ptrdiff_t i = 1; i < s; i += 2) odd += l[a * s + i] * x[i];
        y[a] = even + odd;
        y[a + 1] = even - odd;
    }
}

/// y = R z for R: [p, s] with paired columns (the transpose's rows paired), z: s vectors, y: p vectors. Per pair of
/// columns, z[2k+1] + z[2k+2] and z[2k+1] - z[2k+2] are formed once; an even row sums R[i, 0] z[0] and the pairs' sums,
/// an odd row the pairs' differences and R[i, s-1] z[s-1], in index order.
CK_INLINE void winograd_apply_paired_columns(const float *r, ptrdiff_t p, ptrdiff_t s, const ck_v16 *z, ck_v16 *y) {
    ck_v16 plus[CK_WINOGRAD_MAX / 2], minus[CK_WINOGRAD_MAX / 2];
    for (ptrdiff_t a = 1; a + 1 < s; a += 2) {
        plus[a / 2] = z[a] + z[a + 1];
        minus[a / 2] = z[a] - z[a + 1];
    }
    for (ptrdiff_t i = 0; i < p; i++) {
        const float *row = r + i * s;
        ck_v16 acc;
        if (i % 2 == 0) {
            acc = row[0] * z[0];
            for (ptrdiff_t a = 1; a + 1 < s; a += 2) acc += row[a] * plus[a / 2];
        } else {
            acc = splat16(0);
            for (ptrdiff_t a = 1; a + 1 < s; a += 2) acc += row[a] * minus[a / 2];
            acc += row[s - 1] * z[s - 1];
        }
        y[i] = acc;
    }
}

/// How `winograd_tiles_in_body` and `winograd_tiles_out_body` apply the transform matrix.
enum {
    CK_SPARSE = 0,  // the nonzero coefficients of each row, in loops of run-time length (any shape)
    CK_DENSE = 1,   // every coefficient (zeros too) in loops of constant length, unrolled for the shapes below
    CK_PAIRED = 2,  // `winograd_apply_paired_rows` / `_columns`, unrolled for the shapes below
};

/// `winograd_tiles_in`, with `mode` as above (the callers below inline it for the tile sizes of
/// `Conv2D.winogradTransform`, so the compiler unrolls the constant loops).
CK_INLINE void winograd_tiles_in_body(const float *plane, ptrdiff_t h, ptrdiff_t w, ptrdiff_t y0, ptrdiff_t x0,
                                      ptrdiff_t step, ptrdiff_t tiles, const float *l, ptrdiff_t p, ptrdiff_t s,
                                      float *out, ptrdiff_t ld, float *scratch, int mode) {
    const int dense = mode == CK_DENSE;
    // Phase k of f is read at columns below tiles + (s - 1 - k) / step (column j = q step + k of the last tile), so
    // its row stage covers `reach[k]` columns in whole groups (at 16 tiles of F(4, 3): one more group for phases 0
    // and 1 only; at 8 tiles none); nt, the phase rows' length, holds the longest.
    const ptrdiff_t padded = (tiles + 15) / 16 * 16, nt = (padded + (s - 1) / step + 15) / 16 * 16;
    ptrdiff_t reach[CK_WINOGRAD_MAX];
    for (ptrdiff_t k = 0; k < step; k++) reach[k] = (tiles + (s - 1 - k) / step + 15) / 16 * 16;
    float *ph = scratch;                    // [s, step, nt]: the patches' rows, by phase
    float *f = ph + s * step * nt;          // [p, step, nt]: the row stage, f[a] = sum_i l[a, i] row i
    float *lin = f + p * step * nt;         // [step * nt]: one plane row
    ptrdiff_t offset[CK_WINOGRAD_MAX];  // of column j of a tile in its phase rows
    for (ptrdiff_t j = 0; j < s; j++) offset[j] = (j % step) * nt + j / step;
    winograd_split_rows(plane, h, w, y0, x0, step, s, reach[0], nt, lin, ph);
    if (mode == CK_PAIRED) {
        ck_v16 x[CK_WINOGRAD_MAX], y[CK_WINOGRAD_MAX];
        for (ptrdiff_t k = 0; k < step; k++) {  // the row stage
            const float *src = ph + k * nt;
            for (ptrdiff_t t = 0; t < reach[k]; t += 16) {
                for (ptrdiff_t i = 0; i < s; i++) x[i] = load16(src + i * step * nt + t);
                winograd_apply_paired_rows(l, p, s, x, y);
                for (ptrdiff_t a = 0; a < p; a++) store16(f + (a * step + k) * nt + t, y[a]);
            }
        }
        for (ptrdiff_t t0 = 0; t0 < tiles; t0 += 16) {  // the column stage
            for (ptrdiff_t a = 0; a < p; a++) {
                const float *fa = f + a * step * nt + t0;
                for (ptrdiff_t j = 0; j < s; j++) x[j] = load16(fa + offset[j]);
                winograd_apply_paired_rows(l, p, s, x, y);
                for (ptrdiff_t b = 0; b < p; b++) store16(out + (a * p + b) * ld + t0, y[b]);
            }
        }
        return;
    }
    ck_sparse_row rows[CK_WINOGRAD_MAX];
    if (!dense) winograd_sparse_rows(l, p, s, rows);
    for (ptrdiff_t a = 0; a < p; a++) {
        const ck_sparse_row row = rows[a];
        for (ptrdiff_t k = 0; k < step; k++) {
            float *dst = f + (a * step + k) * nt;
            const float *src = ph + k * nt;
            for (ptrdiff_t t = 0; t < reach[k]; t += 16) {
                ck_v16 acc = splat16(0);
                for (int q = 0; q < (dense ? s : row.count); q++) {
                    const ptrdiff_t i = dense ? q : row.column[q];
                    acc += (dense ? l[a * s + q] : row.value[q]) * load16(src + i * step * nt + t);
                }
                store16(dst + t, acc);
            }
        }
    }
    // The column stage: z[a, b] = sum_j l[b, j] f[a, column j].
    for (ptrdiff_t t0 = 0; t0 < tiles; t0 += 16) {
        for (ptrdiff_t a = 0; a < p; a++) {
            const float *fa = f + a * step * nt + t0;
            for (ptrdiff_t b = 0; b < p; b++) {
                const ck_sparse_row row = rows[b];
                ck_v16 acc = splat16(0);
                for (int q = 0; q < (dense ? s : row.count); q++) {
                    acc += (dense ? l[b * s + q] : row.value[q]) * load16(fa + offset[dense ? q : row.column[q]]);
                }
                store16(out + (a * p + b) * ld + t0, acc);
            }
        }
    }
}

/// The p x p patches R Z R^T of 16 adjacent tiles (one per lane; `winograd_tiles_out`), Z[a, b] = in[(a*s + b)*ld + t0
/// + lane]: patch[i][j]. Lanes from n on (past the row's tiles) are computed from 0 and are to be dropped. `rows`: R's
/// sparse rows where mode is CK_SPARSE. e[a, j] = sum_b r[j, b] z[a, b], then patch[i, j] = sum_a r[i, a] e[a, j], in
/// index order or, paired, by even and odd halves (`winograd_apply_paired_columns`).
CK_INLINE void winograd_patches16(const float *in, ptrdiff_t ld, ptrdiff_t t0, ptrdiff_t n, const float *r, ptrdiff_t p,
                                  ptrdiff_t s, const ck_sparse_row *rows, int mode,
                                  ck_v16 patch[CK_WINOGRAD_MAX][CK_WINOGRAD_MAX]) {
    const int dense = mode == CK_DENSE;
    ck_v16 z[CK_WINOGRAD_MAX][CK_WINOGRAD_MAX], e[CK_WINOGRAD_MAX][CK_WINOGRAD_MAX];
    ck_i16 live;  // lanes of real tiles: the others read whatever lies past them
    for (int lane = 0; lane < 16; lane++) live[lane] = lane < n ? -1 : 0;
    for (ptrdiff_t a = 0; a < s; a++) {
        for (ptrdiff_t b = 0; b < s; b++) {
            const float *src = in + (a * s + b) * ld + t0;
            z[a][b] = n == 16 ? load16(src) : select16(live, load16(src), splat16(0));
        }
    }
    if (mode == CK_PAIRED) {
        ck_v16 column[CK_WINOGRAD_MAX], y[CK_WINOGRAD_MAX];
        for (ptrdiff_t a = 0; a < s; a++) winograd_apply_paired_columns(r, p, s, z[a], e[a]);
        for (ptrdiff_t j = 0; j < p; j++) {
            for (ptrdiff_t a = 0; a < s; a++) column[a] = e[a][j];
            winograd_apply_paired_columns(r, p, s, column, y);
            for (ptrdiff_t i = 0; i < p; i++) patch[i][j] = y[i];
        }
        return;
    }
    for (ptrdiff_t a = 0; a < s; a++) {
        for (ptrdiff_t j = 0; j < p; j++) {
            const ck_sparse_row row = rows[j];
            ck_v16 acc = splat16(0);
            for (int q = 0; q < (dense ? s : row.count); q++) {
                acc += (dense ? r[j * s + q] : row.value[q]) * z[a][dense ? q : row.column[q]];
            }
            e[a][j] = acc;
        }
    }
    for (ptrdiff_t i = 0; i < p; i++) {
        const ck_sparse_row row = rows[i];
        for (ptrdiff_t j = 0; j < p; j++) {
            ck_v16 acc = splat16(0);
            for (int q = 0; q < (dense ? s : row.count); q++) {
                acc += (dense ? r[i * s + q] : row.value[q]) * e[dense ? q : row.column[q]][j];
            }
            patch[i][j] = acc;
        }
    }
}

/// `winograd_tiles_out`, with `mode` as in `winograd_tiles_in_body` (paired columns).
CK_INLINE void winograd_tiles_out_body(const float *in, ptrdiff_t ld, ptrdiff_t tiles, const float *r, ptrdiff_t p,
                                       ptrdiff_t s, float *plane, ptrdiff_t h, ptrdiff_t w, ptrdiff_t y0, ptrdiff_t x0,
                                       ptrdiff_t step, float bias, int accumulate, float *scratch, int mode) {
    // Patches as wide as their step (the forward pass: p = m) tile the row without overlap: each phase column is
    // written once, by a store, and needs no zeroing; wider ones (dX: p = alpha) overlap and are added.
    const int disjoint = p == step;
    const ptrdiff_t padded = (tiles + 15) / 16 * 16, nt = disjoint ? padded : padded + 16;  // room for t + j/step, j < p
    float *ph = scratch;               // [p, step, nt]: the patches' rows by phase (overlapping patches added)
    float *lin = ph + p * step * nt;   // [step * nt]: one row of patches
    if (!disjoint) zero_floats(ph, p * step * nt);
    ck_sparse_row rows[CK_WINOGRAD_MAX];
    ptrdiff_t offset[CK_WINOGRAD_MAX];  // of column j of a patch in its phase rows
    if (mode == CK_SPARSE) winograd_sparse_rows(r, p, s, rows);
    for (ptrdiff_t j = 0; j < p; j++) offset[j] = (j % step) * nt + j / step;
    for (ptrdiff_t t0 = 0; t0 < tiles; t0 += 16) {
        ck_v16 patch[CK_WINOGRAD_MAX][CK_WINOGRAD_MAX];
        winograd_patches16(in, ld, t0, min_index(16, tiles - t0), r, p, s, rows, mode, patch);
        for (ptrdiff_t j = 0; j < p; j++) {
            for (ptrdiff_t i = 0; i < p; i++) {
                float *dst = ph + i * step * nt + offset[j] + t0;
                store16(dst, disjoint ? patch[i][j] : load16(dst) + patch[i][j]);
            }
        }
    }
    // Columns some patch reaches: [0, (tiles - 1) * step + p); of those, the ones inside the plane.
    const ptrdiff_t reached = (tiles - 1) * step + p;
    const ptrdiff_t xs = min_index(reached, max_index(0, -x0)), xe = max_index(xs, min_index(reached, w - x0));
    for (ptrdiff_t i = 0; i < p; i++) {
        const ptrdiff_t iy = y0 + i;
        if (iy < 0 || iy >= h) continue;
        winograd_merge_phases(ph + i * step * nt, step, nt, lin);
        float *row = plane + iy * w + x0;
        if (accumulate) {
            for (ptrdiff_t x = xs; x < xe; x++) row[x] += lin[x];
        } else {
            for (ptrdiff_t x = xs; x < xe; x++) row[x] = bias + lin[x];
        }
    }
}

/// Lanes 0..15 of `count` vectors, `tiles` (4 or 8) from each: lane r*tiles + t = v[r][t] (lanes past count*tiles 0).
CK_INLINE ck_v16 winograd_pack_lanes(const ck_v16 *v, ptrdiff_t count, ptrdiff_t tiles) {
    const ck_v16 zero = splat16(0);
    if (tiles == 8) return __builtin_shufflevector(v[0], count > 1 ? v[1] : zero, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
    const ck_v16 low = __builtin_shufflevector(v[0], count > 1 ? v[1] : zero, 0, 1, 2, 3, 16, 17, 18, 19, 0, 1, 2, 3, 16, 17, 18, 19);
    const ck_v16 high = __builtin_shufflevector(count > 2 ? v[2] : zero, count > 3 ? v[3] : zero, 0, 1, 2, 3, 16, 17, 18, 19,
                                                0, 1, 2, 3, 16, 17, 18, 19);
    return __builtin_shufflevector(low, high, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
}

/// `winograd_tiles_in_body` (paired rows) for `count` consecutive tile rows of `tiles` = 4 or 8 tiles (count * tiles
/// <= 16, the rows' first plane rows `step` apart from y0), in one 16-lane group: lane r*tiles + t is tile t of row r,
/// so the rows' tiles land side by side, as `count * tiles` columns of `out` (and a row of 8 or 4 tiles stops leaving
/// half or three quarters of the lanes idle). Each row is split into phases as there; x[i][j] gathers element (i, j)
/// of every lane's patch, and the row and column stages apply L to it in the same order as there, so every tile gets
/// the same bytes.
CK_INLINE void winograd_tiles_in_packed_body(const float *plane, ptrdiff_t h, ptrdiff_t w, ptrdiff_t y0, ptrdiff_t x0,
                                             ptrdiff_t step, ptrdiff_t tiles, ptrdiff_t count, const float *l,
                                             ptrdiff_t p, ptrdiff_t s, float *out, ptrdiff_t ld, float *scratch) {
    // Phase rows of 16: lanes t + j/step (t < tiles <= 8, j/step <= 1 for s <= 8) lie inside them; the 16-lane loads
    // at t + 1 read one float past a row into lanes the packing drops.
    const ptrdiff_t nt = 16;
    float *lin = scratch, *ph = lin + step * nt;  // ph: [count, s, step, nt]
    for (ptrdiff_t r = 0; r < count; r++) {
        winograd_split_rows(plane, h, w, y0 + r * step, x0, step, s, 16, nt, lin, ph + r * s * step * nt);
    }
    ck_v16 x[CK_WINOGRAD_MAX][CK_WINOGRAD_MAX], f[CK_WINOGRAD_MAX][CK_WINOGRAD_MAX];
    for (ptrdiff_t i = 0; i < s; i++) {
        for (ptrdiff_t j = 0; j < s; j++) {
            ck_v16 v[4];
            for (ptrdiff_t r = 0; r < count; r++) v[r] = load16(ph + ((r * s + i) * step + j % step) * nt + j / step);
            x[i][j] = winograd_pack_lanes(v, count, tiles);
        }
    }
    ck_v16 column[CK_WINOGRAD_MAX], y[CK_WINOGRAD_MAX];
    for (ptrdiff_t j = 0; j < s; j++) {  // the row stage: f[a][j] = sum_i l[a, i] x[i][j]
        for (ptrdiff_t i = 0; i < s; i++) column[i] = x[i][j];
        winograd_apply_paired_rows(l, p, s, column, y);
        for (ptrdiff_t a = 0; a < p; a++) f[a][j] = y[a];
    }
    for (ptrdiff_t a = 0; a < p; a++) {  // the column stage: z[a, b] = sum_j l[b, j] f[a][j]
        winograd_apply_paired_rows(l, p, s, f[a], y);
        for (ptrdiff_t b = 0; b < p; b++) store16(out + (a * p + b) * ld, y[b]);
    }
}

/// Calls `body` with (step, p, s) as constants for the shapes of F(4, 3) and F(4, 5) (input, output, dY and dX
/// transforms), so that it is compiled once for each, paired where the matrix is (`paired`: the caller's
/// `ck_winograd_has_paired_rows`, found once per matrix) and dense otherwise; other shapes run the general loops.
#define CK_WINOGRAD_SHAPE(body, STEP, P, S, paired) body(STEP, P, S, (paired) ? CK_PAIRED : CK_DENSE)
#define CK_WINOGRAD_SHAPES(body, step, p, s, paired)                                                       \
    if (step == 4 && p == 8 && s == 8) CK_WINOGRAD_SHAPE(body, 4, 8, 8, paired);                          \
    else if (step == 4 && p == 8 && s == 4) CK_WINOGRAD_SHAPE(body, 4, 8, 4, paired);                     \
    else if (step == 4 && p == 4 && s == 8) CK_WINOGRAD_SHAPE(body, 4, 4, 8, paired);                     \
    else if (step == 4 && p == 6 && s == 6) CK_WINOGRAD_SHAPE(body, 4, 6, 6, paired);                     \
    else if (step == 4 && p == 6 && s == 4) CK_WINOGRAD_SHAPE(body, 4, 6, 4, paired);                     \
    else if (step == 4 && p == 4 && s == 6) CK_WINOGRAD_SHAPE(body, 4, 4, 6, paired);                     \
    else body(step, p, s, CK_SPARSE)

static void winograd_tiles_in(const float *plane, ptrdiff_t h, ptrdiff_t w, ptrdiff_t y0, ptrdiff_t x0,
                              ptrdiff_t step, ptrdiff_t tiles, ptrdiff_t rows, const float *l, ptrdiff_t p, ptrdiff_t s,
                              float *out, ptrdiff_t ld, float *scratch, int paired) {
    if (paired && step == 4 && (tiles == 4 || tiles == 8) && rows > 1 && s <= 8) {
        for (ptrdiff_t r = 0; r < rows; r += 16 / tiles) {
            const ptrdiff_t count = min_index(16 / tiles, rows - r);
#define CK_TILES_IN_PACKED(STEP, P, S, DENSE) \
    winograd_tiles_in_packed_body(plane, h, w, y0 + r * STEP, x0, STEP, tiles, count, l, P, S, out + r * tiles, ld, scratch)
            CK_WINOGRAD_SHAPES(CK_TILES_IN_PACKED, step, p, s, paired);
#undef CK_TILES_IN_PACKED
        }
        return;
    }
    for (ptrdiff_t r = 0; r < rows; r++) {
#define CK_TILES_IN(STEP, P, S, DENSE) \
    winograd_tiles_in_body(plane, h, w, y0 + r * step, x0, STEP, tiles, l, P, S, out + r * tiles, ld, scratch, DENSE)
        CK_WINOGRAD_SHAPES(CK_TILES_IN, step, p, s, paired);
#undef CK_TILES_IN
    }
}

static void winograd_tiles_out(const float *in, ptrdiff_t ld, ptrdiff_t tiles, const float *r, ptrdiff_t p,
                               ptrdiff_t s, float *plane, ptrdiff_t h, ptrdiff_t w, ptrdiff_t y0, ptrdiff_t x0,
                               ptrdiff_t step, float bias, int accumulate, float *scratch, int paired) {
#define CK_TILES_OUT(STEP, P, S, DENSE) \
    winograd_tiles_out_body(in, ld, tiles, r, P, S, plane, h, w, y0, x0, STEP, bias, accumulate, scratch, DENSE)
    CK_WINOGRAD_SHAPES(CK_TILES_OUT, step, p, s, paired);
#undef CK_TILES_OUT
}

// MARK: Reductions

static float sum(const float *a, ptrdiff_t n) {
    ck_v16 s0 = splat16(0), s1 = splat16(0);
    ptrdiff_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 += load16(a + i);
        s1 += load16(a + i + 16);
    }
    if (i + 16 <= n) { s0 += load16(a + i); i += 16; }
    float total = lanes_sum16(s0 + s1);
    for (; i < n; i++) total += a[i];
    return total;
}

static float dot(const float *a, const float *b, ptrdiff_t n) {
    ck_v16 s0 = splat16(0), s1 = splat16(0);
    ptrdiff_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 += load16(a + i) * load16(b + i);
        s1 += load16(a + i + 16) * load16(b + i + 16);
    }
    if (i + 16 <= n) { s0 += load16(a + i) * load16(b + i); i += 16; }
    float total = lanes_sum16(s0 + s1);
    for (; i < n; i++) total += a[i] * b[i];
    return total;
}

static float centred_squares(const float *a, ptrdiff_t n, float mu) {
    ck_v16 s0 = splat16(0), s1 = splat16(0);
    ptrdiff_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const ck_v16 d0 = load16(a + i) - mu, d1 = load16(a + i + 16) - mu;
        s0 += d0 * d0;
        s1 += d1 * d1;
    }
    if (i + 16 <= n) { const ck_v16 d = load16(a + i) - mu; s0 += d * d; i += 16; }
    float total = lanes_sum16(s0 + s1);
    for (; i < n; i++) { const float d = a[i] - mu; total += d * d; }
    return total;
}

// MARK: BatchNorm-ReLU-max-pool

CK_INLINE ck_v16 relu16(ck_v16 v) { return select16(v < 0, splat16(0), v); }

/// The four values of 16 adjacent 2x2 windows whose top-left corners are at r0 and r1 = r0 + w:
/// a = top left, b = top right, c = bottom left, d = bottom right.
typedef struct { ck_v16 a, b, c, d; } ck_windows16;

CK_INLINE ck_windows16 load_windows16(const float *r0, const float *r1) {
    const ck_v16 t0 = load16(r0), t1 = load16(r0 + 16), u0 = load16(r1), u1 = load16(r1 + 16);
    return (ck_windows16){
        __builtin_shufflevector(t0, t1, CK_EVEN), __builtin_shufflevector(t0, t1, CK_ODD),
        __builtin_shufflevector(u0, u1, CK_EVEN), __builtin_shufflevector(u0, u1, CK_ODD),
    };
}

/// 16 windows' BatchNorm (x scale + shift), ReLU and maximum, the first of equal values winning: the pooled values,
/// and in *index each winner's position (0...3) plus 4 where it is not positive.
CK_INLINE ck_v16 pool_forward16(ck_windows16 v, float scale, float shift, ck_i16 *index_out) {
    const ck_v16 a = relu16(v.a * scale + shift), b = relu16(v.b * scale + shift);
    const ck_v16 c = relu16(v.c * scale + shift), d = relu16(v.d * scale + shift);
    ck_v16 best = a;
    ck_i16 index = (ck_i16){0}, m;
    m = b > best; best = select16(m, b, best); index = (m & 1) | (~m & index);
    m = c > best; best = select16(m, c, best); index = (m & 2) | (~m & index);
    m = d > best; best = select16(m, d, best); index = (m & 3) | (~m & index);
    *index_out = index | (~(best > 0) & 4);
    return best;
}

/// `count` channels of `conv1_bn_relu_pool` at 16 pooled outputs of one row: two rows of 32 convolution outputs from
/// `window` summed in registers exactly as `conv1_outputs` sums them (bias, then the taps in (ky, kx) order), then
/// pooled by `pool_forward16`; `valid` of the 16 written to dst (plane stride hwp), or all 16 where `spill`.
CK_INLINE void conv1_pool_outputs(const float *window, ptrdiff_t pw, ptrdiff_t k, const float *weight,
                                  const float *bias, const float *scale, const float *shift, int count, float *dst,
                                  ptrdiff_t hwp, ptrdiff_t valid, int spill) {
    const ptrdiff_t kk = k * k;
    ck_v16 acc[CK_CONV_BLOCK][2][2];  // [channel][row][16-column group]
    for (int j = 0; j < count; j++) {
        for (int r = 0; r < 2; r++) { acc[j][r][0] = splat16(bias[j]); acc[j][r][1] = acc[j][r][0]; }
    }
    for (ptrdiff_t ky = 0; ky < k; ky++) {
        for (ptrdiff_t kx = 0; kx < k; kx++) {
            ck_v16 v[2][2];
            for (int r = 0; r < 2; r++) {
                v[r][0] = load16(window + (r + ky) * pw + kx);
                v[r][1] = load16(window + (r + ky) * pw + 16 + kx);
            }
            for (int j = 0; j < count; j++) {
                const float wj = weight[j * kk + ky * k + kx];
                for (int r = 0; r < 2; r++) { acc[j][r][0] += wj * v[r][0]; acc[j][r][1] += wj * v[r][1]; }
            }
        }
    }
    for (int j = 0; j < count; j++) {
        const ck_windows16 windows = {
            __builtin_shufflevector(acc[j][0][0], acc[j][0][1], CK_EVEN),
            __builtin_shufflevector(acc[j][0][0], acc[j][0][1], CK_ODD),
            __builtin_shufflevector(acc[j][1][0], acc[j][1][1], CK_EVEN),
            __builtin_shufflevector(acc[j][1][0], acc[j][1][1], CK_ODD),
        };
        ck_i16 index;
        const ck_v16 best = pool_forward16(windows, scale[j], shift[j], &index);
        if (valid == 16 || spill) store16(dst + j * hwp, best);
        else store_first16(dst + j * hwp, best, valid);
    }
}

/// The evaluation-mode first block of one image (one input channel): out[o] = maxpool(relu(conv(x)[o] * scale[o] +
/// shift[o])): [O, Ho/2, Wo/2], without the convolution's output ever reaching memory; the same bytes as
/// `conv1_forward` followed by `bn_relu_pool_forward` (`conv1_pool_outputs`).
static void conv1_bn_relu_pool(const float *x, ptrdiff_t h, ptrdiff_t w, ptrdiff_t k, ptrdiff_t p, ptrdiff_t ho,
                               ptrdiff_t wo, const float *weight, const float *bias, const float *scale,
                               const float *shift, ptrdiff_t outputs, float *padded, float *out) {
    const ptrdiff_t pw = conv1_pad(x, h, w, k, p, ho, wo, padded), kk = k * k;
    const ptrdiff_t hp = ho / 2, wp = wo / 2, hwp = hp * wp;
    for (ptrdiff_t py = 0; py < hp; py++) {
        for (ptrdiff_t px0 = 0; px0 < wp; px0 += 16) {
            const float *window = padded + 2 * py * pw + 2 * px0;
            const ptrdiff_t valid = min_index(16, wp - px0);
            const int spill = py * wp + px0 + 16 <= hwp;  // lanes past the row land in later rows of the plane
            float *dst = out + py * wp + px0;
            ptrdiff_t o = 0;
            for (; o + CK_CONV_BLOCK <= outputs; o += CK_CONV_BLOCK) {
                conv1_pool_outputs(window, pw, k, weight + o * kk, bias + o, scale + o, shift + o, CK_CONV_BLOCK,
                                   dst + o * hwp, hwp, valid, spill);
            }
            for (; o < outputs; o++) {
                conv1_pool_outputs(window, pw, k, weight + o * kk, bias + o, scale + o, shift + o, 1, dst + o * hwp, hwp,
                                   valid, spill);
            }
        }
    }
}

static void bn_relu_pool_forward(const float *x, ptrdiff_t h, ptrdiff_t w, float scale, float shift, float *y,
                                 uint8_t *winners) {
    const ptrdiff_t ho = h / 2, wo = w / 2;
    for (ptrdiff_t oy = 0; oy < ho; oy++) {
        const float *r0 = x + 2 * oy * w, *r1 = r0 + w;
        float *yo = y + oy * wo;
        uint8_t *wn = winners + oy * wo;
        ptrdiff_t ox = 0;
        for (; ox + 16 <= wo; ox += 16) {
            ck_i16 index;
            store16(yo + ox, pool_forward16(load_windows16(r0 + 2 * ox, r1 + 2 * ox), scale, shift, &index));
            *(ck_u8x16u *)(wn + ox) = __builtin_convertvector(index, ck_u8x16);
        }
        if (ox < wo) {  // the last windows, through stack copies (lanes past them from zeros, dropped)
            const ptrdiff_t n = wo - ox;
            float t0[32] __attribute__((aligned(64))) = {0}, t1[32] __attribute__((aligned(64))) = {0};
            copy_floats(t0, r0 + 2 * ox, 2 * n);
            copy_floats(t1, r1 + 2 * ox, 2 * n);
            ck_i16 index;
            store_first16(yo + ox, pool_forward16(load_windows16(t0, t1), scale, shift, &index), n);
            uint8_t bytes[16];
            *(ck_u8x16u *)bytes = __builtin_convertvector(index, ck_u8x16);
            for (ptrdiff_t j = 0; j < n; j++) wn[ox + j] = bytes[j];
        }
    }
}

/// The pooled values of 16 lanes' windows (v = 0, 1: a tile's two pooled columns) stored for `tiles` = 4 or 8 tiles a
/// row, `count` rows side by side in the lanes: row r's pooled row at pooled + r * row_stride.
CK_INLINE void winograd_store_packed_pooled(ck_v16 best0, ck_v16 best1, ptrdiff_t tiles, ptrdiff_t count, float *pooled,
                                            ptrdiff_t row_stride) {
    const ck_v16 low = __builtin_shufflevector(best0, best1, CK_LOW_HALVES);
    const ck_v16 high = __builtin_shufflevector(best0, best1, CK_HIGH_HALVES);
    if (tiles == 8) {
        store16(pooled, low);
        if (count > 1) store16(pooled + row_stride, high);
        return;
    }
    const ck_v8 rows[4] = {
        __builtin_shufflevector(low, low, 0, 1, 2, 3, 4, 5, 6, 7), __builtin_shufflevector(low, low, 8, 9, 10, 11, 12, 13, 14, 15),
        __builtin_shufflevector(high, high, 0, 1, 2, 3, 4, 5, 6, 7), __builtin_shufflevector(high, high, 8, 9, 10, 11, 12, 13, 14, 15),
    };
    for (ptrdiff_t r = 0; r < count; r++) store8(pooled + r * row_stride, rows[r]);
}

/// `winograd_tiles_out_pool`, with `mode` as in `winograd_tiles_in_body`: per group of 16 lanes, the patches
/// (`winograd_patches16`), then per 2x2 window of a patch `pool_forward16` of bias + patch, exactly as
/// `bn_relu_pool_forward` takes the plane `winograd_tiles_out` writes (bias + patch). Pooled window (u, v) of tile t
/// is column t * p/2 + v of pooled row u; for p = 4 a lane's two columns are interleaved by one shuffle per 16 lanes.
/// Rows of 4 or 8 tiles (p = 4) share a group, as `winograd_tiles_in` packs them.
CK_INLINE void winograd_tiles_out_pool_body(const float *in, ptrdiff_t ld, ptrdiff_t tiles, ptrdiff_t rows,
                                            const float *r, ptrdiff_t p, ptrdiff_t s, float *pooled, ptrdiff_t wp,
                                            float bias, float scale, float shift, int mode) {
    ck_sparse_row sparse[CK_WINOGRAD_MAX];
    if (mode == CK_SPARSE) winograd_sparse_rows(r, p, s, sparse);
    const ptrdiff_t half = p / 2;
    const int packed = half == 2 && (tiles == 4 || tiles == 8) && rows > 1;
    const ptrdiff_t per_group = packed ? 16 / tiles : 1;  // rows a group holds
    for (ptrdiff_t r0 = 0; r0 < rows; r0 += per_group) {
        const ptrdiff_t count = min_index(per_group, rows - r0);
        for (ptrdiff_t t0 = 0; t0 < tiles; t0 += 16) {
            const ptrdiff_t n = packed ? count * tiles : min_index(16, tiles - t0);
            ck_v16 patch[CK_WINOGRAD_MAX][CK_WINOGRAD_MAX];
            winograd_patches16(in + r0 * tiles, ld, t0, n, r, p, s, sparse, mode, patch);
            for (ptrdiff_t u = 0; u < half; u++) {
                ck_v16 best[CK_WINOGRAD_MAX / 2];
                for (ptrdiff_t v = 0; v < half; v++) {
                    const ck_windows16 window = {
                        bias + patch[2 * u][2 * v], bias + patch[2 * u][2 * v + 1],
                        bias + patch[2 * u + 1][2 * v], bias + patch[2 * u + 1][2 * v + 1],
                    };
                    ck_i16 index;
                    best[v] = pool_forward16(window, scale, shift, &index);
                }
                float *row = pooled + (r0 * half + u) * wp + t0 * half;
                if (packed) {
                    winograd_store_packed_pooled(best[0], best[1], tiles, count, row, half * wp);
                } else if (half == 2) {
                    const ck_v16 low = __builtin_shufflevector(best[0], best[1], CK_LOW_HALVES);
                    const ck_v16 high = __builtin_shufflevector(best[0], best[1], CK_HIGH_HALVES);
                    if (n == 16) {
                        store16(row, low);
                        store16(row + 16, high);
                    } else {
                        store_first16(row, low, min_index(16, 2 * n));
                        if (n > 8) store_first16(row + 16, high, 2 * n - 16);
                    }
                } else {
                    for (ptrdiff_t lane = 0; lane < n; lane++) {
                        for (ptrdiff_t v = 0; v < half; v++) row[lane * half + v] = best[v][lane];
                    }
                }
            }
        }
    }
}

static void winograd_tiles_out_pool(const float *in, ptrdiff_t ld, ptrdiff_t tiles, ptrdiff_t rows, const float *r,
                                    ptrdiff_t p, ptrdiff_t s, float *pooled, ptrdiff_t wp, float bias, float scale,
                                    float shift, int paired) {
#define CK_TILES_OUT_POOL(STEP, P, S, DENSE) \
    winograd_tiles_out_pool_body(in, ld, tiles, rows, r, P, S, pooled, wp, bias, scale, shift, DENSE)
    const ptrdiff_t step = p;
    CK_WINOGRAD_SHAPES(CK_TILES_OUT_POOL, step, p, s, paired);
#undef CK_TILES_OUT_POOL
}

/// The window value at each lane's winning position (index & 3).
CK_INLINE ck_v16 winner_values16(ck_windows16 v, ck_i16 position) {
    ck_v16 value = v.a;
    value = select16(position == 1, v.b, value);
    value = select16(position == 2, v.c, value);
    return select16(position == 3, v.d, value);
}

static void bn_relu_pool_sums(const float *x, ptrdiff_t h, ptrdiff_t w, const float *dy, const uint8_t *winners,
                              float *sum_dy, float *sum_dy_x) {
    const ptrdiff_t ho = h / 2, wo = w / 2;
    ck_v16 s = splat16(0), sx = splat16(0);
    float ts = 0, tsx = 0;
    for (ptrdiff_t oy = 0; oy < ho; oy++) {
        const float *r0 = x + 2 * oy * w, *r1 = r0 + w, *d = dy + oy * wo;
        const uint8_t *wn = winners + oy * wo;
        ptrdiff_t ox = 0;
        for (; ox + 16 <= wo; ox += 16) {
            const ck_i16 index = load_winners16(wn + ox);
            const ck_v16 g = select16((index & 4) == 0, load16(d + ox), splat16(0));
            s += g;
            sx += g * winner_values16(load_windows16(r0 + 2 * ox, r1 + 2 * ox), index & 3);
        }
        for (; ox < wo; ox++) {
            const uint8_t index = wn[ox];
            const float g = (index & 4) == 0 ? d[ox] : 0;
            ts += g;
            tsx += g * (index & 2 ? r1 : r0)[2 * ox + (index & 1)];
        }
    }
    *sum_dy = lanes_sum16(s) + ts;
    *sum_dy_x = lanes_sum16(sx) + tsx;
}

/// One window position's gradient: at an active winner k dy + bx x + c0 (training) or k dy; elsewhere bx x + c0
/// (training) or 0.
CK_INLINE ck_v16 window_gradient16(ck_i16 wins, ck_v16 kdy, ck_v16 x, float bx, float c0, int training) {
    if (!training) return select16(wins, kdy, splat16(0));
    const ck_v16 bxx = bx * x;
    return select16(wins, kdy + bxx + c0, bxx + c0);
}

/// The input gradient of 16 windows (`bn_relu_pool_backward`) from their winners, dy and input values, to the 32 floats
/// of each of their two rows at o0 and o1.
CK_INLINE void pool_backward16(ck_i16 index, ck_v16 dy, ck_windows16 v, float k, float bx, float c0, int training,
                               float *o0, float *o1) {
    const ck_i16 active = (index & 4) == 0;
    const ck_v16 kdy = k * dy;
    const ck_v16 a = window_gradient16(active & (index == 0), kdy, v.a, bx, c0, training);
    const ck_v16 b = window_gradient16(active & (index == 1), kdy, v.b, bx, c0, training);
    const ck_v16 c = window_gradient16(active & (index == 2), kdy, v.c, bx, c0, training);
    const ck_v16 e = window_gradient16(active & (index == 3), kdy, v.d, bx, c0, training);
    store16(o0, __builtin_shufflevector(a, b, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
    store16(o0 + 16, __builtin_shufflevector(a, b, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
    store16(o1, __builtin_shufflevector(c, e, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23));
    store16(o1 + 16, __builtin_shufflevector(c, e, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
}

CK_INLINE void bn_relu_pool_backward_rows(const float *x, ptrdiff_t h, ptrdiff_t w, const float *dy,
                                          const uint8_t *winners, float k, float bx, float c0, int training,
                                          float *dx) {
    const ptrdiff_t ho = h / 2, wo = w / 2;
    for (ptrdiff_t oy = 0; oy < ho; oy++) {
        const float *r0 = x + 2 * oy * w, *r1 = r0 + w, *d = dy + oy * wo;
        float *o0 = dx + 2 * oy * w, *o1 = o0 + w;
        const uint8_t *wn = winners + oy * wo;
        ptrdiff_t ox = 0;
        for (; ox + 16 <= wo; ox += 16) {
            pool_backward16(load_winners16(wn + ox), load16(d + ox), load_windows16(r0 + 2 * ox, r1 + 2 * ox), k, bx, c0,
                            training, o0 + 2 * ox, o1 + 2 * ox);
        }
        if (ox < wo) {  // the last windows, through stack copies (lanes past them from zeros, dropped)
            const ptrdiff_t n = wo - ox;
            float t0[32] __attribute__((aligned(64))) = {0}, t1[32] __attribute__((aligned(64))) = {0};
            float g[16] __attribute__((aligned(64))) = {0}, u0[32] __attribute__((aligned(64))), u1[32] __attribute__((aligned(64)));
            uint8_t bytes[16] = {0};
            copy_floats(t0, r0 + 2 * ox, 2 * n);
            copy_floats(t1, r1 + 2 * ox, 2 * n);
            copy_floats(g, d + ox, n);
            for (ptrdiff_t j = 0; j < n; j++) bytes[j] = wn[ox + j];
            pool_backward16(load_winners16(bytes), load16(g), load_windows16(t0, t1), k, bx, c0, training, u0, u1);
            copy_floats(o0 + 2 * ox, u0, 2 * n);
            copy_floats(o1 + 2 * ox, u1, 2 * n);
        }
        if (w % 2 == 1) {  // the last column is in no window
            o0[w - 1] = training ? bx * r0[w - 1] + c0 : 0;
            o1[w - 1] = training ? bx * r1[w - 1] + c0 : 0;
        }
    }
    if (h % 2 == 1) {  // the last row is in no window
        const float *r = x + (h - 1) * w;
        float *o = dx + (h - 1) * w;
        for (ptrdiff_t j = 0; j < w; j++) o[j] = training ? bx * r[j] + c0 : 0;
    }
}

static void bn_relu_pool_backward(const float *x, ptrdiff_t h, ptrdiff_t w, const float *dy,
                                  const uint8_t *winners, float k, float bx, float c0, int training, float *dx) {
    if (training) bn_relu_pool_backward_rows(x, h, w, dy, winners, k, bx, c0, 1, dx);
    else bn_relu_pool_backward_rows(x, h, w, dy, winners, k, bx, c0, 0, dx);
}

// MARK: Window extremes (precise BatchNorm statistics)

/// Swift's max(a, b) and min(a, b), lane-wise and for one float: b >= a ? b : a and b < a ? b : a.
CK_INLINE ck_v16 max16(ck_v16 a, ck_v16 b) { return select16(b >= a, b, a); }
CK_INLINE ck_v16 min16(ck_v16 a, ck_v16 b) { return select16(b < a, b, a); }
CK_INLINE float max1(float a, float b) { return b >= a ? b : a; }
CK_INLINE float min1(float a, float b) { return b < a ? b : a; }

static void window_extremes(const float *x, ptrdiff_t h, ptrdiff_t w, float *maxima, float *minima) {
    const ptrdiff_t ho = h / 2, wo = w / 2;
    for (ptrdiff_t oy = 0; oy < ho; oy++) {
        const float *r0 = x + 2 * oy * w, *r1 = r0 + w;
        float *high = maxima + oy * wo, *low = minima + oy * wo;
        ptrdiff_t ox = 0;
        for (; ox + 16 <= wo; ox += 16) {
            const ck_windows16 v = load_windows16(r0 + 2 * ox, r1 + 2 * ox);
            store16(high + ox, max16(max16(v.a, v.b), max16(v.c, v.d)));
            store16(low + ox, min16(min16(v.a, v.b), min16(v.c, v.d)));
        }
        for (; ox < wo; ox++) {
            const float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
            high[ox] = max1(max1(a, b), max1(c, d));
            low[ox] = min1(min1(a, b), min1(c, d));
        }
    }
}

// MARK: Adam

static void adam(float *p, const float *grad, float *m, float *v, ptrdiff_t n, float b1, float b2,
                 float step_size, float correction2, float eps, float decay) {
    const float one_b1 = 1 - b1, one_b2 = 1 - b2;
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const ck_v16 pi = load16(p + i), g = load16(grad + i) + decay * pi;
        const ck_v16 mi = b1 * load16(m + i) + one_b1 * g;
        const ck_v16 vi = b2 * load16(v + i) + one_b2 * g * g;
        store16(m + i, mi);
        store16(v + i, vi);
        store16(p + i, pi - step_size * mi / (__builtin_elementwise_sqrt(vi) / correction2 + eps));
    }
    for (; i < n; i++) {
        const float g = grad[i] + decay * p[i];
        m[i] = b1 * m[i] + one_b1 * g;
        v[i] = b2 * v[i] + one_b2 * g * g;
        p[i] -= step_size * m[i] / (__builtin_elementwise_sqrt(v[i]) / correction2 + eps);
    }
}

const ck_kernels CK_TABLE = {
    .conv1_forward = conv1_forward,
    .conv1_weight_gradient = conv1_weight_gradient,
    .conv1_bn_relu_pool = conv1_bn_relu_pool,
    .im2col_pack = im2col_pack,
    .winograd_tiles_in = winograd_tiles_in,
    .winograd_tiles_out = winograd_tiles_out,
    .winograd_tiles_out_pool = winograd_tiles_out_pool,
    .sum = sum,
    .dot = dot,
    .centred_squares = centred_squares,
    .bn_relu_pool_forward = bn_relu_pool_forward,
    .bn_relu_pool_sums = bn_relu_pool_sums,
    .bn_relu_pool_backward = bn_relu_pool_backward,
    .window_extremes = window_extremes,
    .adam = adam,
};
