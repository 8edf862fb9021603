import ArgumentParser
import MRIData

/// `robust-mri probe-mat` (hidden): the child process of `MATProbe`, which reads `.mat` files so that a crash inside
/// libhdf5 ends this process, not the run that started it.
struct MATProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe-mat",
        abstract: "Read .mat files as a load would, in a child process of the load (used by the .mat reader).",
        shouldDisplay: false)

    @Option(name: .long, help: "A file listing the .mat paths, one a line.") var list: String
    @Option(name: .long, help: "A file to write each path's 0-based line number to before reading it.") var progress: String

    func run() throws {
        try MATProbe.runChild(list: list, progress: progress)
    }
}
