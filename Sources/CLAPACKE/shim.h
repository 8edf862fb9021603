// LAPACKE (Debian: liblapacke-dev), which calls OpenBLAS's LAPACK. `lapack_int` is int32.
#include <lapacke.h>
