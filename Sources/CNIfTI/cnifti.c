// niftilib behind the C API of include/CNIfTI.h.
#include "CNIfTI.h"

#include <nifti/nifti2_io.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// The largest volume read: 2^31 bytes of voxels; a damaged header cannot make niftilib allocate more.
static const int64_t maximumBytes = (int64_t)1 << 31;

static CNIfTIStatus fail(CNIfTIStatus status, char *error, size_t capacity, const char *format, ...) {
    if (error != NULL && capacity > 0) {
        va_list arguments;
        va_start(arguments, format);
        vsnprintf(error, capacity, format, arguments);
        va_end(arguments);
    }
    return status;
}

/// The header of `path` (no data), or NULL with the reason in `error`.
static nifti_image *openHeader(const char *path, CNIfTIStatus *status, char *error, size_t capacity) {
    nifti_set_debug_level(0);
    nifti_image *image = nifti_image_read(path, 0);
    if (image == NULL) {
        *status = fail(CNIFTI_UNREADABLE, error, capacity, "not a readable NIfTI-1 or NIfTI-2 file (bad or truncated header)");
        return NULL;
    }
    if (image->nifti_type != NIFTI_FTYPE_NIFTI1_1 && image->nifti_type != NIFTI_FTYPE_NIFTI2_1) {
        *status = fail(CNIFTI_UNSUPPORTED, error, capacity,
                       "not a single-file NIfTI-1 or NIfTI-2 image (niftilib file type %d)", image->nifti_type);
        nifti_image_free(image);
        return NULL;
    }
    for (int d = 1; d <= 7; d++) {
        if (d <= image->dim[0] && image->dim[d] < 1) {
            *status = fail(CNIFTI_UNREADABLE, error, capacity, "dimension %d has size %lld", d, (long long)image->dim[d]);
            nifti_image_free(image);
            return NULL;
        }
    }
    *status = CNIFTI_OK;
    return image;
}

CNIfTIStatus cnifti_read_header(const char *path, CNIfTIHeader *header, char *error, size_t error_capacity) {
    memset(header, 0, sizeof *header);
    CNIfTIStatus status;
    nifti_image *image = openHeader(path, &status, error, error_capacity);
    if (image == NULL) return status;
    // niftilib gives single-file NIfTI-2 images nifti_type 1 too: the header's own version tells.
    int version = 1;
    free(nifti_read_header(path, &version, 0));
    header->version = version;
    header->dim[0] = image->dim[0];
    for (int d = 1; d <= 7; d++) header->dim[d] = d <= image->dim[0] ? image->dim[d] : 1;
    header->datatype = image->datatype;
    snprintf(header->datatype_name, sizeof header->datatype_name, "%s", nifti_datatype_string(image->datatype));
    header->scl_slope = image->scl_slope;
    header->scl_inter = image->scl_inter;
    nifti_image_free(image);
    return CNIFTI_OK;
}

/// Voxel `i` of `data` (of `datatype`) as a float.
static float voxel(const void *data, int datatype, int64_t i) {
    switch (datatype) {
    case NIFTI_TYPE_UINT8: return ((const uint8_t *)data)[i];
    case NIFTI_TYPE_INT8: return ((const int8_t *)data)[i];
    case NIFTI_TYPE_INT16: return ((const int16_t *)data)[i];
    case NIFTI_TYPE_UINT16: return ((const uint16_t *)data)[i];
    case NIFTI_TYPE_INT32: return (float)((const int32_t *)data)[i];
    case NIFTI_TYPE_UINT32: return (float)((const uint32_t *)data)[i];
    case NIFTI_TYPE_INT64: return (float)((const int64_t *)data)[i];
    case NIFTI_TYPE_UINT64: return (float)((const uint64_t *)data)[i];
    case NIFTI_TYPE_FLOAT32: return ((const float *)data)[i];
    case NIFTI_TYPE_FLOAT64: return (float)((const double *)data)[i];
    default: return 0;
    }
}

static int isRealType(int datatype) {
    switch (datatype) {
    case NIFTI_TYPE_UINT8: case NIFTI_TYPE_INT8: case NIFTI_TYPE_INT16: case NIFTI_TYPE_UINT16:
    case NIFTI_TYPE_INT32: case NIFTI_TYPE_UINT32: case NIFTI_TYPE_INT64: case NIFTI_TYPE_UINT64:
    case NIFTI_TYPE_FLOAT32: case NIFTI_TYPE_FLOAT64:
        return 1;
    default:
        return 0;
    }
}

