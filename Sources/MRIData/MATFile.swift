import CHDF5
import Foundation

/// Read access to a MATLAB v7.3 `.mat` file: an HDF5 file behind a 512-byte text header (HDF5's
/// "user block"), which libhdf5 skips by itself.
///
/// MATLAB stores arrays column-major, so a MATLAB matrix of R rows and C columns appears in HDF5 with
/// dims (C, R); `readMatrix` transposes it back to R x C row-major. libhdf5 (serial build) is not
/// thread-safe: every call here holds `MATFile.libraryLock`, so files may be read from any thread
/// (one at a time).
public final class MATFile: @unchecked Sendable {
    public let path: String
    private let file: hid_t

    /// The most values a dataset may hold: 4096 x 4096 (a figshare slice has 512 x 512). A damaged header can
    /// declare any size, which would be allocated before libhdf5 reads a byte.
    public static let maximumValues = 4096 * 4096

    /// Serialises all use of libhdf5 in the process (its serial build has global state).
    public static let libraryLock = NSLock()

    /// Opens `path` read-only; a typed error when it is missing or not an HDF5 file.
    public init(path: String) throws {
        try MRIDataError.requireFile(path)
        let handle = Self.libraryLock.withLock {
            chdf5_silence_errors()
            return H5Fopen(path, chdf5_acc_rdonly(), chdf5_p_default())
        }
        guard handle >= 0 else {
            throw MRIDataError.unreadableFile(
                path: path, reason: "not a MATLAB v7.3 (HDF5) file, or truncated; older .mat versions are not supported")
        }
        self.path = path
        self.file = handle
    }

    deinit { _ = Self.libraryLock.withLock { H5Fclose(file) } }

    /// A numeric dataset converted to Double, with its HDF5 dims (row-major, as stored).
    public func readDoubles(_ name: String) throws -> (dims: [Int], values: [Double]) {
        try read(name, memoryType: chdf5_native_double(), zero: 0.0)
    }

    /// A 2-D MATLAB matrix as `rows` x `columns`, row-major (undoing MATLAB's column-major storage),
    /// converted to Double (exact for every MATLAB integer class and for single and double) so the
    /// caller can check for NaN, infinity and range before converting further.
    public func readMatrix(_ name: String) throws -> (rows: Int, columns: Int, values: [Double]) {
        let (dims, stored) = try readDoubles(name)
        guard dims.count == 2 else {
            throw MRIDataError.unreadableFile(path: path, reason: "`\(name)` has \(dims.count) dimensions, expected a 2-D matrix")
        }
        // Stored [C, R] row-major is the R x C matrix column-major: element (r, c) at c * R + r.
        let columns = dims[0], rows = dims[1]
        var values = [Double](repeating: 0, count: stored.count)
        for r in 0..<rows {
            for c in 0..<columns { values[r * columns + c] = stored[c * rows + r] }
        }
        return (rows, columns, values)
    }

    /// A MATLAB char array (stored as uint16 character codes) as a String; a typed error naming the
    /// field when a code is NaN, infinite, fractional or not a Unicode scalar.
    public func readString(_ name: String) throws -> String {
        let (_, codes) = try readDoubles(name)
        var scalars = String.UnicodeScalarView()
        for code in codes {
            guard let value = UInt32(exactly: code), let scalar = Unicode.Scalar(value) else {
                throw MRIDataError.unreadableFile(path: path, reason: "`\(name)` holds \(code), not a character code")
            }
            scalars.append(scalar)
        }
        return String(scalars).trimmingCharacters(in: .whitespaces)
    }

    private func read<T>(_ name: String, memoryType: hid_t, zero: T) throws -> (dims: [Int], values: [T]) {
        try Self.libraryLock.withLock { try unlockedRead(name, memoryType: memoryType, zero: zero) }
    }

