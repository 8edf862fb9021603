import Foundation
import Tensor

/// One JSON record per finished run, in `<directory>/<id>.json`, each written atomically: a killed
/// grid loses at most the run in progress, and re-running skips every id already present.
public struct RunStore: Sendable {
    public let directory: String

    public struct ReadError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String {
            "run record \(path) is unreadable (\(reason)); delete it to have that run redone"
        }
    }

    public init(directory: String) {
        self.directory = directory
    }

    public func path(for id: String) -> String { "\(directory)/\(id).json" }

    public func contains(_ id: String) -> Bool {
        FileManager.default.fileExists(atPath: path(for: id))
    }

    /// Ids of every stored record, sorted.
    public func ids() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.map { String($0.dropLast(5)) }.sorted()
    }

    public func save<Record: Encodable>(_ record: Record, id: String) throws {
        let data = try JSONCoding.encoder.encode(record)
        try AtomicFile.write([UInt8](data), to: path(for: id))
    }

    /// The record with this id, or nil when it is not there.
    public func load<Record: Decodable>(_ type: Record.Type, id: String) throws -> Record? {
        let file = path(for: id)
        guard let bytes = try AtomicFile.read(file) else { return nil }
        do {
            return try JSONCoding.decoder.decode(type, from: Data(bytes))
        } catch {
            throw ReadError(path: file, reason: "\(error)")
        }
    }
}
