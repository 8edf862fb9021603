// libpng 1.6 (Debian: libpng-dev). Use the simplified `png_image_*` API: error codes, no setjmp.
#include <png.h>
