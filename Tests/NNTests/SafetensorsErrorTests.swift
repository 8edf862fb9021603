import Foundation
import Testing
@testable import NN

/// Every malformed file is a typed `CheckpointError` naming the file and the problem, never a crash.
@Suite struct SafetensorsErrorTests {
    static let name = "broken.safetensors"

    /// Decodes `bytes` expecting an error for which `matches` holds; checks the message names the file.
    func expectDecodeError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation,
                           _ matches: (CheckpointError) -> Bool) {
        do {
            let file = try SafetensorsFile.decode(bytes, fileName: Self.name)
            Issue.record("decoded \(file.names) instead of failing", sourceLocation: sourceLocation)
        } catch {
            #expect(matches(error), "unexpected error: \(error)", sourceLocation: sourceLocation)
            #expect(error.description.contains(Self.name), "message does not name the file: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// A header entry.
    static func entry(_ name: String, _ dtype: String = "F32", shape: String = "[2]", offsets: String) -> String {
        #""\#(name)": {"dtype": "\#(dtype)", "shape": \#(shape), "data_offsets": \#(offsets)}"#
    }

    static func header(_ entries: String...) -> String { "{" + entries.joined(separator: ", ") + "}" }

    // MARK: - Truncation and lengths

    @Test func shorterThanTheLengthField() {
        expectDecodeError([]) { if case .truncated = $0 { true } else { false } }
        expectDecodeError([1, 0, 0]) { if case .truncated = $0 { true } else { false } }
    }

    @Test func headerLengthBeyondTheFile() {
        let bytes = SafetensorsBytes.file(header: "{}", buffer: [], length: 100)
        expectDecodeError(bytes) { error in
            guard case let .truncated(_, detail) = error else { return false }
            return detail.contains("100")
        }
    }

    @Test func absurdHeaderLengthIsCapped() {
        for length in [UInt64(SafetensorsFile.headerLengthLimit) + 1, 1 << 40, .max] {
            expectDecodeError(SafetensorsBytes.file(header: "{}", buffer: [], length: length)) { error in
                guard case let .headerTooLarge(_, found, limit) = error else { return false }
                return found == length && limit == SafetensorsFile.headerLengthLimit
            }
        }
    }

    @Test func dataShorterThanTheOffsets() {
        let header = Self.header(Self.entry("a", offsets: "[0, 8]"))
        expectDecodeError(SafetensorsBytes.file(header: header, buffer: [0, 0, 0, 0])) { error in
            guard case let .truncated(_, detail) = error else { return false }
            return detail.contains("8") && detail.contains("4")
        }
    }

    // MARK: - The JSON header

    @Test(arguments: [
        "{not json", "", "[1, 2]", "{\"a\": 3}", "{\"a\": {\"shape\": [1], \"data_offsets\": [0, 4]}}",
        "{\"__metadata__\": {\"k\": 1}}", "{\"__metadata__\": [\"k\"]}",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [true], \"data_offsets\": [0, 4]}}",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": \"1\", \"data_offsets\": [0, 4]}}",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4, 8]}}",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 99999999999999999999999]}}",
        "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}", // unclosed
        "\u{FF}\u{FE}",
    ])
    func corruptHeader(header: String) {
        expectDecodeError(SafetensorsBytes.file(header: header, buffer: [0, 0, 0, 0])) { error in
            if case .corruptHeader = error { true } else { false }
        }
    }

    @Test func invalidUTF8Header() {
        let bytes: [UInt8] = [4, 0, 0, 0, 0, 0, 0, 0, UInt8(ascii: "{"), 0xFF, 0xFE, UInt8(ascii: "}")]
        expectDecodeError(bytes) { if case .corruptHeader = $0 { true } else { false } }
    }

    @Test func unknownDType() {
        let header = Self.header(Self.entry("w", "BF16", offsets: "[0, 4]"))
        expectDecodeError(SafetensorsBytes.file(header: header, buffer: [0, 0, 0, 0])) { error in
            error == .unknownDType(file: Self.name, tensor: "w", dtype: "BF16")
        }
    }

    @Test func shapeProductDoesNotMatchByteLength() {
        let header = Self.header(Self.entry("w", shape: "[3]", offsets: "[0, 8]"))
        expectDecodeError(SafetensorsBytes.file(header: header, buffer: [UInt8](repeating: 0, count: 8))) { error in
            error == .shapeMismatch(file: Self.name, tensor: "w", shape: [3], dtype: "F32", byteCount: 8)
        }
        // A shape whose product overflows Int.
        let huge = Self.header(Self.entry("w", shape: "[4294967296, 4294967296]", offsets: "[0, 8]"))
        expectDecodeError(SafetensorsBytes.file(header: huge, buffer: [UInt8](repeating: 0, count: 8))) { error in
            if case .shapeMismatch = error { true } else { false }
        }
    }

    // MARK: - Offsets

    @Test func overlappingOffsets() {
        let header = Self.header(Self.entry("a", offsets: "[0, 8]"), Self.entry("b", offsets: "[4, 12]"))
        expectDecodeError(SafetensorsBytes.file(header: header, buffer: [UInt8](repeating: 0, count: 12))) { error in
            guard case let .badOffsets(_, detail) = error else { return false }
            return detail.contains("overlaps")
        }
    }

    @Test func gapBetweenTensors() {
        let header = Self.header(Self.entry("a", offsets: "[0, 8]"), Self.entry("b", offsets: "[12, 20]"))
        expectDecodeError(SafetensorsBytes.file(header: header, buffer: [UInt8](repeating: 0, count: 20))) { error in
            guard case let .badOffsets(_, detail) = error else { return false }
            return detail.contains("gap")
        }
    }

    @Test func firstTensorNotAtStart() {
        let header = Self.header(Self.entry("a", offsets: "[4, 12]"))
        expectDecodeError(SafetensorsBytes.file(header: header, buffer: [UInt8](repeating: 0, count: 12))) { error in
            if case .badOffsets = error { true } else { false }
        }
    }

    @Test func endBeforeBegin() {
        let header = Self.header(Self.entry("a", shape: "[0]", offsets: "[8, 0]"))
        expectDecodeError(SafetensorsBytes.file(header: header, buffer: [UInt8](repeating: 0, count: 8))) { error in
            if case .badOffsets = error { true } else { false }
        }
    }

    @Test func trailingBytesNotCovered() {
        let header = Self.header(Self.entry("a", offsets: "[0, 8]"))
        expectDecodeError(SafetensorsBytes.file(header: header, buffer: [UInt8](repeating: 0, count: 11))) { error in
            guard case let .badOffsets(_, detail) = error else { return false }
            return detail.contains("3 trailing")
        }
    }

    /// Truncating a valid file at every length gives an error, never a crash or a wrong file.
    @Test func everyTruncationOfAValidFileFails() {
        let bytes = SafetensorsTests.sampleFile().encode()
        for length in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: CheckpointError.self) { try SafetensorsFile.decode(Array(bytes[..<length]), fileName: "cut") }
        }
    }

    // MARK: - Files

    @Test func missingFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/absent.safetensors"
        #expect(throws: CheckpointError.fileNotFound(file: path)) { try SafetensorsFile.read(from: path) }
        #expect(CheckpointError.fileNotFound(file: path).description.contains(path))
    }

    @Test func directoryGivenAsFile() throws {
        let directory = try TemporaryDirectory()
        #expect(throws: CheckpointError.isDirectory(file: directory.path)) { try SafetensorsFile.read(from: directory.path) }
    }

    @Test func corruptFileOnDiskNamesThePath() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/model.safetensors"
        try Data("not a checkpoint at all".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try SafetensorsFile.read(from: path)
            Issue.record("read a corrupt file")
        } catch {
            #expect(error.description.contains(path))
        }
    }

    @Test func everyMessageNamesTheFileAndSaysWhatToDo() {
        let errors: [CheckpointError] = [
            .fileNotFound(file: "F"), .isDirectory(file: "F"), .readFailed(file: "F", reason: "r"),
            .writeFailed(file: "F", reason: "r"), .truncated(file: "F", detail: "d"),
            .headerTooLarge(file: "F", length: 1, limit: 0), .corruptHeader(file: "F", detail: "d"),
            .unknownDType(file: "F", tensor: "t", dtype: "X"),
            .shapeMismatch(file: "F", tensor: "t", shape: [1], dtype: "F32", byteCount: 2),
            .badOffsets(file: "F", detail: "d"), .missingTensor(file: "F", tensor: "t"),
            .wrongDType(file: "F", tensor: "t", expected: "F32", found: "I64"),
            .wrongShape(file: "F", tensor: "t", expected: [1], found: [2]),
            .badMetadata(file: "F", key: "k", detail: "d"), .badValues(file: "F", tensor: "t", detail: "d"),
        ]
        for error in errors {
            #expect(error.description.hasPrefix("checkpoint F: "), "\(error)")
            #expect(error.description.split(separator: ".").count >= 2, "no advice in: \(error)")
        }
    }
}
