// DCMTK behind the C API of include/CDICOM.h. One file on purpose: read, then write (tests, examples).
#include "CDICOM.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dctk.h"
#include "dcmtk/dcmdata/dcpixseq.h"
#include "dcmtk/dcmdata/dcpxitem.h"
#include "dcmtk/dcmdata/dcrledrg.h"
#include "dcmtk/dcmdata/dcrleerg.h"
#include "dcmtk/dcmdata/dcrlerp.h"
#include "dcmtk/dcmjpeg/djdecode.h"
#include "dcmtk/dcmjpeg/djencode.h"
#include "dcmtk/dcmjpeg/djrplol.h"
#include "dcmtk/dcmjpeg/djrploss.h"
#include "dcmtk/dcmjpls/djdecode.h"
#include "dcmtk/dcmjpls/djencode.h"
#include "dcmtk/dcmjpls/djrparam.h"
#include "dcmtk/oflog/oflog.h"

#include <cfloat>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

namespace {

/// Registers DCMTK's decoders and encoders once per process, and silences its logger (errors come back
/// through the status and message instead).
void initialise() {
    static std::once_flag once;
    std::call_once(once, [] {
        OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
        DcmRLEDecoderRegistration::registerCodecs();
        DJDecoderRegistration::registerCodecs();
        DJLSDecoderRegistration::registerCodecs();
        DcmRLEEncoderRegistration::registerCodecs();
        DJEncoderRegistration::registerCodecs();
        DJLSEncoderRegistration::registerCodecs();
    });
}

CDICOMStatus fail(CDICOMStatus status, char *error, size_t capacity, const char *format, ...) {
    if (error != nullptr && capacity > 0) {
        va_list arguments;
        va_start(arguments, format);
        vsnprintf(error, capacity, format, arguments);
        va_end(arguments);
    }
    return status;
}

void copy(char *target, size_t capacity, const char *source) {
    snprintf(target, capacity, "%s", source == nullptr ? "" : source);
}

/// "JPEG 2000 (Lossless only), 1.2.840.10008.1.2.4.90"
OFString describe(const DcmXfer &xfer) {
    return OFString(xfer.getXferName()) + ", " + xfer.getXferID();
}

/// The stored value of pixel word `raw`: bits [highBit - bitsStored + 1, highBit], sign-extended when signed.
inline long storedValue(unsigned long raw, int bitsStored, int highBit, bool isSigned) {
    const unsigned long mask = bitsStored >= 32 ? 0xFFFFFFFFul : ((1ul << bitsStored) - 1);
    const unsigned long bits = (raw >> (highBit + 1 - bitsStored)) & mask;
    if (isSigned && (bits >> (bitsStored - 1)) != 0) return static_cast<long>(bits) - (1l << bitsStored);
    return static_cast<long>(bits);
}

/// Whether JPEG data meets a TEM marker (FF01) on the walk DCMTK 3.6.7's JPEG decoder (dcmjpeg) makes before it
/// decodes, to read the frame header's bit depth (`DJCodecDecoder::scanJpegDataForBitDepth`): its walk does not
/// move past a TEM marker and loops forever (fuzz findings 18 and 19; Debian's `dcmdjpeg` hangs on such files
/// too). The same walk, step for step: a frame header (SOFn) ends it; fill bytes (FFFF) are stepped over one byte
/// at a time, RSTm, SOI, EOI and reserved markers (FF03-FFBF) two bytes; other marker segments (DHT, DAC, SOS, DQT,
/// ..., APPn, JPGn, COM) are skipped by their length; anything else (a byte that is no marker, FF00, FF02) ends it.
bool meetsTEMBeforeFrameHeader(const Uint8 *data, unsigned long length) {
    unsigned long offset = 0;
    while (offset + 4 < length) {
        if (data[offset] != 0xFF) return false;
        const Uint8 marker = data[offset + 1];
        const bool frameHeader = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (marker == 0x01) return true;
        if (frameHeader) return false;
        if (marker == 0xFF) {
            offset += 1;
        } else if ((marker >= 0xD0 && marker <= 0xD9) || (marker >= 0x03 && marker <= 0xBF)) {
            offset += 2;
        } else if (marker >= 0xC0) {
            offset += ((data[offset + 2] << 8) | data[offset + 3]) + 2ul;
        } else {
            return false;
        }
    }
    return false;
}

/// Whether any fragment of the encapsulated pixel data meets a TEM marker where DCMTK's JPEG decoder would loop.
bool jpegDecoderWouldLoop(DcmDataset *dataset, const DcmXfer &xfer) {
    DcmElement *element = nullptr;
    DcmPixelSequence *fragments = nullptr;
    if (dataset->findAndGetElement(DCM_PixelData, element).bad() || element == nullptr
        || static_cast<DcmPixelData *>(element)->getEncapsulatedRepresentation(xfer.getXfer(), nullptr, fragments).bad()
        || fragments == nullptr) {
        return false;
    }
    for (unsigned long i = 1; i < fragments->card(); i++) {
        DcmPixelItem *fragment = nullptr;
        Uint8 *data = nullptr;
        if (fragments->getItem(fragment, i).good() && fragment != nullptr && fragment->getUint8Array(data).good()
            && data != nullptr && meetsTEMBeforeFrameHeader(data, fragment->getLength())) {
            return true;
        }
    }
    return false;
}

CDICOMStatus readImage(const char *path, unsigned maximumSide, CDICOMImage *image, char *error, size_t capacity) {
    DcmFileFormat file;
    const OFCondition loaded = file.loadFile(OFFilename(path), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
    // A transfer syntax this DCMTK does not know at all (JPEG XL, HTJ2K ...) is named from the meta header, which
    // holds what was parsed even when the load failed. Its element is read only when its length field is one a
    // UID can have (64 bytes): a value DCMTK has not loaded yet is allocated at the declared length when read, and
    // a damaged meta header declared 4 GB in a 788-byte file (fuzz finding 17).
    const unsigned long maximumUIDLength = 64;
    DcmElement *syntaxElement = nullptr;
    OFString metaSyntax;
    if (file.getMetaInfo()->findAndGetElement(DCM_TransferSyntaxUID, syntaxElement).good() && syntaxElement != nullptr
        && syntaxElement->getLengthField() <= maximumUIDLength && syntaxElement->getOFString(metaSyntax, 0).good()
        && !metaSyntax.empty() && DcmXfer(metaSyntax.c_str()).getXfer() == EXS_Unknown) {
        return fail(CDICOM_UNSUPPORTED_TRANSFER_SYNTAX, error, capacity,
                    "transfer syntax %s is not one DCMTK 3.6 knows", metaSyntax.c_str());
    }
    if (loaded.bad()) {
        return fail(CDICOM_UNREADABLE, error, capacity, "not a readable DICOM file (DCMTK: %s)", loaded.text());
    }
    DcmDataset *dataset = file.getDataset();
    const DcmXfer xfer(dataset->getOriginalXfer());
    copy(image->transfer_syntax_name, sizeof image->transfer_syntax_name, xfer.getXferName());
    copy(image->transfer_syntax_uid, sizeof image->transfer_syntax_uid, xfer.getXferID());
    OFString modality, photometric, sopClass;
    dataset->findAndGetOFString(DCM_Modality, modality);
    dataset->findAndGetOFString(DCM_PhotometricInterpretation, photometric);
    dataset->findAndGetOFString(DCM_SOPClassUID, sopClass);
    copy(image->modality, sizeof image->modality, modality.c_str());
    copy(image->photometric_interpretation, sizeof image->photometric_interpretation, photometric.c_str());

    if (!dataset->tagExistsWithValue(DCM_PixelData)) {
        const char *sopName = sopClass.empty() ? "none" : dcmFindNameOfUID(sopClass.c_str(), sopClass.c_str());
        return fail(CDICOM_NOT_AN_IMAGE, error, capacity, "it holds no pixel data (SOP class %s, modality %s): not an image",
                    sopName, modality.empty() ? "not given" : modality.c_str());
    }
    Uint16 rows = 0, columns = 0, samples = 1, bitsAllocated = 0, bitsStored = 0, highBit = 0, representation = 0;
    dataset->findAndGetUint16(DCM_Rows, rows);
    dataset->findAndGetUint16(DCM_Columns, columns);
    dataset->findAndGetUint16(DCM_SamplesPerPixel, samples);
    dataset->findAndGetUint16(DCM_BitsAllocated, bitsAllocated);
    dataset->findAndGetUint16(DCM_BitsStored, bitsStored);
    if (dataset->findAndGetUint16(DCM_HighBit, highBit).bad()) highBit = bitsStored - 1;
    dataset->findAndGetUint16(DCM_PixelRepresentation, representation);
    Sint32 frames = 1;
    if (dataset->findAndGetSint32(DCM_NumberOfFrames, frames).bad()) frames = 1;

    if (photometric != "MONOCHROME1" && photometric != "MONOCHROME2") {
        return fail(CDICOM_UNSUPPORTED_IMAGE, error, capacity,
                    "photometric interpretation '%s' is not greyscale (MONOCHROME1 or MONOCHROME2); convert it to greyscale first",
                    photometric.c_str());
    }
    if (samples != 1) {
        return fail(CDICOM_UNSUPPORTED_IMAGE, error, capacity, "%u samples per pixel; a greyscale image has 1", samples);
    }
    if (frames != 1) {
        return fail(CDICOM_UNSUPPORTED_IMAGE, error, capacity,
                    "%d frames; only single-frame images are read (split the file into one file per frame)", frames);
    }
    // Before any pixel is decoded or allocated (`Rows` x `Columns` can claim 65535 x 65535).
    if (rows == 0 || columns == 0 || rows > maximumSide || columns > maximumSide) {
        return fail(CDICOM_UNSUPPORTED_IMAGE, error, capacity, "image size %u x %u is empty or beyond the %u x %u read",
                    columns, rows, maximumSide, maximumSide);
    }
    if ((bitsAllocated != 8 && bitsAllocated != 16) || bitsStored == 0 || bitsStored > bitsAllocated
        || highBit >= bitsAllocated || highBit + 1 < bitsStored) {
        return fail(CDICOM_UNSUPPORTED_IMAGE, error, capacity,
                    "bits allocated %u, stored %u, high bit %u: only 8- or 16-bit pixels are read", bitsAllocated, bitsStored, highBit);
    }
    DcmSequenceOfItems *modalityLUT = nullptr;
    if (dataset->findAndGetSequence(DCM_ModalityLUTSequence, modalityLUT).good() && modalityLUT != nullptr
        && modalityLUT->card() > 0 && !dataset->tagExistsWithValue(DCM_RescaleSlope)) {
        return fail(CDICOM_UNSUPPORTED_IMAGE, error, capacity,
                    "it maps stored values through a Modality LUT Sequence, which this reader does not apply");
    }

    if (xfer.isEncapsulated()) {
        if (!DcmCodecList::canChangeCoding(xfer.getXfer(), EXS_LittleEndianExplicit)) {
            return fail(CDICOM_UNSUPPORTED_TRANSFER_SYNTAX, error, capacity,
                        "its pixel data is compressed as %s, which DCMTK cannot decode here (it decodes JPEG baseline, extended and "
                        "lossless, JPEG-LS and RLE); convert it, e.g. `gdcmconv --raw` or `dcmdjpeg`", describe(xfer).c_str());
        }
        // JPEG processes 1 to 29 and 14 SV1: DCMTK's IJG-based decoder.
        const bool jpeg = xfer.getXfer() >= EXS_JPEGProcess1 && xfer.getXfer() <= EXS_JPEGProcess14SV1;
        if (jpeg && jpegDecoderWouldLoop(dataset, xfer)) {
            return fail(CDICOM_UNREADABLE, error, capacity, "its %s data holds a TEM marker before the frame header, on which "
                        "DCMTK 3.6.7's JPEG decoder never ends: the data is damaged", xfer.getXferName());
        }
        const OFCondition decoded = dataset->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
        if (decoded.bad() || !dataset->canWriteXfer(EXS_LittleEndianExplicit)) {
            return fail(CDICOM_UNREADABLE, error, capacity, "its %s pixel data could not be decoded (DCMTK: %s)",
                        xfer.getXferName(), decoded.bad() ? decoded.text() : "no decoded representation");
        }
    }

    const unsigned long count = static_cast<unsigned long>(rows) * columns;
    const Uint8 *bytes = nullptr;
    const Uint16 *words = nullptr;
    unsigned long available = 0;
    const OFCondition pixels = bitsAllocated == 8
        ? dataset->findAndGetUint8Array(DCM_PixelData, bytes, &available)
        : dataset->findAndGetUint16Array(DCM_PixelData, words, &available);
    if (pixels.bad() || available < count) {
        return fail(CDICOM_UNREADABLE, error, capacity, "its pixel data holds %lu of the %lu pixels of a %u x %u image (truncated?)",
                    pixels.bad() ? 0ul : available, count, columns, rows);
    }

    double slope = 1, intercept = 0;
    if (dataset->findAndGetFloat64(DCM_RescaleSlope, slope).bad() || !std::isfinite(slope) || slope == 0) slope = 1;
    if (dataset->findAndGetFloat64(DCM_RescaleIntercept, intercept).bad() || !std::isfinite(intercept)) intercept = 0;
    const bool isSigned = representation == 1;
    // MONOCHROME1 shows low values white: inverted within the range the stored bits can hold, after rescaling,
    // so that the same picture stored either way gives the same values.
    const double lowest = isSigned ? -std::ldexp(1.0, bitsStored - 1) : 0;
    const double highest = isSigned ? std::ldexp(1.0, bitsStored - 1) - 1 : std::ldexp(1.0, bitsStored) - 1;
    // Every value a stored one can become must be a float: a slope of 1e36 would make infinities (and NaN after
    // min-max mapping) out of ordinary pixels.
    const double lowestValue = lowest * slope + intercept, highestValue = highest * slope + intercept;
    if (!(std::fabs(lowestValue) <= FLT_MAX && std::fabs(highestValue) <= FLT_MAX)) {
        return fail(CDICOM_UNSUPPORTED_IMAGE, error, capacity, "RescaleSlope %g and RescaleIntercept %g take its %d-bit stored "
                    "values beyond the range of 32-bit floats (3.4e38): the header is damaged", slope, intercept, bitsStored);
    }
    const double inversionSum = (lowest + highest) * slope + 2 * intercept;
    const bool invert = photometric == "MONOCHROME1";

    float *values = static_cast<float *>(std::malloc(count * sizeof(float)));
    if (values == nullptr) return fail(CDICOM_UNREADABLE, error, capacity, "out of memory for %lu pixels", count);
    for (unsigned long i = 0; i < count; i++) {
        const unsigned long raw = bitsAllocated == 8 ? bytes[i] : words[i];
        const double value = storedValue(raw, bitsStored, highBit, isSigned) * slope + intercept;
        values[i] = static_cast<float>(invert ? inversionSum - value : value);
    }
    image->width = columns;
    image->height = rows;
    image->values = values;
    image->bits_stored = bitsStored;
    image->rescale_slope = slope;
    image->rescale_intercept = intercept;
    return CDICOM_OK;
}

E_TransferSyntax transferSyntax(CDICOMTransferSyntax syntax) {
    switch (syntax) {
    case CDICOM_EXPLICIT_LITTLE: return EXS_LittleEndianExplicit;
    case CDICOM_IMPLICIT_LITTLE: return EXS_LittleEndianImplicit;
    case CDICOM_EXPLICIT_BIG: return EXS_BigEndianExplicit;
    case CDICOM_JPEG_BASELINE: return EXS_JPEGProcess1;
    case CDICOM_JPEG_LOSSLESS: return EXS_JPEGProcess14SV1;
    case CDICOM_JPEG_LS_LOSSLESS: return EXS_JPEGLSLossless;
    case CDICOM_RLE_LOSSLESS: return EXS_RLELossless;
    }
    return EXS_Unknown;
}

/// SOP instance, study and series UIDs, fresh.
void putIdentity(DcmDataset *dataset, const char *sopClass, const char *modality) {
    char uid[100];
    dataset->putAndInsertString(DCM_SOPClassUID, sopClass);
    dataset->putAndInsertString(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_INSTANCE_UID_ROOT));
    dataset->putAndInsertString(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_STUDY_UID_ROOT));
    dataset->putAndInsertString(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(uid, SITE_SERIES_UID_ROOT));
    dataset->putAndInsertString(DCM_Modality, modality);
    dataset->putAndInsertString(DCM_PatientID, "ROBUSTMRI-EXAMPLE");
}

