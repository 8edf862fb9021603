// cairo 2-D graphics (Debian: libcairo2-dev): figures rendered to PNG with real fonts (fonts-dejavu-core).
#include <cairo.h>
