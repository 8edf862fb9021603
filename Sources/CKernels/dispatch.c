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
    return (ho + k - 1) * ((wo + 15) / 16 * 16 + k - 1);
}

ptrdiff_t ck_winograd_scratch_floats(ptrdiff_t tiles, ptrdiff_t step, ptrdiff_t p, ptrdiff_t s) {
    const ptrdiff_t side = p > s ? p : s, padded = (tiles + 15) / 16 * 16;
    return 3 * side * step * (padded + side + 16);
}
