// niftilib behind the C API of include/CNIfTI.h.
#include "CNIfTI.h"

#include <nifti/nifti2_io.h>

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// Reading. The header is read from its bytes and checked here before anything is allocated from it; niftilib
// supplies the header layouts, their byte swapping, the datatype table and znzlib (plain or gzip reading, by
// the name, as niftilib itself decides). Its own readers are not used to read: nifti_image_read allocates
// every header extension as declared, and nifti_read_collapsed_image the whole volume the header declares,
// before a byte is read (and nothing tells a .nii.gz's length beforehand); both print to stderr. The voxels
// are read here through znzlib a chunk at a time, as the caller asks for them, so that memory grows only with
// data that is there.

static CNIfTIStatus fail(CNIfTIStatus status, char *error, size_t capacity, const char *format, ...) {
    if (error != NULL && capacity > 0) {
        va_list arguments;
        va_start(arguments, format);
        vsnprintf(error, capacity, format, arguments);
        va_end(arguments);
    }
    return status;
}

/// What the reader takes from a NIfTI-1 or NIfTI-2 header, in this machine's byte order.
typedef struct {
    int version;
    /// The file's byte order is not this machine's: voxels are swapped after reading.
    int swapped;
    /// dim[0] = number of dimensions, dim[1..7] their sizes (1 beyond dim[0]).
    int64_t dim[8];
    int datatype, nbyper, swapsize;
    double scl_slope, scl_inter;
    /// Where the voxels start (vox_offset; the standard reads a value below the header's size as that size).
    int64_t offset;
} Header;

static int32_t swapped32(int32_t value) {
    nifti_swap_4bytes(1, &value);
    return value;
}

/// Reads and checks the header of `path`: sizeof_hdr 348 or 540 in either byte order, the single-file magic
/// ("n+1", "n+2"), 1 to 7 dimensions of at least one voxel each, a vox_offset that is a byte position.
static CNIfTIStatus readHeader(const char *path, Header *header, char *error, size_t capacity) {
    memset(header, 0, sizeof *header);
    union {
        nifti_1_header one;
        nifti_2_header two;
        unsigned char bytes[sizeof(nifti_2_header)];
    } raw;
    memset(&raw, 0, sizeof raw);
    znzFile file = znzopen(path, "rb", nifti_is_gzfile(path));
    if (znz_isnull(file)) return fail(CNIFTI_UNREADABLE, error, capacity, "the file cannot be opened");
    const size_t length = znzread(raw.bytes, 1, sizeof raw.bytes, file);
    znzclose(file);
    int32_t sizeofHeader;
    memcpy(&sizeofHeader, raw.bytes, sizeof sizeofHeader);
    if (sizeofHeader == 348 || swapped32(sizeofHeader) == 348) {
        header->version = 1;
        header->swapped = sizeofHeader != 348;
    } else if (sizeofHeader == 540 || swapped32(sizeofHeader) == 540) {
        header->version = 2;
        header->swapped = sizeofHeader != 540;
    } else {
        return fail(CNIFTI_UNREADABLE, error, capacity, "not a NIfTI-1 or NIfTI-2 file (sizeof_hdr is neither 348 nor 540)");
    }
    const size_t headerSize = header->version == 1 ? sizeof(nifti_1_header) : sizeof(nifti_2_header);
    if (length < headerSize) {
        return fail(CNIFTI_UNREADABLE, error, capacity, "its NIfTI-%d header is cut short (%zu of %zu bytes)",
                    header->version, length, headerSize);
    }
    double offset;
    const char *magic;
    if (header->version == 1) {
        nifti_1_header *one = &raw.one;
        if (header->swapped) nifti_swap_as_nifti1(one);
        magic = one->magic;
        for (int d = 0; d < 8; d++) header->dim[d] = one->dim[d];
        header->datatype = one->datatype;
        header->scl_slope = one->scl_slope;
        header->scl_inter = one->scl_inter;
        offset = one->vox_offset;
    } else {
        nifti_2_header *two = &raw.two;
        if (header->swapped) nifti_swap_as_nifti2(two);
        magic = two->magic;
        for (int d = 0; d < 8; d++) header->dim[d] = two->dim[d];
        header->datatype = two->datatype;
        header->scl_slope = two->scl_slope;
        header->scl_inter = two->scl_inter;
        offset = (double)two->vox_offset;
    }
    // "n+1\0" or "n+2\0": the first four bytes, as niftilib checks them (its 3.0.1 writer leaves the "\r\n\032\n"
    // that NIfTI-2 puts after "n+2\0" out). "ni1\0", "ni2\0": a header whose voxels are in a separate .img file.
    const char singleFile[4] = {'n', '+', (char)('0' + header->version), 0}, pair[4] = {'n', 'i', (char)('0' + header->version), 0};
    if (memcmp(magic, pair, 4) == 0) {
        return fail(CNIFTI_UNSUPPORTED, error, capacity, "a NIfTI-%d header whose voxels are in a separate .img file; "
                    "convert the pair to a single .nii file", header->version);
    }
    if (memcmp(magic, singleFile, 4) != 0) {
        return fail(CNIFTI_UNREADABLE, error, capacity, "no NIfTI-%d magic \"n+%d\"%s", header->version, header->version,
                    header->version == 1 ? " (an ANALYZE 7.5 header?)" : "");
    }
    if (header->dim[0] < 1 || header->dim[0] > 7) {
        return fail(CNIFTI_UNREADABLE, error, capacity, "dim[0] is %lld; a NIfTI file has 1 to 7 dimensions",
                    (long long)header->dim[0]);
    }
    for (int d = 1; d <= 7; d++) {
        if (d > header->dim[0]) {
            header->dim[d] = 1;
        } else if (header->dim[d] < 1) {
            return fail(CNIFTI_UNREADABLE, error, capacity, "dimension %d has size %lld", d, (long long)header->dim[d]);
        }
    }
    if (!(offset < 0x1p62)) {
        return fail(CNIFTI_UNREADABLE, error, capacity, "its vox_offset (%g) is no position in a file", offset);
    }
    header->offset = offset < (double)headerSize ? (int64_t)headerSize : (int64_t)offset;
    nifti_datatype_sizes(header->datatype, &header->nbyper, &header->swapsize);
    return CNIFTI_OK;
}

