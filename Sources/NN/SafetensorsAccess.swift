import Foundation
import Tensor

/// Typed, throwing access to a file's tensors and metadata: what loading a model needs.
///
/// Each accessor throws `CheckpointError.missingTensor`, `.wrongDType` or `.wrongShape` naming
/// `source` (the file's path) and the tensor.
extension SafetensorsFile {
    /// The stored tensor `name`, or `.missingTensor`.
    public func stored(_ name: String) throws(CheckpointError) -> StoredTensor {
        guard let tensor = self[name] else { throw .missingTensor(file: source, tensor: name) }
        return tensor
    }

    /// The stored tensor `name`, checked to have `dtype` and (when given) `shape`.
    public func stored(_ name: String, dtype: SafetensorsDType, shape: [Int]? = nil) throws(CheckpointError) -> StoredTensor {
        let tensor = try stored(name)
        guard tensor.dtype == dtype else {
            throw .wrongDType(file: source, tensor: name, expected: dtype.rawValue, found: tensor.dtype.rawValue)
        }
        if let shape, tensor.shape != shape {
            throw .wrongShape(file: source, tensor: name, expected: shape, found: tensor.shape)
        }
        return tensor
    }

    /// The F32 tensor `name` as a `Tensor`, checked against `shape` when given.
    public func tensor(_ name: String, shape: [Int]? = nil) throws(CheckpointError) -> Tensor {
        try stored(name, dtype: .f32, shape: shape).tensor
    }

    /// The I64 tensor `name` (any shape unless `shape` is given) as a flat array.
    public func int64Values(_ name: String, shape: [Int]? = nil) throws(CheckpointError) -> [Int64] {
        try stored(name, dtype: .i64, shape: shape).int64Values
    }

    /// The I64 scalar (shape `[]`) `name`, e.g. BatchNorm's `num_batches_tracked`.
    public func int64Scalar(_ name: String) throws(CheckpointError) -> Int64 {
        let values = try int64Values(name, shape: [])
        return values[0]
    }

    /// Stores `tensor` as F32 under `name`.
    public mutating func set(_ name: String, _ tensor: Tensor) {
        self[name] = StoredTensor(tensor)
    }

    /// Stores an I64 scalar (shape `[]`) under `name`.
    public mutating func set(_ name: String, int64Scalar value: Int64) {
        self[name] = StoredTensor(int64: [value], shape: [])
    }

    /// The metadata string `key`, or `.badMetadata` if it is missing.
    public func metadataValue(_ key: String) throws(CheckpointError) -> String {
        guard let value = metadata[key] else {
            throw .badMetadata(file: source, key: key, detail: "is missing")
        }
        return value
    }

    /// Checks that the file stores at least `weights` F32 values before a network of that many weights, described
    /// by metadata `key`, is built from it: a damaged configuration (a million channels) would otherwise be
    /// allocated before its tensors are found missing. `nil` (a count beyond Int's range) fails too.
    public func checkHolds(_ weights: Int?, key: String) throws(CheckpointError) {
        let stored = tensors.reduce(0) { $0 + ($1.tensor.dtype == .f32 ? $1.tensor.bytes.count / 4 : 0) }
        guard let weights, weights <= stored else {
            throw .badMetadata(file: source, key: key, detail: "describes a network of \(weights.map(String.init) ?? "too many") weights, "
                                   + "but the file stores \(stored) F32 values")
        }
    }

    /// The metadata string `key` decoded as JSON into `T` (e.g. a model configuration).
    public func metadataJSON<T: Decodable>(_ key: String, as type: T.Type) throws(CheckpointError) -> T {
        let value = try metadataValue(key)
        do {
            return try JSONDecoder().decode(T.self, from: Data(value.utf8))
        } catch {
            throw .badMetadata(file: source, key: key, detail: "does not decode as \(T.self): \(error)")
        }
    }

    /// Stores `value` encoded as JSON (sorted keys) under metadata `key`.
    public mutating func setMetadataJSON<T: Encodable>(_ key: String, _ value: T) throws(CheckpointError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            metadata[key] = String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw .badMetadata(file: source, key: key, detail: "cannot be encoded from \(T.self): \(error)")
        }
    }
}
