// Which instruction-set paths this CPU can run, and each path's table of kernels.
#include "ckernels.h"

extern const ck_kernels ck_kernels_default;

#if defined(__x86_64__)
#include <cpuid.h>

extern const ck_kernels ck_kernels_avx2;
extern const ck_kernels ck_kernels_avx512;

/// Whether the operating system saves the register state in `mask` (XCR0: 0x6 XMM and YMM; 0xe0 the AVX-512
/// opmask and ZMM registers) on a context switch.
static int os_saves(unsigned mask) {
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (lo & mask) == mask;
}

int ck_isa_supported(int isa) {
    if (isa == CK_ISA_DEFAULT) return 1;
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    const int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!osxsave || !avx || !os_saves(0x6)) return 0;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    const int avx2 = (b >> 5) & 1;
    if (isa == CK_ISA_AVX2) return avx2;
    if (isa != CK_ISA_AVX512) return 0;
    const int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    return avx2 && f && dq && bw && vl && os_saves(0xe6);
}

const ck_kernels *ck_kernels_for(int isa) {
    switch (isa) {
    case CK_ISA_AVX2: return &ck_kernels_avx2;
    case CK_ISA_AVX512: return &ck_kernels_avx512;
    default: return &ck_kernels_default;
    }
}
#else
int ck_isa_supported(int isa) { return isa == CK_ISA_DEFAULT; }

const ck_kernels *ck_kernels_for(int isa) {
    (void)isa;
    return &ck_kernels_default;
}
#endif

ptrdiff_t ck_conv1_padded_floats(ptrdiff_t k, ptrdiff_t ho, ptrdiff_t wo) {
    return (ho + k - 1) * ((wo + 31) / 32 * 32 + k - 1);
}

ptrdiff_t ck_winograd_scratch_floats(ptrdiff_t tiles, ptrdiff_t step, ptrdiff_t p, ptrdiff_t s) {
    const ptrdiff_t side = p > s ? p : s, padded = (tiles + 15) / 16 * 16;
    return 3 * side * step * (padded + side + 16);
}

int ck_winograd_has_paired_rows(const float *m, ptrdiff_t rows, ptrdiff_t columns, ptrdiff_t row_stride,
                                ptrdiff_t column_stride) {
    if (rows < 2 || rows % 2 != 0) return 0;
#define CK_AT(i, j) m[(i) * row_stride + (j) * column_stride]
    for (ptrdiff_t j = 0; j < columns; j++) {
        if ((j % 2 == 1 && CK_AT(0, j) != 0) || (j % 2 == 0 && CK_AT(rows - 1, j) != 0)) return 0;
        for (ptrdiff_t a = 1; a + 1 < rows; a += 2) {
            if (CK_AT(a + 1, j) != (j % 2 == 1 ? -CK_AT(a, j) : CK_AT(a, j))) return 0;
        }
    }
#undef CK_AT
    return 1;
}
