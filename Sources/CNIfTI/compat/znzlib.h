// nifti2_io.h includes <znzlib.h>, which Debian installs as <nifti/znzlib.h>: this forwards to it, so that no
// absolute include path (an unsafe flag in SwiftPM) is needed. Used only while compiling cnifti.c.
#include <nifti/znzlib.h>
