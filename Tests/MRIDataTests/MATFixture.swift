import CHDF5
import Foundation
import MRIData

/// Writes `.mat` files in the exact layout of Cheng's figshare release with libhdf5: a MATLAB v7.3 file
/// is HDF5 with a 512-byte user block holding MATLAB's text header; group `cjdata` holds `label`
/// (1x1 double), `PID` (uint16 character codes), `image` (int16) and `tumorMask` (uint8), matrices
/// stored transposed (MATLAB is column-major), each dataset with attribute `MATLAB_class`.
enum MATFixture {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Writes one slice. `image` and `mask` are row-major `rows` x `columns`.
    static func writeSlice(_ path: String, label: Double, patient: String, image: [Int16], mask: [UInt8],
                           rows: Int, columns: Int) throws {
        try writeSlice(path, label: label, patientCodes: patient.unicodeScalars.map { Double($0.value) }, image: image,
                       imageType: chdf5_native_int16(), imageClass: "int16", mask: mask, rows: rows, columns: columns)
    }

    /// Writes one slice with a double image (a MATLAB export may hold NaN there) and the patient ID as
    /// double character codes (which may hold NaN too).
    static func writeSlice(_ path: String, label: Double, patientCodes: [Double], image: [Double], mask: [UInt8],
                           rows: Int, columns: Int) throws {
        try writeSlice(path, label: label, patientCodes: patientCodes, image: image,
                       imageType: chdf5_native_double(), imageClass: "double", mask: mask, rows: rows, columns: columns)
    }

    /// Character codes that fit uint16 are stored as MATLAB stores them (uint16, class char); others as double.
    private static func writeSlice<Pixel>(_ path: String, label: Double, patientCodes: [Double], image: [Pixel],
                                          imageType: hid_t, imageClass: String, mask: [UInt8], rows: Int, columns: Int) throws {
        try withFile(path) { file in
            let group = H5Gcreate2(file, "cjdata", chdf5_p_default(), chdf5_p_default(), chdf5_p_default())
            guard group >= 0 else { throw Failure(description: "H5Gcreate2 failed") }
            defer { H5Gclose(group) }
            try write(group, "label", dims: [1, 1], type: chdf5_native_double(), values: [label], matlabClass: "double")
            let codes = patientCodes.compactMap { UInt16(exactly: $0) }
            if codes.count == patientCodes.count {
                try write(group, "PID", dims: [codes.count, 1], type: chdf5_native_uint16(), values: codes, matlabClass: "char")
            } else {
                try write(group, "PID", dims: [patientCodes.count, 1], type: chdf5_native_double(), values: patientCodes,
                          matlabClass: "double")
            }
            try write(group, "image", dims: [columns, rows], type: imageType,
                      values: transposed(image, rows: rows, columns: columns), matlabClass: imageClass)
            try write(group, "tumorMask", dims: [columns, rows], type: chdf5_native_uint8(),
                      values: transposed(mask, rows: rows, columns: columns), matlabClass: "uint8")
        }
    }

    /// Writes `cvind.mat`: dataset `cvind`, HDF5 dims (1, n), doubles.
    static func writeFoldIndex(_ path: String, folds: [Int]) throws {
        try writeFoldIndex(path, values: folds.map(Double.init))
    }

    /// Writes `cvind.mat` holding any doubles (NaN included).
    static func writeFoldIndex(_ path: String, values: [Double]) throws {
        try withFile(path) { file in
            try write(file, "cvind", dims: [1, values.count], type: chdf5_native_double(), values: values, matlabClass: "double")
        }
    }

    /// Row-major R x C -> column-major (what MATLAB writes and HDF5 shows as dims (C, R)).
    static func transposed<T>(_ values: [T], rows: Int, columns: Int) -> [T] {
        (0..<(rows * columns)).map { k in values[(k % rows) * columns + k / rows] }
    }

    private static func withFile(_ path: String, _ body: (hid_t) throws -> Void) throws {
        try MATFile.libraryLock.withLock { try unlockedWithFile(path, body) }
    }

    private static func unlockedWithFile(_ path: String, _ body: (hid_t) throws -> Void) throws {
        chdf5_silence_errors()
        let properties = H5Pcreate(chdf5_p_file_create())
        defer { H5Pclose(properties) }
        guard H5Pset_userblock(properties, 512) >= 0 else { throw Failure(description: "H5Pset_userblock failed") }
        let file = H5Fcreate(path, chdf5_acc_trunc(), properties, chdf5_p_default())
        guard file >= 0 else { throw Failure(description: "H5Fcreate \(path) failed") }
        do {
            try body(file)
        } catch {
            H5Fclose(file)
            throw error
        }
        H5Fclose(file)
        // MATLAB's 128-byte header at the start of the user block: text, subsystem offset, version, endian.
        var header = Array("MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2015 HDF5 schema 1.00 .".utf8)
        header += [UInt8](repeating: 0x20, count: 116 - header.count) + [UInt8](repeating: 0, count: 8)
        header += [0x00, 0x02] + Array("IM".utf8)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: Data(header))
        try handle.close()
    }

    private static func write<T>(_ parent: hid_t, _ name: String, dims: [Int], type: hid_t, values: [T],
                                 matlabClass: String) throws {
        var shape = dims.map { hsize_t($0) }
        let space = H5Screate_simple(Int32(shape.count), &shape, nil)
        defer { H5Sclose(space) }
        let dataset = H5Dcreate2(parent, name, type, space, chdf5_p_default(), chdf5_p_default(), chdf5_p_default())
        guard dataset >= 0 else { throw Failure(description: "H5Dcreate2 \(name) failed") }
        defer { H5Dclose(dataset) }
        let status = values.withUnsafeBytes { H5Dwrite(dataset, type, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), $0.baseAddress) }
        guard status >= 0 else { throw Failure(description: "H5Dwrite \(name) failed") }
        // Attribute MATLAB_class: a fixed-length C string.
        let stringType = H5Tcopy(chdf5_c_s1())
        defer { H5Tclose(stringType) }
        H5Tset_size(stringType, matlabClass.utf8.count)
        let scalar = H5Screate(H5S_SCALAR)
        defer { H5Sclose(scalar) }
        let attribute = H5Acreate2(dataset, "MATLAB_class", stringType, scalar, chdf5_p_default(), chdf5_p_default())
        guard attribute >= 0 else { throw Failure(description: "H5Acreate2 on \(name) failed") }
        defer { H5Aclose(attribute) }
        let bytes = Array(matlabClass.utf8)
        _ = bytes.withUnsafeBytes { H5Awrite(attribute, stringType, $0.baseAddress) }
    }
}
