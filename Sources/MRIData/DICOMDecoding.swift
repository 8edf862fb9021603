import CDICOM
import Foundation

extension ImageDecoder {
    /// A single-frame greyscale DICOM image (any modality: MR, CT, CR, DX, ...) through DCMTK (the CDICOM
    /// shim): pixel data uncompressed, or compressed as JPEG (baseline, extended, lossless), JPEG-LS or
    /// RLE; values are the modality's (stored x RescaleSlope + RescaleIntercept: Hounsfield units for CT),
    /// and MONOCHROME1 images are inverted within the range their stored bits can hold, so that bright is
    /// high either way.
    ///
    /// Refused, naming the file and what to do: a file without pixel data (a structured report, a
    /// DICOMDIR), a transfer syntax DCMTK cannot decode here (JPEG 2000, JPEG XL, HTJ2K, video), colour,
    /// multi-frame, a Modality LUT Sequence instead of a rescale, bit depths other than 8 or 16 allocated, a side
    /// beyond `maximumSide`.
    /// Damaged or truncated files are `unreadableFile`. An entry point for fuzzing: any bytes at `path`
    /// must give an image or an `MRIDataError`, never a crash.
    public static func decodeDICOM(path: String) throws -> GrayImage {
        try MRIDataError.requireFile(path)
        var image = CDICOMImage()
        var error = [CChar](repeating: 0, count: 512)
        let status = cdicom_read_image(path, UInt32(maximumSide), &image, &error, error.count)
        defer { cdicom_image_free(&image) }
        let reason = messageText(error)
        switch status {
        case CDICOM_OK:
            break
        case CDICOM_UNREADABLE:
            throw MRIDataError.unreadableFile(path: path, reason: reason)
        default:
            throw MRIDataError.unsupportedImage(path: path, reason: reason)
        }
        let width = Int(image.width), height = Int(image.height)
        let pixels = Array(UnsafeBufferPointer(start: image.values, count: width * height))
        return GrayImage(width: width, height: height, pixels: pixels, format: .dicom)
    }
}
