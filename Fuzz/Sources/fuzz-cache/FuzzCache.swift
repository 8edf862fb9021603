import Foundation
import FuzzSupport
@testable import MRIData

/// The key the seeds were written under (Fuzz/Corpus/cache).
let key = "00000000000000000000000000f0220a"

/// A dataset cache file (`<key>.rmri`) as `DatasetCache.read` decodes it: first as it is, then with its
/// last 8 bytes replaced by the checksum of what the header length says is header and payload, so that
/// mutations get past the checksum to the header and payload checks behind it (a file can carry a valid
/// checksum and a wrong header: the checksum catches corruption, not a faulty writer).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCache(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let cache = DatasetCache(directory: Scratch.folder, verbose: false)
    var bytes = FuzzInput.bytes(data, size)
    _ = try? cache.decode(Data(bytes), key: key)
    guard bytes.count >= 28 else { return 0 }
    let headerLength = bytes[12..<20].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    guard headerLength <= UInt64(bytes.count - 28) else { return 0 }
    let payloadStart = 20 + Int(headerLength)
    let checksum = Array(bytes[payloadStart..<(bytes.count - 8)]).withUnsafeBytes { payload in
        DatasetCache.checksum(Array(bytes[20..<payloadStart]), payload)
    }
    for k in 0..<8 { bytes[bytes.count - 8 + k] = UInt8(truncatingIfNeeded: checksum >> (8 * UInt64(k))) }
    _ = try? cache.decode(Data(bytes), key: key)
    return 0
}
