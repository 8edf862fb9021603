import ArgumentParser
import Experiments
import Foundation

/// The grid planned in an output directory's plan.json, as `compare --status` and `compare --report-only` read it:
/// `--out` names the grid, so its options need not be given again; options that describe another grid are noted
/// on standard error with what differs.
struct PlannedGrid {
    /// The planned grid.
    let configuration: CompareConfiguration
    let planPath: String

    /// Reads `outDirectory`'s plan.json for `purpose` (e.g. "status"); `given` is the grid the options describe,
    /// compared with the plan when `optionsGiven` (options beyond --preset and --out). With `selectionFromOptions`, a
    /// given grid of the plan's runs (other methods, noises or seeds only, e.g. a subset to report) is used as given.
    init(outDirectory: String, given: CompareConfiguration, optionsGiven: Bool, purpose: String,
         selectionFromOptions: Bool = false) throws {
        planPath = GridRunner(configuration: given, outDirectory: outDirectory).planPath
        guard FileManager.default.fileExists(atPath: planPath) else {
            throw ValidationError("\(planPath) does not exist: no grid has been started in \(outDirectory). Run `robust-mri compare` with the grid's options and --out \(outDirectory) first (or give the --out of an existing grid)")
        }
        let planned = try SlurmTask.loadPlan(planPath)
        let differences = GridRunner.differences(planned, given)
        configuration = optionsGiven && selectionFromOptions && differences.isEmpty ? given : planned
        guard optionsGiven, configuration != given else { return }
        var notes = differences.map { "  \($0)" }
        if configuration.methods != given.methods || configuration.noises.map(\.name) != given.noises.map(\.name) || configuration.seeds != given.seeds {
            notes.append("  the options select methods, noises or seeds other than the plan's")
        }
        guard !notes.isEmpty else { return }
        FileHandle.standardError.write(Data("""
            note: this is the \(purpose) of the grid planned in \(planPath); the options given describe another (running \
            compare with them extends the grid where only methods, noises or seeds differ, and refuses otherwise):
            \(notes.joined(separator: "\n"))

            """.utf8))
    }

    /// One line: the plan's runs, methods, noises and seeds.
    var summary: String {
        "the grid planned in \(planPath): \(configuration.plan().count) runs (methods \(configuration.methods.map(\.rawValue).joined(separator: " ")); noises \(configuration.noises.map(\.name).joined(separator: " ")); seeds \(configuration.seeds.map(String.init).joined(separator: " ")))"
    }
}
