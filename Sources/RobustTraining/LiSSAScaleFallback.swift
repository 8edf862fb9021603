import Foundation
import Influence

/// The in-training influence step's way past a fixed LiSSA scale that fails. LiSSA's recursion contracts only
/// while the scale is above the last-layer Hessian's largest eigenvalue; on small or briefly trained models that
/// eigenvalue is often above the authors' 50 (70 on the quick model at 64 px after 3 epochs), and refusing there
/// would waste the T epochs already trained. So ISR and ISP retry with the automatic scale (max(50, 1.5 x the
/// estimated top eigenvalue), doubled on divergence: `--lissa-scale auto`) and say so in a warning recorded with
/// the epoch. The `influence` command, an explicit computation, refuses instead (`InfluenceComputation.fix(for:)`).
enum LiSSAScaleFallback {
    /// `settings` with the automatic LiSSA scale, when `error` is the failure of a fixed one (at or below the top
    /// eigenvalue, or diverging) and the automatic scale is valid with the damping; nil otherwise.
    static func settings(after error: InfluenceError, _ settings: InfluenceSettings) -> InfluenceSettings? {
        guard settings.solver == .lissa, case .fixed = settings.lissaScale else { return nil }
        switch error {
        case .lissaScaleTooSmall, .lissaDiverged: break
        case .cgNotConverged, .nonFinite: return nil
        }
        var automatic = settings
        automatic.lissaScale = .auto
        guard (try? automatic.validate()) != nil else { return nil }
        return automatic
    }

    /// The warning after a fallback: the fixed scale and why it failed, the scale used and the top eigenvalue
    /// (`report`: the automatic solve's), and the options that set a scale explicitly.
    static func warning(after error: InfluenceError, report: InverseHVPReport) -> String {
        let eigenvalue = report.largestEigenvalue.map(number) ?? "unknown"
        let fixed: Double, needed: Double, reason: String
        switch error {
        case let .lissaScaleTooSmall(scale, _, neededScale):
            (fixed, needed) = (scale, neededScale)
            reason = "is not above the last-layer Hessian's largest eigenvalue \(eigenvalue), so LiSSA would diverge"
        case let .lissaDiverged(step, scale, neededScale):
            (fixed, needed) = (scale, neededScale)
            reason = "made LiSSA diverge at step \(step) (mini-batch Hessians exceed it; the Hessian's largest eigenvalue is \(eigenvalue))"
        case .cgNotConverged, .nonFinite:
            preconditionFailure("LiSSAScaleFallback.warning: \(error) is not a LiSSA scale failure")
        }
        let used = report.lissaScale ?? needed
        return "the LiSSA scale \(number(fixed)) \(reason): the influence step used the automatic scale \(number(used)) instead "
            + "(as --lissa-scale auto). Set the scale explicitly with --lissa-scale auto, or --lissa-scale "
            + "\(Int(Swift.max(needed, used).rounded(.up))) or more (--solver cg or exact need no scale)"
    }

    /// 50, 70.02, 105.5: four significant digits.
    static func number(_ value: Double) -> String { String(format: "%.4g", value) }
}
