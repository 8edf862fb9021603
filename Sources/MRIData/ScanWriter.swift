import CDICOM
import CNIfTI

/// Writes greyscale slices as DICOM (DCMTK) and NIfTI (niftilib) files: through the libraries that read
/// them, for test fixtures and example data. The dataset readers never write.
public enum ScanWriter {
    /// DICOM transfer syntaxes the writer can produce (DCMTK's encoders).
    public enum DICOMTransferSyntax: CaseIterable, Sendable {
        case explicitLittleEndian, implicitLittleEndian, explicitBigEndian
        /// JPEG baseline (process 1, quality 95): 8-bit only, lossy.
        case jpegBaseline
        /// JPEG lossless, process 14, first-order prediction.
        case jpegLossless
        case jpegLSLossless
        case rleLossless

        var code: CDICOMTransferSyntax {
            switch self {
            case .explicitLittleEndian: return CDICOM_EXPLICIT_LITTLE
            case .implicitLittleEndian: return CDICOM_IMPLICIT_LITTLE
            case .explicitBigEndian: return CDICOM_EXPLICIT_BIG
            case .jpegBaseline: return CDICOM_JPEG_BASELINE
            case .jpegLossless: return CDICOM_JPEG_LOSSLESS
            case .jpegLSLossless: return CDICOM_JPEG_LS_LOSSLESS
            case .rleLossless: return CDICOM_RLE_LOSSLESS
            }
        }
    }

    /// A single-frame greyscale DICOM image: `height` rows of `width` stored values (two's complement bit
    /// patterns when `isSigned`), read back as stored x slope + intercept.
    public struct DICOMSlice: Sendable {
        public var width: Int
        public var height: Int
        public var stored: [UInt16]
        public var bitsAllocated: Int
        public var bitsStored: Int
        public var isSigned: Bool
        public var rescale: (slope: Double, intercept: Double)?
        /// "MONOCHROME2" (high is bright) or "MONOCHROME1" (high is dark).
        public var photometricInterpretation: String
        public var modality: String
        public var transferSyntax: DICOMTransferSyntax

        public init(width: Int, height: Int, stored: [UInt16], bitsAllocated: Int = 16, bitsStored: Int = 12,
                    isSigned: Bool = false, rescale: (slope: Double, intercept: Double)? = nil,
                    photometricInterpretation: String = "MONOCHROME2", modality: String = "MR",
                    transferSyntax: DICOMTransferSyntax = .explicitLittleEndian) {
            precondition(stored.count == width * height, "DICOMSlice: \(stored.count) values for \(width)x\(height)")
            self.width = width
            self.height = height
            self.stored = stored
            self.bitsAllocated = bitsAllocated
            self.bitsStored = bitsStored
            self.isSigned = isSigned
            self.rescale = rescale
            self.photometricInterpretation = photometricInterpretation
            self.modality = modality
            self.transferSyntax = transferSyntax
        }
    }

    /// Writes `slice` to `path` (Secondary Capture with the slice's modality).
    public static func writeDICOM(_ slice: DICOMSlice, to path: String) throws {
        var error = [CChar](repeating: 0, count: 512)
        let status = slice.stored.withUnsafeBufferPointer { stored in
            slice.photometricInterpretation.withCString { photometric in
                slice.modality.withCString { modality in
                    var request = CDICOMSlice(
                        width: Int32(slice.width), height: Int32(slice.height), stored: stored.baseAddress,
                        bits_allocated: Int32(slice.bitsAllocated), bits_stored: Int32(slice.bitsStored),
                        is_signed: slice.isSigned ? 1 : 0, has_rescale: slice.rescale == nil ? 0 : 1,
                        rescale_slope: slice.rescale?.slope ?? 1, rescale_intercept: slice.rescale?.intercept ?? 0,
                        photometric_interpretation: photometric, modality: modality, transfer_syntax: slice.transferSyntax.code)
                    return cdicom_write_image(path, &request, &error, error.count)
                }
            }
        }
        try check(status == CDICOM_OK, error: error, path: path)
    }

    /// Writes a Basic Text structured report (a DICOM file without pixel data) holding `text`.
    public static func writeDICOMTextReport(_ text: String, to path: String) throws {
        var error = [CChar](repeating: 0, count: 512)
        let status = cdicom_write_text_report(path, text, &error, error.count)
        try check(status == CDICOM_OK, error: error, path: path)
    }

    /// NIfTI voxel types the writer can produce.
    public enum NIfTIVoxelType: Int32, Sendable {
        case int16 = 4, uint16 = 512, float32 = 16
    }

    /// Writes `values` [volumes, slices, height, width] (i fastest, the NIfTI voxel order) as a NIfTI-`version`
    /// file (1 or 2) of `voxelType` (values rounded for integer types), with scl_slope and scl_inter
    /// (slope 0: unscaled). A path ending in `.nii.gz` is gzipped.
    public static func writeNIfTI(_ values: [Float], width: Int, height: Int, slices: Int, volumes: Int = 1,
                                  voxelType: NIfTIVoxelType = .int16, version: Int = 1,
                                  scaleSlope: Double = 0, scaleIntercept: Double = 0, to path: String) throws {
        precondition(values.count == width * height * slices * volumes,
                     "writeNIfTI: \(values.count) values for \(width)x\(height)x\(slices)x\(volumes)")
        var error = [CChar](repeating: 0, count: 512)
        let dims = [Int64(width), Int64(height), Int64(slices), Int64(volumes)]
        let status = cnifti_write_volume(path, Int32(version), dims, voxelType.rawValue, values, scaleSlope, scaleIntercept,
                                         &error, error.count)
        try check(status == CNIFTI_OK, error: error, path: path)
    }

    static func check(_ succeeded: Bool, error: [CChar], path: String) throws {
        guard !succeeded else { return }
        let reason = messageText(error)
        throw MRIDataError.unwritableFile(path: path, reason: reason)
    }
}
