import Experiments
import Foundation
import FuzzSupport
import RobustTraining

/// The JSON settings files: a run's `config.json` (`RunSettings`: data settings and the training
/// configuration, which checkpoints also carry) decoded and validated as the commands do, and a grid's
/// `plan.json` (`CompareConfiguration`) read as a Slurm task reads it (`SlurmTask.loadPlan`), expanded
/// into its runs, each validated, and compared with a preset as a rerun of `compare` does
/// (`GridRunner.preparePlan`). Seeds: Fuzz/Corpus/settings (config.json and plan.json of each preset).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSettings(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    if let settings = try? JSONCoding.decoder.decode(RunSettings.self, from: Data(bytes)) {
        _ = try? settings.training.validate()
        _ = try? settings.data.phantom.validate()
    }
    let out = (Scratch.folder as NSString).appendingPathComponent("grid")
    let planPath = Scratch.write(bytes, to: "grid/plan.json")
    if let plan = try? SlurmTask.loadPlan(planPath) {
        for planned in plan.plan() { _ = try? planned.settings.training.validate() }
    }
    _ = try? GridRunner(configuration: .quick(), outDirectory: out).preparePlan()
    return 0
}