    private func unlockedRead<T>(_ name: String, memoryType: hid_t, zero: T) throws -> (dims: [Int], values: [T]) {
        let dataset = H5Dopen2(file, name, chdf5_p_default())
        guard dataset >= 0 else {
            throw MRIDataError.unreadableFile(path: path, reason: "no dataset `\(name)` (is this a figshare brain tumour .mat file?)")
        }
        defer { H5Dclose(dataset) }
        let space = H5Dget_space(dataset)
        guard space >= 0 else { throw MRIDataError.unreadableFile(path: path, reason: "`\(name)` has no dataspace") }
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 && rank <= 8 else {
            throw MRIDataError.unreadableFile(path: path, reason: "`\(name)` has an unreadable shape")
        }
        var dims = [hsize_t](repeating: 0, count: Swift.max(rank, 1))
        _ = H5Sget_simple_extent_dims(space, &dims, nil)
        // The dims come from the file: checked before anything is allocated from them.
        var shape: [Int] = [], count = 1, overflow = false
        for dim in dims.prefix(rank) where !overflow {
            let size = Int(exactly: dim) ?? Int.max
            shape.append(size)
            (count, overflow) = count.multipliedReportingOverflow(by: size)
        }
        // Each dim too: 0 x 2^40 values is no value, but a loop over 2^40 rows all the same.
        guard !overflow, count <= Self.maximumValues, shape.allSatisfy({ $0 <= Self.maximumValues }) else {
            throw MRIDataError.unreadableFile(
                path: path, reason: "`\(name)` declares \(dims.prefix(rank).map { "\($0)" }.joined(separator: " x ")) values, "
                    + "more than the \(Self.maximumValues) (4096 x 4096) this reader accepts: the file is damaged, or not a figshare slice")
        }
        guard count > 0 else { return (shape, []) }
        try checkStorage(dataset, name, values: count)
        var values = [T](repeating: zero, count: count)
        let status = values.withUnsafeMutableBytes { buffer in
            H5Dread(dataset, memoryType, chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), buffer.baseAddress)
        }
        guard status >= 0 else {
            throw MRIDataError.unreadableFile(path: path, reason: "cannot read `\(name)` (damaged or not numeric)")
        }
        return (shape, values)
    }

    /// The element types MATLAB writes numbers as (x86-64 native: little-endian integers, IEEE floats).
    private static func matlabNumericTypes() -> [hid_t] {
        [chdf5_native_double(), chdf5_native_float(), chdf5_native_int8(), chdf5_native_uint8(), chdf5_native_int16(),
         chdf5_native_uint16(), chdf5_native_int32(), chdf5_native_uint32(), chdf5_native_int64(), chdf5_native_uint64()]
    }

    /// Refuses, before `H5Dread`, a dataset of `values` elements whose storage libhdf5 1.10.8 would misread
    /// (each found by fuzzing, docs/fuzzing.md): an element type other than MATLAB's numbers, exactly as
    /// `H5Tequal` compares them (a damaged size asked for a 4 GB conversion buffer; a 16-bit integer of
    /// 0 bits' precision crashed the conversion to double), chunks of more than `maximumValues` elements, contiguous or compact
    /// data whose stored size is not `values` x the element size (a damaged layout made `H5Dread` copy from
    /// NULL), and data kept outside the file (external raw files, virtual datasets), which MATLAB never writes.
    private func checkStorage(_ dataset: hid_t, _ name: String, values: Int) throws {
        func refuse(_ what: String) -> MRIDataError {
            .unreadableFile(path: path, reason: "`\(name)` \(what): the file is damaged, or not a figshare slice")
        }
        let type = H5Dget_type(dataset)
        guard type >= 0 else { throw refuse("has no readable element type") }
        defer { H5Tclose(type) }
        let typeSize = H5Tget_size(type)
        guard Self.matlabNumericTypes().contains(where: { H5Tequal(type, $0) > 0 }) else {
            throw refuse("is stored as \(typeSize)-byte elements of HDF5 class \(H5Tget_class(type).rawValue) that are no "
                         + "MATLAB number (a little-endian integer of 8 to 64 bits, or an IEEE single or double)")
        }
        let properties = H5Dget_create_plist(dataset)
        guard properties >= 0 else { throw refuse("has no readable storage layout") }
        defer { H5Pclose(properties) }
        guard H5Pget_external_count(properties) == 0 else { throw refuse("keeps its data in external files") }
        let stored = H5Dget_storage_size(dataset), expected = hsize_t(values) * hsize_t(typeSize)
        switch H5Pget_layout(properties) {
        case H5D_CONTIGUOUS, H5D_COMPACT:
            guard stored == expected else { throw refuse("stores \(stored) bytes for \(values) values of \(typeSize) bytes") }
        case H5D_CHUNKED:
            var chunk = [hsize_t](repeating: 0, count: 32)  // H5S_MAX_RANK
            let rank = Int(H5Pget_chunk(properties, 32, &chunk))
            var chunkValues: hsize_t = 1, overflow = false
            for dim in chunk.prefix(Swift.max(rank, 0)) where !overflow {
                (chunkValues, overflow) = chunkValues.multipliedReportingOverflow(by: dim)
            }
            guard rank >= 1, !overflow, chunkValues <= hsize_t(Self.maximumValues) else {
                throw refuse("is stored in chunks of \(chunk.prefix(Swift.max(rank, 0)).map { "\($0)" }.joined(separator: " x ")) values")
            }
            guard stored > 0 else { throw refuse("has no stored chunks") }
        default:
            throw refuse("has a storage layout MATLAB does not write (virtual or unknown)")
        }
    }
}
