import Foundation
import Testing
import Tensor
@testable import NN

/// Round trips, the byte layout, typed access and atomic writing of `SafetensorsFile`.
/// The error cases are in SafetensorsErrorTests.swift, the PyTorch fixtures in SafetensorsFixtureTests.swift.
@Suite struct SafetensorsTests {
    /// One tensor of every dtype, including an I64 scalar and an empty tensor, and awkward metadata.
    static func sampleFile() -> SafetensorsFile {
        var file = SafetensorsFile(metadata: [
            "model_config": #"{"channels": [4, 6], "padding": "same"}"#,
            "note": "quote \" backslash \\ newline \n tab \t control \u{01} unicode é 脑",
        ])
        file.set("features.0.weight", Tensor(shape: [2, 1, 3, 3], scalars: (0..<18).map { Float($0) * 0.25 - 2 }))
        file["f32.special"] = StoredTensor(float32: [.infinity, -.infinity, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude], shape: [5])
        file["f64"] = StoredTensor(float64: [1.0 / 3.0, -1e300, .leastNonzeroMagnitude], shape: [3])
        file.set("features.1.num_batches_tracked", int64Scalar: 1 << 40)
        file["i64"] = StoredTensor(int64: [.min, -1, 0, .max], shape: [2, 2])
        file["i32"] = StoredTensor(int32: [.min, -7, .max], shape: [3, 1])
        file["u8"] = StoredTensor(uint8: [0, 1, 127, 255], shape: [4])
        file["empty"] = StoredTensor(float32: [], shape: [0, 3])
        return file
    }

    @Test func roundTripEveryDTypeAndMetadata() throws {
        let file = Self.sampleFile()
        let decoded = try SafetensorsFile.decode(file.encode(), fileName: "sample")
        #expect(decoded == file)
        #expect(decoded.names == file.names, "decode keeps the order of the buffer")
        #expect(decoded.metadata == file.metadata)
        #expect(try decoded.int64Scalar("features.1.num_batches_tracked") == 1 << 40)
        #expect(decoded["i64"]?.int64Values == [.min, -1, 0, .max])
        #expect(decoded["i32"]?.int32Values == [.min, -7, .max])
        #expect(decoded["u8"]?.uint8Values == [0, 1, 127, 255])
        #expect(decoded["f64"]?.float64Values == [1.0 / 3.0, -1e300, .leastNonzeroMagnitude])
        let special = try #require(decoded["f32.special"]?.float32Values)
        #expect(special[0] == .infinity && special[1] == -.infinity && special[2].sign == .minus && special[2] == 0)
        #expect(try decoded.tensor("features.0.weight", shape: [2, 1, 3, 3]) == file["features.0.weight"]?.tensor)
        #expect(decoded["empty"]?.shape == [0, 3])
    }

