import ArgumentParser
import Foundation
import MRIData
import NN
import Tensor

@main
struct RobustMRICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "robust-mri",
        abstract: "Train brain-tumour MRI classifiers that stay accurate on noisy training images (ISR, ISP and baselines).",
        subcommands: [CompareCommand.self, TrainCommand.self, EvaluateCommand.self, PredictCommand.self, InfluenceCommand.self,
                      DenoiseCommand.self, BenchCommand.self, SlurmTaskCommand.self, MATProbeCommand.self]
    )

    static func main() {
        // OpenBLAS falls back to SSE3 kernels on CPUs newer than it knows: restart once with the right ones.
        BLAS.reexecutingWithPreferredKernels()
        // The C kernels' instruction-set path: say so when ROBUSTMRI_KERNEL_ISA asks for one that cannot be followed.
        if let warning = KernelISA.environmentWarning() { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        // Training allocates and frees tens of MiB per batch: keep freed memory mapped (see AllocatorTuning).
        AllocatorTuning.retainFreedMemory()
        // A crash inside libhdf5 on a damaged .mat file ends a child process of this one, not the run (MATProbe).
        MATProbe.executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? Bundle.main.executablePath
        var arguments = Array(CommandLine.arguments.dropFirst())
        if let name = arguments.first, let subcommand = configuration.subcommands.first(where: { $0._commandName == name }) {
            do {
                arguments = try ArgumentSyntax.prepared(arguments, options: ArgumentSyntax.options(of: Self.self)[name] ?? [:])
            } catch let error as ValidationError {
                exit(error, usageOf: subcommand)
            } catch {
                exit(withError: error)
            }
        }
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch let error as ValidationError {
            // A configuration error found while running: the usage of the subcommand that ran (every
            // subcommand is one level down), as the parser prints for its own errors; exit(withError:)
            // here would print the root's.
            exit(error, usageOf: type(of: command))
        } catch {
            exit(withError: error)
        }
    }

    /// Prints `error` with the usage of `subcommand`, as the parser prints its own errors, and exits.
    static func exit(_ error: ValidationError, usageOf subcommand: ParsableCommand.Type) -> Never {
        FileHandle.standardError.write(Data("""
            Error: \(error.message)
            Usage: \(usageString(for: subcommand))
              See 'robust-mri \(subcommand._commandName) --help' for more information.

            """.utf8))
        exit(withError: ExitCode.validationFailure)
    }
}
