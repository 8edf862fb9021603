// The AVX2 path: kernel_bodies.h compiled for AVX2 (x86-64 only; `ck_isa_supported` checks the CPU first).
#include <stddef.h>
#include <stdint.h>
#include "ckernels.h"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#define CK_TABLE ck_kernels_avx2
#define CK_CONV_BLOCK 4
#include "kernel_bodies.h"
#pragma clang attribute pop
#endif
