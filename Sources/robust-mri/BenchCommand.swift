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
            (AllocatorTuning.retainFreedMemory), as training should. Build with -c release for meaningful figures.
            """)

    @Option(name: .long, parsing: .upToNextOption, help: "Variants: authors (5x5 valid), same3x3 (3x3 same).")
    var variants: [Bench.Variant] = [.same3x3, .authors]

    @Option(name: .long, parsing: .upToNextOption, help: "Image sizes in pixels.")
    var sizes: [Int] = [64, 128, 256]

    @Option(name: .long, parsing: .upToNextOption, help: "Thread counts.")
    var threads: [Int] = [1, 2]

    @Option(name: .long, help: "Batch size.")
    var batchSize = 32

    @Option(name: .long, help: "Untimed batches before timing.")
    var warmup = 1

    @Option(name: .long, help: "Timed batches.")
    var iterations = 3

    @Flag(name: .long, help: "Print one JSON object per configuration instead of a table.")
    var json = false

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
        if !json {
            print("CPU: \(MachineInfo.current().description)")
            print(Bench.header)
        }
        for variant in variants {
            for size in sizes {
                let minimum = variant.configuration(imageSize: size).minimumImageSize
                if size < minimum {
                    FileHandle.standardError.write(Data("skipping \(variant.rawValue) at \(size) px (needs at least \(minimum))\n".utf8))
                    continue
                }
                for count in threads {
                    let setting = Bench.Setting(variant: variant, imageSize: size, threads: count, batchSize: batchSize,
                                                warmup: warmup, iterations: iterations)
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
            }
        }
        if !json { print(Bench.recipeNote) }
    }
}

extension Bench.Variant: ExpressibleByArgument {}