CDICOMStatus writeImage(const char *path, const CDICOMSlice *slice, char *error, size_t capacity) {
    if (slice->width <= 0 || slice->height <= 0 || slice->width > 65535 || slice->height > 65535
        || (slice->bits_allocated != 8 && slice->bits_allocated != 16)
        || slice->bits_stored < 1 || slice->bits_stored > slice->bits_allocated) {
        return fail(CDICOM_UNSUPPORTED_IMAGE, error, capacity, "cannot write a %d x %d image with %d of %d bits",
                    slice->width, slice->height, slice->bits_stored, slice->bits_allocated);
    }
    DcmFileFormat file;
    DcmDataset *dataset = file.getDataset();
    putIdentity(dataset, UID_SecondaryCaptureImageStorage, slice->modality == nullptr ? "OT" : slice->modality);
    dataset->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(slice->height));
    dataset->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(slice->width));
    dataset->putAndInsertUint16(DCM_SamplesPerPixel, 1);
    dataset->putAndInsertString(DCM_PhotometricInterpretation, slice->photometric_interpretation);
    dataset->putAndInsertUint16(DCM_BitsAllocated, static_cast<Uint16>(slice->bits_allocated));
    dataset->putAndInsertUint16(DCM_BitsStored, static_cast<Uint16>(slice->bits_stored));
    dataset->putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(slice->bits_stored - 1));
    dataset->putAndInsertUint16(DCM_PixelRepresentation, slice->is_signed ? 1 : 0);
    if (slice->has_rescale) {
        char text[32];
        snprintf(text, sizeof text, "%.10g", slice->rescale_slope);
        dataset->putAndInsertString(DCM_RescaleSlope, text);
        snprintf(text, sizeof text, "%.10g", slice->rescale_intercept);
        dataset->putAndInsertString(DCM_RescaleIntercept, text);
        dataset->putAndInsertString(DCM_RescaleType, "US");
    }
    const unsigned long count = static_cast<unsigned long>(slice->width) * slice->height;
    if (slice->bits_allocated == 8) {
        OFVector<Uint8> bytes(count);
        for (unsigned long i = 0; i < count; i++) bytes[i] = static_cast<Uint8>(slice->stored[i]);
        dataset->putAndInsertUint8Array(DCM_PixelData, bytes.data(), count);
    } else {
        dataset->putAndInsertUint16Array(DCM_PixelData, slice->stored, count);
    }
    const E_TransferSyntax target = transferSyntax(slice->transfer_syntax);
    if (DcmXfer(target).isEncapsulated()) {
        DJ_RPLossless jpegLossless;
        DJ_RPLossy jpegBaseline(95);
        DJLSRepresentationParameter jpegLS(0, OFTrue);
        DcmRLERepresentationParameter rle;
        const DcmRepresentationParameter *parameters =
            target == EXS_JPEGProcess1 ? static_cast<const DcmRepresentationParameter *>(&jpegBaseline)
            : target == EXS_JPEGProcess14SV1 ? static_cast<const DcmRepresentationParameter *>(&jpegLossless)
            : target == EXS_JPEGLSLossless ? static_cast<const DcmRepresentationParameter *>(&jpegLS)
            : static_cast<const DcmRepresentationParameter *>(&rle);
        const OFCondition encoded = dataset->chooseRepresentation(target, parameters);
        if (encoded.bad() || !dataset->canWriteXfer(target)) {
            return fail(CDICOM_UNSUPPORTED_TRANSFER_SYNTAX, error, capacity, "DCMTK cannot encode this image as %s (%s)",
                        DcmXfer(target).getXferName(), encoded.bad() ? encoded.text() : "no encoder");
        }
    }
    const OFCondition saved = file.saveFile(OFFilename(path), target);
    if (saved.bad()) return fail(CDICOM_UNREADABLE, error, capacity, "DCMTK could not write the file (%s)", saved.text());
    return CDICOM_OK;
}

