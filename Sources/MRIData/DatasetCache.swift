import Foundation
import Tensor

/// A cache of decoded, preprocessed datasets, so the second load of a folder of JPEGs takes seconds.
///
/// Key: a 128-bit hash (two FNV-1a-64 lanes) of the source kind, its absolute path, every input file
/// with its size and modification time, the image size, `DatasetLoader.version` and the `ImageReading`
/// (intensity mapping, NIfTI slices) when it is not the default. Any change to a file, the size, the
/// reading or the loader gives a new key. File `<key>.rmri` in the cache directory:
///
///     "RMRICACH" | UInt32 format version | UInt64 header length | header (JSON) | images | masks | UInt64 checksum
///
/// Images are stored as bytes round(255 x) (the preprocessing already quantises to 1/255, so this
/// is exact, and a read dataset keeps them as bytes: `PixelStore`), masks as 0/1 bytes; the checksum (FNV-1a over the payload) catches truncation and
/// corruption. A cache that fails any check is reported, ignored and rebuilt, never trusted.
/// Writes are atomic (temporary file, then rename).
public struct DatasetCache: Sendable {
    public var directory: String
    public var verbose: Bool

    static let magic = Array("RMRICACH".utf8)
    static let formatVersion: UInt32 = 1

    public init(directory: String, verbose: Bool = true) {
        self.directory = directory
        self.verbose = verbose
    }

    /// `$ROBUST_MRI_CACHE`, or `~/.cache/robust-mri`.
    public static var defaultDirectory: String {
        if let override = ProcessInfo.processInfo.environment["ROBUST_MRI_CACHE"], !override.isEmpty { return override }
        return FilePaths.joining(NSHomeDirectory(), ".cache/robust-mri")
    }

    /// The cache key of a load (32 hex digits).
    public static func key(kind: String, root: String, files: [String], imageSize: Int, loaderVersion: Int,
                           reading: ImageReading = ImageReading()) -> String {
        var text = "\(kind)\n\(URL(fileURLWithPath: root).standardizedFileURL.path)\n\(imageSize)\n\(loaderVersion)\n"
        text += reading.cacheKeyText
        for file in files {
            let attributes = try? FileManager.default.attributesOfItem(atPath: file)
            let size = (attributes?[.size] as? NSNumber)?.int64Value ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
            text += "\(file)\t\(size)\t\(modified)\n"
        }
        let bytes = Array(text.utf8)
        let a = fnv1a(bytes, seed: 0xCBF2_9CE4_8422_2325)
        let b = fnv1a(bytes, seed: 0x84222325_CBF29CE4)
        return String(format: "%016llx%016llx", a, b)
    }

    /// FNV-1a, 64 bits.
    static func fnv1a<Bytes: Sequence>(_ bytes: Bytes, seed: UInt64) -> UInt64 where Bytes.Element == UInt8 {
        var hash = seed
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    /// The header of a cache file: everything but the pixels.
    struct Header: Codable {
        var key: String
        var count: Int
        var imageSize: Int
        var labels: [Int]
        var folds: [Int]?
        var patientIDs: [String]?
        var sourceIDs: [Int]
        var hasMasks: Bool
        var sourceDescription: String
    }

    public func path(key: String) -> String { FilePaths.joining(directory, "\(key).rmri") }

    /// The cached dataset for `key`, or nil (absent, or corrupt: then a message says it is rebuilt).
    public func read(key: String) -> MRIDataset? {
        let file = path(key: key)
        guard FileManager.default.fileExists(atPath: file) else { return nil }
        do {
            let dataset = try decode(try Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped), key: key)
            if verbose { print("robust-mri: loaded \(dataset.count) images from cache \(file)") }
            return dataset
        } catch {
            if verbose { print("robust-mri: ignoring corrupt cache \(file) (\(error)); rebuilding it") }
            try? FileManager.default.removeItem(atPath: file)
            return nil
        }
    }