CNIfTIStatus cnifti_read_header(const char *path, CNIfTIHeader *header, char *error, size_t error_capacity) {
    memset(header, 0, sizeof *header);
    Header read;
    const CNIfTIStatus status = readHeader(path, &read, error, error_capacity);
    if (status != CNIFTI_OK) return status;
    header->version = read.version;
    for (int d = 0; d < 8; d++) header->dim[d] = read.dim[d];
    header->datatype = read.datatype;
    snprintf(header->datatype_name, sizeof header->datatype_name, "%s", nifti_datatype_string(read.datatype));
    header->scl_slope = read.scl_slope;
    header->scl_inter = read.scl_inter;
    return CNIFTI_OK;
}

/// Voxel `i` of `data` (of `datatype`) as a float; a NaN or infinite float voxel as 0, as niftilib reads them.
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
    case NIFTI_TYPE_FLOAT32: {
        const float value = ((const float *)data)[i];
        return isfinite(value) ? value : 0;
    }
    case NIFTI_TYPE_FLOAT64: {
        const double value = ((const double *)data)[i];
        return isfinite(value) ? (float)value : 0;
    }
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

struct CNIfTIVolumeReader {
    znzFile file;
    Header header;
    /// Voxels of the volume not read yet.
    int64_t remaining;
};

