import Foundation
import Testing
import Tensor

@Suite struct AtomicFileTests {
    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "atomic-file-tests-\(UInt64.random(in: 0...UInt64.max))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func contents(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
    }

    @Test func writesCreatingParentsAndReplacesWhole() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/a/b/result.json"
        try AtomicFile.write("first, a longer text", to: path)
        #expect(try AtomicFile.read(path) == Array("first, a longer text".utf8))
        try AtomicFile.write("second", to: path)
        #expect(try AtomicFile.read(path) == Array("second".utf8))
        #expect(try contents(root + "/a/b") == ["result.json"])
        #expect(try AtomicFile.read(root + "/missing") == nil)
    }

    @Test(arguments: [AtomicFile.Step.write, .rename])
    func failedStepLeavesOldFileAndNoTemporary(step: AtomicFile.Step) throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/checkpoint.bin"
        try AtomicFile.write([1, 2, 3], to: path)
        #expect {
            try AtomicFile.write([UInt8](repeating: 9, count: 1000), to: path, simulatedFailure: step)
        } throws: { error in
            guard let error = error as? AtomicFile.WriteError else { return false }
            return error.path == path && error.reason.contains("untouched")
        }
        #expect(try AtomicFile.read(path) == [1, 2, 3])
        #expect(try contents(root) == ["checkpoint.bin"])
    }

    @Test func refusesADirectoryAndAMissingParentWhenAsked() throws {
        let root = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect { try AtomicFile.write("x", to: root) } throws: { error in
            (error as? AtomicFile.WriteError)?.kind == .isDirectory
        }
        #expect { try AtomicFile.write([1], to: root + "/no/such/file", creatingDirectories: false, simulatedFailure: nil) } throws: { error in
            guard let error = error as? AtomicFile.WriteError else { return false }
            return error.kind == .system && error.reason.contains("No such file")
        }
        try AtomicFile.write("a file", to: root + "/plain")
        #expect { try AtomicFile.write("x", to: root + "/plain/inner/file") } throws: { error in
            (error as? AtomicFile.WriteError)?.kind == .notADirectory
        }
        #expect(try contents(root) == ["plain"])
    }
}
