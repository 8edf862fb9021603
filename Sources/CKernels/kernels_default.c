// The default path: kernel_bodies.h compiled for the baseline target (SSE2 on x86-64, NEON on aarch64).
#include <stddef.h>
#include <stdint.h>
#include "ckernels.h"

#define CK_TABLE ck_kernels_default
#define CK_CONV_BLOCK 2
#include "kernel_bodies.h"