CNIfTIStatus cnifti_open_volume(const char *path, int64_t volume, int64_t count, CNIfTIVolumeReader **reader,
                                char *error, size_t error_capacity) {
    *reader = NULL;
    Header header;
    const CNIfTIStatus status = readHeader(path, &header, error, error_capacity);
    if (status != CNIFTI_OK) return status;
    const int64_t *dim = header.dim;
    if (!isRealType(header.datatype)) {
        return fail(CNIFTI_UNSUPPORTED, error, error_capacity, "voxels of type %s are not greyscale values",
                    nifti_datatype_string(header.datatype));
    }
    int64_t voxels, volumeBytes, skipped, start, end;
    if (__builtin_mul_overflow(dim[1], dim[2], &voxels) || __builtin_mul_overflow(voxels, dim[3], &voxels)
        || voxels != count || volume < 0 || volume >= dim[4]) {
        return fail(CNIFTI_UNSUPPORTED, error, error_capacity, "no volume %lld of %lld x %lld x %lld x %lld",
                    (long long)volume, (long long)dim[1], (long long)dim[2], (long long)dim[3], (long long)dim[4]);
    }
    if (__builtin_mul_overflow(count, (int64_t)header.nbyper, &volumeBytes)
        || __builtin_mul_overflow(volume, volumeBytes, &skipped) || __builtin_add_overflow(header.offset, skipped, &start)
        || __builtin_add_overflow(start, volumeBytes, &end)) {
        return fail(CNIFTI_UNREADABLE, error, error_capacity, "volume %lld would lie beyond any file's end (damaged header?)",
                    (long long)volume);
    }
    const int gzipped = nifti_is_gzfile(path);
    // A plain file's length is known: a volume it cannot hold is refused before reading.
    const int64_t fileSize = gzipped ? -1 : nifti_get_filesize(path);
    if (!gzipped && fileSize < end) {
        return fail(CNIFTI_UNREADABLE, error, error_capacity,
                    "its voxel data is shorter than the header's %lld x %lld x %lld %s volume (truncated?): volume %lld "
                    "needs bytes %lld to %lld, the file has %lld",
                    (long long)dim[1], (long long)dim[2], (long long)dim[3], nifti_datatype_string(header.datatype),
                    (long long)volume, (long long)start, (long long)end, (long long)fileSize);
    }
    znzFile file = znzopen(path, "rb", gzipped);
    if (znz_isnull(file)) return fail(CNIFTI_UNREADABLE, error, error_capacity, "the file cannot be opened");
    // znzseek gives fseek's 0 or gzseek's new offset on success, -1 on failure (a later read then fails).
    (void)znzseek(file, (znz_off_t)start, SEEK_SET);
    *reader = malloc(sizeof **reader);
    if (*reader == NULL) {
        znzclose(file);
        return fail(CNIFTI_UNREADABLE, error, error_capacity, "out of memory");
    }
    (*reader)->file = file;
    (*reader)->header = header;
    (*reader)->remaining = count;
    return CNIFTI_OK;
}

CNIfTIStatus cnifti_read_voxels(CNIfTIVolumeReader *reader, float *values, int64_t count, char *error, size_t error_capacity) {
    const Header *header = &reader->header;
    // Aligned for any voxel type; 64 KiB at a time.
    double chunk[8192];
    const int64_t perChunk = (int64_t)sizeof chunk / header->nbyper;
    int64_t done = 0;
    while (done < count && done < reader->remaining) {
        const int64_t wanted = count - done < perChunk ? count - done : perChunk;
        // Counted in bytes: for a gzipped file znzread counts a voxel it read only partly as read (it warns on
        // stderr), which left that voxel whatever `chunk` held before (fuzz finding 20).
        const size_t bytes = (size_t)(wanted * header->nbyper);
        if (znzread(chunk, 1, bytes, reader->file) != bytes) break;
        if (header->swapped && header->swapsize > 1) nifti_swap_Nbytes(wanted, header->swapsize, chunk);
        for (int64_t i = 0; i < wanted; i++) values[done + i] = voxel(chunk, header->datatype, i);
        done += wanted;
    }
    reader->remaining -= done;
    if (done < count) {
        return fail(CNIFTI_UNREADABLE, error, error_capacity,
                    "its voxel data is shorter than the header's %lld x %lld x %lld %s volume (truncated?)",
                    (long long)header->dim[1], (long long)header->dim[2], (long long)header->dim[3],
                    nifti_datatype_string(header->datatype));
    }
    return CNIFTI_OK;
}

void cnifti_close_volume(CNIfTIVolumeReader *reader) {
    if (reader == NULL) return;
    znzclose(reader->file);
    free(reader);
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
