import Foundation
import MRIData

/// Scanner-file fixtures, written at test time by the libraries that read them (`ScanWriter`: DCMTK and
/// niftilib), and the same data as 16-bit PNGs to compare against.
enum ScanFixture {
    static let width = 20, height = 16

    /// A 12-bit pattern: value (r * 173 + c * 61 + 97 * seed) % 4000 + 50, so 50...4049, row-major.
    static func pattern(seed: Int = 0) -> [UInt16] {
        (0..<(width * height)).map { UInt16(((($0 / width) * 173 + ($0 % width) * 61 + 97 * seed) % 4000) + 50) }
    }

    static func writePNG(_ values: [UInt16], to path: String) throws {
        try PNGImage.encode(gray16: values, width: width, height: height).writePNG(path: path)
    }

    static func writeDICOM(_ path: String, stored: [UInt16] = pattern(), bitsAllocated: Int = 16, bitsStored: Int = 12,
                           isSigned: Bool = false, rescale: (slope: Double, intercept: Double)? = nil,
                           photometric: String = "MONOCHROME2", modality: String = "MR",
                           syntax: ScanWriter.DICOMTransferSyntax = .explicitLittleEndian) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try ScanWriter.writeDICOM(ScanWriter.DICOMSlice(
            width: width, height: height, stored: stored, bitsAllocated: bitsAllocated, bitsStored: bitsStored,
            isSigned: isSigned, rescale: rescale, photometricInterpretation: photometric, modality: modality,
            transferSyntax: syntax), to: path)
    }

    /// A volume whose slice k (of volume t) holds `pattern(seed: k + 10 t)`.
    static func writeNIfTI(_ path: String, slices: Int = 3, volumes: Int = 1, version: Int = 1,
                           voxelType: ScanWriter.NIfTIVoxelType = .int16, scaleSlope: Double = 0, scaleIntercept: Double = 0) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var values: [Float] = []
        for t in 0..<volumes {
            for k in 0..<slices { values += pattern(seed: k + 10 * t).map(Float.init) }
        }
        try ScanWriter.writeNIfTI(values, width: width, height: height, slices: slices, volumes: volumes, voxelType: voxelType,
                                  version: version, scaleSlope: scaleSlope, scaleIntercept: scaleIntercept, to: path)
    }

    /// A minimal DICOM Part 10 file in `transferSyntax` (explicit VR little endian elements) whose pixel
    /// data is one encapsulated fragment of junk: for syntaxes no encoder here can write (JPEG 2000, HTJ2K).
    static func encapsulatedDICOM(transferSyntax: String) -> [UInt8] {
        func element(_ group: UInt16, _ tag: UInt16, _ vr: String, _ value: [UInt8]) -> [UInt8] {
            var value = value
            if value.count % 2 == 1 { value.append(vr == "UI" ? 0 : 0x20) }
            var bytes = littleEndian(group) + littleEndian(tag) + Array(vr.utf8)
            if ["OB", "OW", "SQ", "UN", "UT"].contains(vr) {
                bytes += [0, 0] + littleEndian(UInt32(value.count))
            } else {
                bytes += littleEndian(UInt16(value.count))
            }
            return bytes + value
        }
        func text(_ string: String) -> [UInt8] { Array(string.utf8) }
        func us(_ value: UInt16) -> [UInt8] { littleEndian(value) }
        let sopClass = text("1.2.840.10008.5.1.4.1.1.4"), instance = text("1.2.3.4.5.6.7")
        var meta = element(0x0002, 0x0001, "OB", [0, 1]) + element(0x0002, 0x0002, "UI", sopClass)
            + element(0x0002, 0x0003, "UI", instance) + element(0x0002, 0x0010, "UI", text(transferSyntax))
        meta = element(0x0002, 0x0000, "UL", littleEndian(UInt32(meta.count))) + meta
        var dataset = element(0x0008, 0x0016, "UI", sopClass) + element(0x0008, 0x0018, "UI", instance)
            + element(0x0008, 0x0060, "CS", text("MR"))
            + element(0x0028, 0x0002, "US", us(1)) + element(0x0028, 0x0004, "CS", text("MONOCHROME2"))
            + element(0x0028, 0x0010, "US", us(UInt16(height))) + element(0x0028, 0x0011, "US", us(UInt16(width)))
            + element(0x0028, 0x0100, "US", us(16)) + element(0x0028, 0x0101, "US", us(12))
            + element(0x0028, 0x0102, "US", us(11)) + element(0x0028, 0x0103, "US", us(0))
        // Pixel data (7FE0,0010) OB, undefined length: an empty offset table, one fragment, the delimiter.
        dataset += littleEndian(UInt16(0x7FE0)) + littleEndian(UInt16(0x0010)) + Array("OB".utf8) + [0, 0] + littleEndian(UInt32.max)
        dataset += littleEndian(UInt16(0xFFFE)) + littleEndian(UInt16(0xE000)) + littleEndian(UInt32(0))
        dataset += littleEndian(UInt16(0xFFFE)) + littleEndian(UInt16(0xE000)) + littleEndian(UInt32(8)) + [UInt8](repeating: 0x5A, count: 8)
        dataset += littleEndian(UInt16(0xFFFE)) + littleEndian(UInt16(0xE0DD)) + littleEndian(UInt32(0))
        return [UInt8](repeating: 0, count: 128) + Array("DICM".utf8) + meta + dataset
    }

    static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }
}
