// zlib (Debian: zlib1g-dev), for the NIfTI target's gzipped copy of its input.
#include <zlib.h>