CDICOMStatus writeTextReport(const char *path, const char *text, char *error, size_t capacity) {
    DcmFileFormat file;
    DcmDataset *dataset = file.getDataset();
    putIdentity(dataset, UID_BasicTextSRStorage, "SR");
    dataset->putAndInsertString(DCM_ValueType, "CONTAINER");
    dataset->putAndInsertString(DCM_ContinuityOfContent, "SEPARATE");
    DcmItem *concept = nullptr;
    if (dataset->findOrCreateSequenceItem(DCM_ConceptNameCodeSequence, concept).good() && concept != nullptr) {
        concept->putAndInsertString(DCM_CodeValue, "11528-7");
        concept->putAndInsertString(DCM_CodingSchemeDesignator, "LN");
        concept->putAndInsertString(DCM_CodeMeaning, "Radiology Report");
    }
    DcmItem *content = nullptr;
    if (dataset->findOrCreateSequenceItem(DCM_ContentSequence, content).good() && content != nullptr) {
        content->putAndInsertString(DCM_RelationshipType, "CONTAINS");
        content->putAndInsertString(DCM_ValueType, "TEXT");
        content->putAndInsertString(DCM_TextValue, text);
    }
    const OFCondition saved = file.saveFile(OFFilename(path), EXS_LittleEndianExplicit);
    if (saved.bad()) return fail(CDICOM_UNREADABLE, error, capacity, "DCMTK could not write the file (%s)", saved.text());
    return CDICOM_OK;
}

}  // namespace

