// A small C API over DCMTK (Debian: libdcmtk-dev) for single-frame greyscale DICOM images.
// The implementation (cdicom.cpp) is C++; this header is plain C, so Swift imports it as it is.
#ifndef CDICOM_H
#define CDICOM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// What went wrong, so that the caller can word its own error; `error` holds the details.
typedef enum {
    CDICOM_OK = 0,
    /// Not a DICOM file, or a damaged one (truncated, unparsable).
    CDICOM_UNREADABLE = 1,
    /// A DICOM object without pixel data (a structured report, a DICOMDIR, a presentation state ...).
    CDICOM_NOT_AN_IMAGE = 2,
    /// Pixel data in a transfer syntax that DCMTK cannot decode here (JPEG 2000, JPEG XL, HTJ2K, MPEG ...).
    CDICOM_UNSUPPORTED_TRANSFER_SYNTAX = 3,
    /// An image this reader does not take: colour, multi-frame, a modality LUT, odd bit layouts.
    CDICOM_UNSUPPORTED_IMAGE = 4,
} CDICOMStatus;

/// A decoded slice: `height` rows of `width` values (row-major), the stored values after the modality
/// transform (value = stored x RescaleSlope + RescaleIntercept), MONOCHROME1 already inverted.
typedef struct {
    int32_t width;
    int32_t height;
    /// width x height values, malloc'ed; release with `cdicom_image_free`.
    float *values;
    /// The file's transfer syntax: name ("JPEG-LS Lossless") and UID.
    char transfer_syntax_name[96];
    char transfer_syntax_uid[68];
    /// Modality (0008,0060), e.g. "MR", "CT"; empty when absent.
    char modality[20];
    /// "MONOCHROME1" or "MONOCHROME2".
    char photometric_interpretation[20];
    int32_t bits_stored;
    double rescale_slope;
    double rescale_intercept;
} CDICOMImage;

/// Reads the image of the DICOM file at `path` into `image`; an image with more than `maximum_side` Rows or
/// Columns is refused before its pixel data is decoded. Returns CDICOM_OK, or another status with a message
/// (no path: the caller names the file) in `error` (at most `error_capacity` bytes, terminated).
CDICOMStatus cdicom_read_image(const char *path, uint32_t maximum_side, CDICOMImage *image, char *error,
                               size_t error_capacity);

/// Frees `image->values` (safe on a zeroed or already freed image).
void cdicom_image_free(CDICOMImage *image);

/// Transfer syntaxes `cdicom_write_image` can write.
typedef enum {
    CDICOM_EXPLICIT_LITTLE = 0,
    CDICOM_IMPLICIT_LITTLE = 1,
    CDICOM_EXPLICIT_BIG = 2,
    /// JPEG baseline (process 1): 8-bit only, lossy.
    CDICOM_JPEG_BASELINE = 3,
    /// JPEG lossless, first-order prediction (process 14, selection value 1).
    CDICOM_JPEG_LOSSLESS = 4,
    CDICOM_JPEG_LS_LOSSLESS = 5,
    CDICOM_RLE_LOSSLESS = 6,
} CDICOMTransferSyntax;

/// A greyscale slice to write (for tests and example data; the readers never write).
typedef struct {
    int32_t width;
    int32_t height;
    /// width x height stored values (two's complement bit patterns when `is_signed`).
    const uint16_t *stored;
    /// 8 or 16.
    int32_t bits_allocated;
    int32_t bits_stored;
    int32_t is_signed;
    /// Rescale slope and intercept, written when `has_rescale`.
    int32_t has_rescale;
    double rescale_slope;
    double rescale_intercept;
    /// "MONOCHROME1" or "MONOCHROME2".
    const char *photometric_interpretation;
    /// "MR", "CT", "CR", "DX", ...
    const char *modality;
    CDICOMTransferSyntax transfer_syntax;
} CDICOMSlice;

/// Writes `slice` as a single-frame DICOM file (Secondary Capture, with the given modality) at `path`.
CDICOMStatus cdicom_write_image(const char *path, const CDICOMSlice *slice, char *error, size_t error_capacity);

/// Writes a Basic Text structured report (no pixel data) holding `text` at `path`.
CDICOMStatus cdicom_write_text_report(const char *path, const char *text, char *error, size_t error_capacity);

#ifdef __cplusplus
}
#endif

#endif