    /// Writes `dataset` under `key`, atomically.
    public func write(_ dataset: MRIDataset, key: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try encode(dataset, key: key).write(to: URL(fileURLWithPath: path(key: key)), options: .atomic)
        } catch {
            throw MRIDataError.unwritableFile(path: path(key: key), reason: error.localizedDescription)
        }
    }

    func encode(_ dataset: MRIDataset, key: String) throws -> Data {
        let header = Header(key: key, count: dataset.count, imageSize: dataset.imageSize, labels: dataset.labels,
                            folds: dataset.folds, patientIDs: dataset.patientIDs, sourceIDs: dataset.sourceIDs,
                            hasMasks: dataset.masks != nil, sourceDescription: dataset.sourceDescription)
        let headerBytes = [UInt8](try JSONEncoder().encode(header))
        let pixels = dataset.pixels.shape.reduce(1, *)
        let payloadStart = 20 + headerBytes.count
        let payloadLength = pixels * (dataset.maskPixels == nil ? 1 : 2)
        var out = [UInt8](repeating: 0, count: payloadStart + payloadLength + 8)
        out.withUnsafeMutableBytes { raw in
            for (k, byte) in Self.magic.enumerated() { raw[k] = byte }
            raw.storeBytes(of: Self.formatVersion.littleEndian, toByteOffset: 8, as: UInt32.self)
            raw.storeBytes(of: UInt64(headerBytes.count).littleEndian, toByteOffset: 12, as: UInt64.self)
            for (k, byte) in headerBytes.enumerated() { raw[20 + k] = byte }
            if let bytes = dataset.pixels.bytes {
                for i in 0..<pixels { raw[payloadStart + i] = bytes[i] }
            } else {
                dataset.images.withUnsafeBufferPointer { images in
                    for i in 0..<pixels { raw[payloadStart + i] = UInt8((Swift.min(Swift.max(images[i], 0), 1) * 255).rounded()) }
                }
            }
            if let bytes = dataset.maskPixels?.bytes {
                for i in 0..<pixels { raw[payloadStart + pixels + i] = bytes[i] > 0 ? 1 : 0 }
            } else {
                dataset.masks?.withUnsafeBufferPointer { masks in
                    for i in 0..<pixels { raw[payloadStart + pixels + i] = masks[i] > 0.5 ? 1 : 0 }
                }
            }
            let payload = UnsafeRawBufferPointer(rebasing: raw[payloadStart..<(payloadStart + payloadLength)])
            let checksum = Self.checksum(headerBytes, payload)
            raw.storeBytes(of: checksum.littleEndian, toByteOffset: payloadStart + payloadLength, as: UInt64.self)
        }
        return Data(out)
    }

    /// FNV-1a over the header, then a multiply-xorshift over the payload 8 bytes at a time (fast enough
    /// for hundreds of MB; it detects corruption, it is not cryptographic).
    static func checksum(_ header: [UInt8], _ payload: UnsafeRawBufferPointer) -> UInt64 {
        var hash = fnv1a(header, seed: 0xCBF2_9CE4_8422_2325)
        let words = payload.count / 8
        for w in 0..<words {
            let word = payload.loadUnaligned(fromByteOffset: w * 8, as: UInt64.self)
            hash = (hash ^ word) &* 0x0000_0100_0000_01B3
            hash ^= hash >> 29
        }
        for i in (words * 8)..<payload.count { hash = (hash ^ UInt64(payload[i])) &* 0x0000_0100_0000_01B3 }
        return hash
    }

    /// bytes[from ..< from + count], copied.
    static func copied(_ bytes: UnsafeRawBufferPointer, from: Int, count: Int) -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: bytes[from..<(from + count)]))
    }

    struct CorruptCache: Error, CustomStringConvertible {
        var description: String
    }

    func decode(_ data: Data, key: String) throws -> MRIDataset {
        try data.withUnsafeBytes { try decode($0, key: key) }
    }

    func decode(_ bytes: UnsafeRawBufferPointer, key: String) throws -> MRIDataset {
        func integer<T: FixedWidthInteger>(at offset: Int, _: T.Type) throws -> T {
            guard offset + MemoryLayout<T>.size <= bytes.count else { throw CorruptCache(description: "truncated") }
            return T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        guard bytes.count >= 20, Array(bytes[0..<8]) == Self.magic else { throw CorruptCache(description: "not a cache file") }
        guard try integer(at: 8, UInt32.self) == Self.formatVersion else { throw CorruptCache(description: "old format") }
        guard let headerLength = Int(exactly: try integer(at: 12, UInt64.self)), headerLength > 0,
              headerLength < bytes.count, 20 + headerLength <= bytes.count else {
            throw CorruptCache(description: "truncated header")
        }
        let headerBytes = Array(bytes[20..<(20 + headerLength)])
        let header = try JSONDecoder().decode(Header.self, from: Data(headerBytes))
        guard header.key == key else { throw CorruptCache(description: "key mismatch") }
        // Every image takes at least one byte a pixel, so a count beyond the file's length is corrupt (and would
        // overflow the pixel count below).
        guard header.count >= 0, header.count <= bytes.count, header.imageSize > 0, header.imageSize <= 4096 else {
            throw CorruptCache(description: "bad sizes")
        }
        let pixels = header.count * header.imageSize * header.imageSize
        let payloadLength = pixels * (header.hasMasks ? 2 : 1)
        let payloadStart = 20 + headerLength
        guard bytes.count == payloadStart + payloadLength + 8 else { throw CorruptCache(description: "wrong length (truncated?)") }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[payloadStart..<(payloadStart + payloadLength)])
        guard try integer(at: payloadStart + payloadLength, UInt64.self) == Self.checksum(headerBytes, payload) else {
            throw CorruptCache(description: "checksum mismatch")
        }
        guard header.labels.count == header.count, header.sourceIDs.count == header.count,
              header.labels.allSatisfy({ TumourClass(rawValue: $0) != nil }),
              header.folds.map({ $0.count == header.count }) ?? true,
              header.patientIDs.map({ $0.count == header.count }) ?? true else {
            throw CorruptCache(description: "inconsistent header")
        }
        let shape = [header.count, 1, header.imageSize, header.imageSize]
        // Bytes as stored: the images' Float values are k / 255 (`PixelStore`), the masks' 0 / 1.
        let images = PixelStore(shape: shape, bytes: Self.copied(payload, from: 0, count: pixels), scale: 255)
        let masks = header.hasMasks ? PixelStore(shape: shape, bytes: Self.copied(payload, from: pixels, count: pixels), scale: 1) : nil
        return MRIDataset(pixels: images, labels: header.labels, folds: header.folds, patientIDs: header.patientIDs,
                          maskPixels: masks, sourceIDs: header.sourceIDs, sourceDescription: header.sourceDescription)
    }
}
