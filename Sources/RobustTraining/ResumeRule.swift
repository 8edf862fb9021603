/// Which settings may change when a run resumes from its checkpoint: none, except the influence settings
/// (`TrainingConfiguration.influence`: solver, damping, LiSSA scale, depth, batch, repetitions, CG tolerance) while the
/// influence step has not run. Those settings are read once, by ISR's and ISP's step at the start of epoch T + 1;
/// before it the epochs trained are the same whatever they say, so a run stopped at T (a LiSSA scale that failed,
/// a damping to change) continues with new ones instead of training its T epochs again. After the step they decided
/// the weights or images the remaining epochs train on, and a change would make the run a mixture of two.
public enum ResumeRule {
    /// The JSON key of the influence settings inside a `TrainingConfiguration`.
    static let influenceKey = "influence"

    /// Whether a run of `configuration` has computed its influence scores after `completedEpochs` epochs: ISR and ISP
    /// do at the start of epoch T + 1, i.e. once more than T epochs are complete; the other methods never.
    public static func influenceStepHasRun(_ configuration: TrainingConfiguration, completedEpochs: Int) -> Bool {
        switch configuration.method {
        case .isr, .isp: return completedEpochs > configuration.switchEpoch
        case .naive, .at, .n2v: return false
        }
    }

    /// Of `differences` between a stored run's settings and the ones given now (paths with `trainingPrefix` before the
    /// training configuration's keys, e.g. `training`), those that forbid resuming: all of them once the influence step
    /// has run, else all but the influence settings'.
    public static func refused(_ differences: [SettingDifference], trainingPrefix: String,
                               influenceStepHasRun: Bool) -> [SettingDifference] {
        guard !influenceStepHasRun else { return differences }
        return differences.filter { !isInfluenceSetting($0, trainingPrefix: trainingPrefix) }
    }

    /// Whether `difference` is one of the influence settings.
    public static func isInfluenceSetting(_ difference: SettingDifference, trainingPrefix: String) -> Bool {
        let key = trainingPrefix.isEmpty ? influenceKey : "\(trainingPrefix).\(influenceKey)"
        return difference.path == key || difference.path.hasPrefix(key + ".")
    }

    /// The sentence a refusal adds when influence settings are among the differences and the step has run.
    public static func passedNote(_ configuration: TrainingConfiguration, completedEpochs: Int) -> String {
        "the influence settings can change only before the influence step, which ran at the start of epoch "
            + "\(configuration.switchEpoch + 1) (T = \(configuration.switchEpoch)); this run has completed \(completedEpochs) epochs"
    }
}