extern "C" CDICOMStatus cdicom_read_image(const char *path, uint32_t maximum_side, CDICOMImage *image, char *error,
                                          size_t error_capacity) {
    std::memset(image, 0, sizeof *image);
    if (error != nullptr && error_capacity > 0) error[0] = 0;
    initialise();
    try {
        return readImage(path, maximum_side, image, error, error_capacity);
    } catch (const std::bad_alloc &) {
        return fail(CDICOM_UNREADABLE, error, error_capacity, "out of memory while decoding");
    } catch (...) {
        return fail(CDICOM_UNREADABLE, error, error_capacity, "DCMTK failed while decoding");
    }
}

extern "C" void cdicom_image_free(CDICOMImage *image) {
    std::free(image->values);
    image->values = nullptr;
}

extern "C" CDICOMStatus cdicom_write_image(const char *path, const CDICOMSlice *slice, char *error, size_t error_capacity) {
    initialise();
    try {
        return writeImage(path, slice, error, error_capacity);
    } catch (...) {
        return fail(CDICOM_UNREADABLE, error, error_capacity, "DCMTK failed while writing");
    }
}

extern "C" CDICOMStatus cdicom_write_text_report(const char *path, const char *text, char *error, size_t error_capacity) {
    initialise();
    try {
        return writeTextReport(path, text, error, error_capacity);
    } catch (...) {
        return fail(CDICOM_UNREADABLE, error, error_capacity, "DCMTK failed while writing");
    }
}
