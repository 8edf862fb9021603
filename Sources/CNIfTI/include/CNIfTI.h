// A small C API over niftilib's nifti2_io (Debian: libnifti2-dev), which reads NIfTI-1 and NIfTI-2
// files, plain (.nii) or gzipped (.nii.gz). The niftilib headers stay inside cnifti.c.
#ifndef CNIFTI_H
#define CNIFTI_H

#include <stddef.h>
#include <stdint.h>

/// What went wrong; `error` holds the details (no path: the caller names the file).
typedef enum {
    CNIFTI_OK = 0,
    /// Not a NIfTI-1/2 file, or a damaged one (bad header, truncated data).
    CNIFTI_UNREADABLE = 1,
    /// A valid file this reader does not take (complex or RGB voxels, more than 4 dimensions, too large).
    CNIFTI_UNSUPPORTED = 2,
} CNIfTIStatus;

/// The header fields the reader needs.
typedef struct {
    /// 1 or 2.
    int32_t version;
    /// dim[0] = number of dimensions, dim[1..7] their sizes (1 for unused ones).
    int64_t dim[8];
    /// NIFTI_TYPE_* code and its name ("INT16").
    int32_t datatype;
    char datatype_name[24];
    /// scl_slope, scl_inter as stored (slope 0 means: no scaling).
    double scl_slope;
    double scl_inter;
} CNIfTIHeader;

/// Reads and checks the header of the file at `path` (sizeof_hdr, single-file magic, dims, vox_offset); reads
/// no extension and no voxel.
CNIfTIStatus cnifti_read_header(const char *path, CNIfTIHeader *header, char *error, size_t error_capacity);

/// A volume open for reading its voxels.
typedef struct CNIfTIVolumeReader CNIfTIVolumeReader;

/// Opens 3D volume `volume` (index along dim[4]; 0 for a 3D file) of the file at `path`, whose dim[1] x dim[2] x
/// dim[3] voxels (`count`, which must equal that product) are then read with `cnifti_read_voxels`. A plain file too
/// short for the volume is refused here; a gzipped file's length is known only as it is read. On CNIFTI_OK,
/// `*reader` is to be closed with `cnifti_close_volume`.
CNIfTIStatus cnifti_open_volume(const char *path, int64_t volume, int64_t count, CNIfTIVolumeReader **reader,
                                char *error, size_t error_capacity);

/// Reads the volume's next `count` voxels (i fastest) into `values` as floats, as stored (no scaling; NaN and
/// infinite float voxels as 0). CNIFTI_UNREADABLE when the file's data ends first.
CNIfTIStatus cnifti_read_voxels(CNIfTIVolumeReader *reader, float *values, int64_t count, char *error, size_t error_capacity);

/// Closes `reader` (safe on NULL).
void cnifti_close_volume(CNIfTIVolumeReader *reader);

/// Writes a NIfTI file (for tests and example data; the readers never write): `version` 1 or 2, dims
/// nx, ny, nz, nt (nt = 1: a 3D file), `datatype` NIFTI_TYPE_INT16 (4), UINT16 (512) or FLOAT32 (16),
/// `values` nx*ny*nz*nt floats (i fastest) converted to it, and scl_slope, scl_inter. A path ending in
/// .nii.gz is gzipped.
CNIfTIStatus cnifti_write_volume(const char *path, int32_t version, const int64_t dims[4], int32_t datatype,
                                 const float *values, double scl_slope, double scl_inter,
                                 char *error, size_t error_capacity);

#endif