CNIfTIStatus cnifti_read_volume(const char *path, int64_t volume, float *values, int64_t count,
                                char *error, size_t error_capacity) {
    CNIfTIStatus status;
    nifti_image *image = openHeader(path, &status, error, error_capacity);
    if (image == NULL) return status;
    const int64_t nx = image->dim[1], ny = image->dim[0] >= 2 ? image->dim[2] : 1, nz = image->dim[0] >= 3 ? image->dim[3] : 1;
    const int64_t nt = image->dim[0] >= 4 ? image->dim[4] : 1;
    if (!isRealType(image->datatype)) {
        status = fail(CNIFTI_UNSUPPORTED, error, error_capacity, "voxels of type %s are not greyscale values",
                      nifti_datatype_string(image->datatype));
    } else if (nx * ny * nz != count || volume < 0 || volume >= nt) {
        status = fail(CNIFTI_UNSUPPORTED, error, error_capacity, "no volume %lld of %lld x %lld x %lld x %lld",
                      (long long)volume, (long long)nx, (long long)ny, (long long)nz, (long long)nt);
    } else if (count > maximumBytes / image->nbyper) {
        status = fail(CNIFTI_UNSUPPORTED, error, error_capacity, "a %lld x %lld x %lld volume is larger than 2 GiB",
                      (long long)nx, (long long)ny, (long long)nz);
    } else {
        // dims[i] = -1: all of dimension i; an index: that one.
        const int64_t dims[8] = {0, -1, -1, -1, volume, 0, 0, 0};
        void *data = NULL;
        const int64_t read = nifti_read_collapsed_image(image, (int64_t *)dims, &data);
        if (read < 0 || data == NULL || read < count * image->nbyper) {
            status = fail(CNIFTI_UNREADABLE, error, error_capacity,
                          "its voxel data is shorter than the header's %lld x %lld x %lld %s volume (truncated?)",
                          (long long)nx, (long long)ny, (long long)nz, nifti_datatype_string(image->datatype));
        } else {
            for (int64_t i = 0; i < count; i++) values[i] = voxel(data, image->datatype, i);
            status = CNIFTI_OK;
        }
        free(data);
    }
    nifti_image_free(image);
    return status;
}

CNIfTIStatus cnifti_write_volume(const char *path, int32_t version, const int64_t dims[4], int32_t datatype,
                                 const float *values, double scl_slope, double scl_inter,
                                 char *error, size_t error_capacity) {
    if (datatype != NIFTI_TYPE_INT16 && datatype != NIFTI_TYPE_UINT16 && datatype != NIFTI_TYPE_FLOAT32) {
        return fail(CNIFTI_UNSUPPORTED, error, error_capacity, "cannot write voxels of type %d", datatype);
    }
    const int64_t all[8] = {dims[3] > 1 ? 4 : 3, dims[0], dims[1], dims[2], dims[3], 1, 1, 1};
    nifti_image *image = nifti_make_new_nim(all, datatype, 1);
    if (image == NULL) return fail(CNIFTI_UNSUPPORTED, error, error_capacity, "niftilib cannot make this image");
    image->scl_slope = scl_slope;
    image->scl_inter = scl_inter;
    image->pixdim[1] = image->pixdim[2] = image->pixdim[3] = 1;
    image->dx = image->dy = image->dz = 1;
    const int64_t count = dims[0] * dims[1] * dims[2] * dims[3];
    for (int64_t i = 0; i < count; i++) {
        if (datatype == NIFTI_TYPE_INT16) ((int16_t *)image->data)[i] = (int16_t)lrintf(values[i]);
        else if (datatype == NIFTI_TYPE_UINT16) ((uint16_t *)image->data)[i] = (uint16_t)lrintf(values[i]);
        else ((float *)image->data)[i] = values[i];
    }
    if (nifti_set_filenames(image, path, 0, 1) != 0) {
        nifti_image_free(image);
        return fail(CNIFTI_UNSUPPORTED, error, error_capacity, "niftilib does not take this file name (use .nii or .nii.gz)");
    }
    if (version == 2) {
        // niftilib 3.0.1's nifti_image_write leaves the NIfTI-2 header out of a single file: its header conversion,
        // then header, empty extender and voxels written through znzlib.
        image->nifti_type = NIFTI_FTYPE_NIFTI2_1;
        nifti_2_header header;
        nifti_convert_nim2n2hdr(image, &header);
        header.vox_offset = 544;  // 540-byte header + 4-byte extender
        const char extender[4] = {0, 0, 0, 0};
        znzFile file = znzopen(path, "wb", nifti_is_gzfile(path));
        const int written = !znz_isnull(file) && znzwrite(&header, 1, sizeof header, file) == sizeof header
            && znzwrite(extender, 1, 4, file) == 4
            && znzwrite(image->data, (size_t)image->nbyper, (size_t)image->nvox, file) == (size_t)image->nvox;
        if (!znz_isnull(file)) znzclose(file);
        nifti_image_free(image);
        if (!written) return fail(CNIFTI_UNREADABLE, error, error_capacity, "could not write the file");
        return CNIFTI_OK;
    }
    nifti_image_write(image);
    nifti_image_free(image);
    FILE *written = fopen(path, "rb");
    if (written == NULL) return fail(CNIFTI_UNREADABLE, error, error_capacity, "niftilib did not write the file");
    fclose(written);
    return CNIFTI_OK;
}
