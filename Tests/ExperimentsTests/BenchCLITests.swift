import Foundation
import Testing

/// `bench --torch`: ours beside PyTorch's figures in one table, with the settings passed to `tools/bench_torch.py`
/// unchanged, and ours alone (with the reason) when PyTorch cannot run. A stand-in interpreter plays PyTorch: it
/// answers the version check and prints one JSON line, as the real script does, and records its arguments.
@Suite(.serialized) struct BenchCLITests {
    static let tinyBench = ["bench", "--torch", "--variants", "same3x3", "--sizes", "32", "--threads", "1",
                            "--warmup", "0", "--iterations", "1"]

    @Test func torchSideIsRunWithTheSameSettingsAndTheRatioIsOursOverItsFigure() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("bench-torch")
        defer { try? FileManager.default.removeItem(at: folder) }
        let fake = folder.appendingPathComponent("fake-python"), calls = folder.appendingPathComponent("calls.txt")
        let json = #"{"variant":"3x3-same","image_size":32,"threads":1,"batch":32,"train_images_per_s":10.0,"infer_images_per_s":20.0,"peak_rss_mib":1.0,"torch_version":"9.9-fake"}"#
        try """
            #!/bin/sh
            echo "$@" >> "\(calls.path)"
            if [ "$1" = "-c" ]; then echo "9.9-fake"; exit 0; fi
            echo '\(json)'
            """.write(to: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake.path)
        let result = try cli.run(Self.tinyBench + ["--python", fake.path, "--torch-script", fake.path], in: folder)
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.output.contains("PyTorch: 9.9-fake"), "\(result.transcript)")
        #expect(result.output.contains("OpenBLAS core:"), "\(result.transcript)")
        let recorded = (try? String(contentsOf: calls, encoding: .utf8)) ?? ""
        #expect(recorded.contains("--variants 3x3-same --sizes 32 --threads 1 --batch 32 --warmup 0 --iterations 1"), "\(recorded)")
        // The row: ours, 10.0, ours / 10.0; then ours, 20.0, ours / 20.0.
        let row = result.output.split(separator: "\n").first { $0.hasPrefix("same3x3") }.map(String.init) ?? ""
        let numbers = row.split(separator: " ").compactMap { Double($0.hasSuffix("x") ? $0.dropLast() : $0) }
        #expect(numbers.count >= 9, "\(row)")
        if numbers.count >= 9 {
            // size, threads, ours, 10, ratio, ours, 20, ratio, ...
            #expect(numbers[3] == 10 && numbers[6] == 20, "\(row)")
            #expect(abs(numbers[4] - numbers[2] / 10) <= 0.006, "\(row)")
            #expect(abs(numbers[7] - numbers[5] / 20) <= 0.006, "\(row)")
        }
    }

    @Test func withoutPyTorchItSaysWhyAndPrintsOursAlone() throws {
        guard let cli = CLI.shared else { print("skipped: \(CLI.missingMessage)"); return }
        let folder = try temporaryFolder("bench-no-torch")
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = folder.appendingPathComponent("bench_torch.py")
        try "".write(to: script, atomically: true, encoding: .utf8)
        let missing = folder.appendingPathComponent("no-such-python").path
        let result = try cli.run(Self.tinyBench + ["--python", missing, "--torch-script", script.path], in: folder)
        #expect(result.status == 0, "\(result.transcript)")
        #expect(result.output.contains("PyTorch side skipped") && result.output.contains(missing), "\(result.transcript)")
        #expect(result.output.contains("PyTorch: not available"), "\(result.transcript)")
        let row = result.output.split(separator: "\n").first { $0.hasPrefix("same3x3") }.map(String.init) ?? ""
        #expect(row.contains("–"), "PyTorch's columns should read –: \(row)")
    }
}