    /// The metadata from the header alone (resume decisions read a checkpoint that can hold every training image):
    /// the whole file's, and a file that is not safetensors (a JSON run file) is an error, not a misread.
    @Test func metadataReadsFromTheHeaderAlone() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/sample.safetensors"
        let file = Self.sampleFile()
        try file.write(to: path)
        #expect(try SafetensorsFile.readMetadata(from: path) == file.metadata)
        let json = directory.path + "/config.json"
        try Data("{\n  \"data\" : {}\n}\n".utf8).write(to: URL(fileURLWithPath: json))
        #expect(throws: CheckpointError.self) { try SafetensorsFile.readMetadata(from: json) }
        #expect(throws: CheckpointError.self) { try SafetensorsFile.readMetadata(from: directory.path + "/missing.safetensors") }
    }

    @Test func byteLayoutFollowsTheSpec() throws {
        let file = Self.sampleFile()
        let bytes = file.encode()
        let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
        #expect(length % 8 == 0, "header padded to 8 bytes")
        let header = try #require(String(bytes: bytes[8..<(8 + Int(length))], encoding: .utf8))
        #expect(header.hasPrefix("{\"__metadata__\":"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(header.utf8)) as? [String: Any])
        let weight = try #require(object["features.0.weight"] as? [String: Any])
        #expect(weight["dtype"] as? String == "F32")
        #expect(weight["shape"] as? [Int] == [2, 1, 3, 3])
        #expect(weight["data_offsets"] as? [Int] == [0, 72])
        // The first tensor's bytes start right after the header, little-endian: -2.0 is 0xC0000000.
        #expect(Array(bytes[(8 + Int(length))..<(12 + Int(length))]) == [0x00, 0x00, 0x00, 0xC0])
        let total = file.tensors.reduce(0) { $0 + $1.tensor.bytes.count }
        #expect(bytes.count == 8 + Int(length) + total)
    }

    @Test func decodeOrdersByOffsetsAndAcceptsPaddingAndEmptyHeader() throws {
        // Keys in the JSON in the opposite order to the buffer, and trailing spaces.
        let header = #"{"b": {"dtype": "U8", "shape": [2], "data_offsets": [1, 3]}, "a": {"dtype": "U8", "shape": [], "data_offsets": [0, 1]}}   "#
        let file = try SafetensorsFile.decode(SafetensorsBytes.file(header: header, buffer: [9, 8, 7]), fileName: "handmade")
        #expect(file.names == ["a", "b"])
        #expect(file["a"]?.uint8Values == [9])
        #expect(file["b"]?.uint8Values == [8, 7])
        #expect(file.metadata.isEmpty)
        let empty = try SafetensorsFile.decode(SafetensorsBytes.file(header: "{}", buffer: []), fileName: "empty")
        #expect(empty.count == 0)
        #expect(try SafetensorsFile.decode(SafetensorsFile().encode(), fileName: "new") == SafetensorsFile())
    }

    @Test func subscriptReplacesInPlaceAndRemoves() {
        var file = SafetensorsFile()
        file["x"] = StoredTensor(uint8: [1], shape: [1])
        file["y"] = StoredTensor(uint8: [2], shape: [1])
        file["x"] = StoredTensor(uint8: [3], shape: [1])
        #expect(file.names == ["x", "y"])
        #expect(file["x"]?.uint8Values == [3])
        file["x"] = nil
        #expect(file.names == ["y"])
        #expect(file["x"] == nil)
    }

    @Test func namedTensorsInitialiserKeepsOrder() throws {
        let tensors: [(name: String, tensor: Tensor)] = [
            ("classifier.weight", Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])),
            ("classifier.bias", Tensor(shape: [3], scalars: [7, 8, 9])),
        ]
        let file = SafetensorsFile(namedTensors: tensors, metadata: ["k": "v"])
        #expect(file.names == ["classifier.weight", "classifier.bias"])
        let decoded = try SafetensorsFile.decode(file.encode(), fileName: "m")
        #expect(try decoded.tensor("classifier.bias") == tensors[1].tensor)
    }

    // MARK: - Typed access

    @Test func typedAccessorsThrowNamedErrors() throws {
        var file = Self.sampleFile()
        file.source = "model.safetensors"
        #expect(throws: CheckpointError.missingTensor(file: "model.safetensors", tensor: "classifier.weight")) {
            try file.tensor("classifier.weight")
        }
        #expect(throws: CheckpointError.wrongDType(file: "model.safetensors", tensor: "i64", expected: "F32", found: "I64")) {
            try file.tensor("i64")
        }
        #expect(throws: CheckpointError.wrongShape(file: "model.safetensors", tensor: "features.0.weight", expected: [2, 1, 5, 5], found: [2, 1, 3, 3])) {
            try file.tensor("features.0.weight", shape: [2, 1, 5, 5])
        }
        #expect(throws: CheckpointError.wrongShape(file: "model.safetensors", tensor: "i64", expected: [], found: [2, 2])) {
            try file.int64Scalar("i64")
        }
        #expect(throws: CheckpointError.badMetadata(file: "model.safetensors", key: "absent", detail: "is missing")) {
            try file.metadataValue("absent")
        }
        do {
            _ = try file.tensor("absent")
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("model.safetensors") && error.description.contains("\"absent\""))
        }
    }

    struct Config: Codable, Equatable {
        var channels: [Int]
        var padding: String
    }

    @Test func metadataJSONRoundTripAndError() throws {
        var file = SafetensorsFile()
        try file.setMetadataJSON("model_config", Config(channels: [32, 64], padding: "valid"))
        #expect(file.metadata["model_config"] == #"{"channels":[32,64],"padding":"valid"}"#)
        let decoded = try SafetensorsFile.decode(file.encode(), fileName: "c")
        #expect(try decoded.metadataJSON("model_config", as: Config.self) == Config(channels: [32, 64], padding: "valid"))
        file.metadata["model_config"] = "{\"channels\": 3}"
        #expect {
            try file.metadataJSON("model_config", as: Config.self)
        } throws: { error in
            guard case let .badMetadata(_, key, _) = error as? CheckpointError else { return false }
            return key == "model_config"
        }
    }

    // MARK: - Files and atomic writing

    @Test func writeThenReadAndNoTemporaryFileLeft() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/model.safetensors"
        let file = Self.sampleFile()
        try file.write(to: path)
        var read = try SafetensorsFile.read(from: path)
        #expect(read.source == path)
        read.source = file.source
        #expect(read == file)
        // Overwrite with other contents: replaced whole, still no stray file.
        let other = SafetensorsFile(namedTensors: [("x", Tensor(shape: [1], scalars: [1]))])
        try other.write(to: path)
        #expect(try SafetensorsFile.read(from: path) == other)
        #expect(try directory.contents() == ["model.safetensors"])
    }

    @Test(arguments: [AtomicWriteStep.write, .rename])
    func failedWriteLeavesOldFileIntactAndNoTemporary(step: AtomicWriteStep) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/model.safetensors"
        let old = SafetensorsFile(namedTensors: [("old", Tensor(shape: [2], scalars: [1, 2]))])
        try old.write(to: path)
        let oldBytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect {
            try writeAtomically(Self.sampleFile().encode(), to: path, simulatedFailure: step)
        } throws: { error in
            guard case let .writeFailed(file, reason) = error as? CheckpointError else { return false }
            return file == path && (reason.contains("simulated") || reason.contains("rename"))
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == oldBytes)
        #expect(try directory.contents() == ["model.safetensors"])
    }

    @Test func writeIntoMissingOrUnwritableDirectoryFails() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.path + "/no/such/dir/model.safetensors"
        #expect {
            try Self.sampleFile().write(to: missing)
        } throws: { error in
            guard case let .writeFailed(file, _) = error as? CheckpointError else { return false }
            return file == missing && (error as? CheckpointError)?.description.contains(missing) == true
        }
        // A path that is a directory.
        #expect(throws: CheckpointError.isDirectory(file: directory.path)) {
            try Self.sampleFile().write(to: directory.path)
        }
        // A read-only directory (permissions do not bind root, so only checked for other users).
        if geteuid() != 0 {
            let locked = directory.path + "/locked"
            try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false,
                                                    attributes: [.posixPermissions: 0o500])
            defer { chmod(locked, 0o700) }
            #expect(throws: CheckpointError.self) { try Self.sampleFile().write(to: locked + "/m.safetensors") }
        }
    }
}

/// A fresh directory under the system's temporary directory, removed when the value is released.
final class TemporaryDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "/robust-mri-safetensors-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// Hand-made safetensors bytes, for the cases `encode()` never produces.
enum SafetensorsBytes {
    /// 8-byte little-endian `length` (default: the header's byte count), the header, the buffer.
    static func file(header: String, buffer: [UInt8], length: UInt64? = nil) -> [UInt8] {
        let headerBytes = Array(header.utf8)
        let n = length ?? UInt64(headerBytes.count)
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> (8 * UInt64($0))) } + headerBytes + buffer
    }
}
