import Experiments
import Foundation
import Testing

/// The README's first commands as a newcomer copies them: runnable as written from a fresh clone.
@Suite(.serialized) struct ReadmeCommandsTests {
    static func readme() throws -> [String] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// Lines of the README's ```bash blocks among its first `count` lines, with their line numbers (1-based).
    static func commandLines(_ lines: [String], first count: Int) -> [(number: Int, text: String)] {
        var inBlock = false
        var commands: [(Int, String)] = []
        for (index, line) in lines.prefix(count).enumerated() {
            if line.hasPrefix("```") { inBlock = line == "```bash"; continue }
            if inBlock { commands.append((index + 1, line)) }
        }
        return commands
    }

    /// Every bare `robust-mri` command of the README comes after the set-up line that puts the built tool on PATH
    /// (the first ones were within its first 60 lines, before anything said how to run it).
    @Test func theFirstCommandsFindTheTool() throws {
        let lines = try Self.readme()
        let commands = Self.commandLines(lines, first: lines.count)
        let bare = commands.filter { $0.text.hasPrefix("robust-mri ") }
        try #require(!bare.isEmpty, "no robust-mri command in the README")
        let path = try #require(commands.first { $0.text.contains("export PATH=") && $0.text.contains("--show-bin-path") },
                                "no line puts robust-mri on PATH before its first use")
        for command in bare {
            #expect(command.number > path.number, "README line \(command.number) runs robust-mri before line \(path.number) puts it on PATH")
        }
    }

    /// The first-run example (train, evaluate, influence on phantoms) runs as written, influence included.
    @Test func theFirstRunExampleRunsAsWritten() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let lines = try Self.readme()
        let start = try #require(lines.firstIndex { $0.hasPrefix("# A first run") }, "the README has no first-run example")
        let example = lines[(start + 1)...].prefix { $0.hasPrefix("robust-mri ") }
        #expect(example.count == 3 && example.contains { $0.hasPrefix("robust-mri influence") }, "\(example)")
        let folder = try temporaryFolder("readme")
        defer { try? FileManager.default.removeItem(at: folder) }
        for line in example {
            let result = try cli.run(line.split(separator: " ").dropFirst().map(String.init), in: folder)
            #expect(result.status == 0, "\(line)\n\(result.transcript)")
        }
    }

    /// Every state `compare --status` shows is described where the README and docs/cluster.md describe the states
    /// (`started` was shown but described nowhere).
    @Test func everyStatusStateIsDescribed() throws {
        let readme = try Self.readme().joined(separator: " ")
        let sentence = try #require(readme.range(of: "`--status` shows what of the grid planned in `OUT/plan.json` is"), "no --status sentence")
        let described = String(readme[sentence.upperBound...].prefix(600))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let cluster = try String(contentsOf: root.appendingPathComponent("docs/cluster.md"), encoding: .utf8)
        for state in GridStatus.State.allCases {
            #expect(described.contains(state.rawValue), "the README's --status sentence does not name '\(state.rawValue)': \(described)")
            #expect(cluster.contains("*\(state.rawValue)*"), "docs/cluster.md does not describe '\(state.rawValue)'")
        }
    }
}
