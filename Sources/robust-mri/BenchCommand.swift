import ArgumentParser
import Experiments
import Foundation
import NN

/// `robust-mri bench`: training and inference throughput of the CNN (argument parsing and printing only).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure CNN training and inference images/second, GFLOP/s and peak memory.",
        discussion: """
            Runs every combination of --variants, --sizes and --threads, each in a fresh child process \
            (so peak memory is per configuration), with a batch of 32 random images. Training is forward + \
            backward + Adam step; GFLOP/s counts convolution and linear FLOPs of training against a \
            1024-square sgemm measured at the same thread count. The child processes keep freed memory \
            (AllocatorTuning.retainFreedMemory), as training should. Build with -c release for meaningful figures. \
            With --torch, each configuration is also run in PyTorch (python3 tools/bench_torch.py: the same CNN, batch, \
            threads, warm-up and timed iterations; images/s from the median batch on both sides), right after ours, \
            and one table gives both and their ratio.
            """)

    @Option(name: .customLong("variants"), parsing: .upToNextOption, help: ArgumentHelp(
        "Variants: authors (5x5 valid), same3x3 (3x3 same), \(ListSyntax.note) (default: same3x3 authors).", valueName: "variant"),
            transform: { try ListSyntax.items($0, option: "--variants") })
    var variantLists: [[Bench.Variant]] = []

    @Option(name: .customLong("sizes"), parsing: .upToNextOption, help: ArgumentHelp(
        "Image sizes in pixels, \(ListSyntax.note) (default: 64 128 256).", valueName: "pixels"),
            transform: { try ListSyntax.items($0, option: "--sizes") })
    var sizeLists: [[Int]] = []

    @Option(name: .customLong("threads"), parsing: .upToNextOption, help: ArgumentHelp(
        "Thread counts, \(ListSyntax.note) (default: 1 2).", valueName: "count"),
            transform: { try ListSyntax.items($0, option: "--threads") })
    var threadLists: [[Int]] = []

    /// --variants, --sizes and --threads, each joined from its words (`ListSyntax`), else the defaults above.
    var variants: [Bench.Variant] { variantLists.isEmpty ? [.same3x3, .authors] : Array(variantLists.joined()) }
    var sizes: [Int] { sizeLists.isEmpty ? [64, 128, 256] : Array(sizeLists.joined()) }
    var threads: [Int] { threadLists.isEmpty ? [1, 2] : Array(threadLists.joined()) }

    @Option(name: .long, help: "Batch size.")
    var batchSize = 32

    @Option(name: .long, help: "Untimed batches before timing.")
    var warmup = 1

    @Option(name: .long, help: "Timed batches.")
    var iterations = 3

    @Flag(name: .long, help: "Print one JSON object per configuration instead of a table.")
    var json = false

    @Flag(name: .long, help: "Also run tools/bench_torch.py (PyTorch) for each configuration and print ours beside it, with the ratio.")
    var torch = false

    @Option(name: .long, help: "PyTorch's bench script (with --torch).")
    var torchScript = "tools/bench_torch.py"

    @Option(name: .long, help: "The Python interpreter that has PyTorch (with --torch).")
    var python = "python3"

    @Option(name: .long, help: .hidden)
    var single: String?

    func validate() throws {
        guard sizes.allSatisfy({ $0 > 0 }), threads.allSatisfy({ $0 > 0 }), batchSize > 1, warmup >= 0, iterations > 0 else {
            throw ValidationError("--sizes, --threads, --iterations must be positive, --batch-size above 1, --warmup not negative.")
        }
    }

    func run() throws {
        if let single {
            AllocatorTuning.retainFreedMemory()
            let setting = try JSONDecoder().decode(Bench.Setting.self, from: Data(single.utf8))
            print(String(decoding: try JSONEncoder().encode(Bench.measure(setting)), as: UTF8.self))
            return
        }
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        if torch { return try runBesideTorch(executable: executable) }
        if !json {
            print("CPU: \(MachineInfo.current().description)")
            print(Bench.header)
        }
        for setting in settings() {
            let result = try Bench.measureInChildProcess(setting, executable: executable, arguments: ["bench", "--single"])
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                print(Bench.formatted(result))
            }
            fflush(nil)
        }
        if !json { print(Bench.recipeNote) }
    }
}

extension BenchCommand {
    /// `--torch`: per configuration ours, then PyTorch's, then one row with both and the ratios.
    func runBesideTorch(executable: URL) throws {
        var torchVersion: String?
        do {
            torchVersion = try TorchBench.availableVersion(python: python, script: torchScript)
        } catch {
            print("\(error)")
            print("Printing RobustMRI's figures only.")
        }
        let machine = MachineInfo.current()
        print("CPU: \(machine.cpu) (\(TorchBench.processorIdentity() ?? "unknown family"), \(machine.cores) cores); "
              + "OpenBLAS core: \(machine.blasKernels ?? "unknown"); our kernel path: \(machine.kernelISA ?? "unknown")")
        print("PyTorch: \(torchVersion ?? "not available"); batch \(batchSize), warm-up \(warmup), median of \(iterations) timed batches; "
              + "training = forward + backward + Adam step; load average: \(loadAverage())")
        print(TorchBench.header)
        for setting in settings() {
            let ours = try Bench.measureInChildProcess(setting, executable: executable, arguments: ["bench", "--single"])
            var theirs: TorchBench.Result?
            if torchVersion != nil {
                do {
                    theirs = try TorchBench.measure(setting, python: python, script: torchScript)
                } catch {
                    FileHandle.standardError.write(Data("\(error)\n".utf8))
                }
            }
            print(TorchBench.formatted(ours, theirs))
            fflush(nil)
        }
        print("ratio: ours / PyTorch's images per second (above 1: ours is faster).")
    }

    /// Every combination of --variants, --sizes and --threads, in that order, but sizes a variant cannot take (said on
    /// standard error).
    private func settings() -> [Bench.Setting] {
        var result: [Bench.Setting] = []
        for variant in variants {
            for size in sizes {
                let minimum = variant.configuration(imageSize: size).minimumImageSize
                if size < minimum {
                    FileHandle.standardError.write(Data("skipping \(variant.rawValue) at \(size) px (needs at least \(minimum))\n".utf8))
                    continue
                }
                for count in threads {
                    result.append(Bench.Setting(variant: variant, imageSize: size, threads: count, batchSize: batchSize,
                                                warmup: warmup, iterations: iterations))
                }
            }
        }
        return result
    }

    /// /proc/loadavg's three averages ("unknown" where unreadable).
    private func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "unknown" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}

extension Bench.Variant: ExpressibleByArgument {}
