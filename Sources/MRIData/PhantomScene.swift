import Foundation
import Tensor

/// One synthetic axial slice: head anatomy, one tumour, distractor blobs; rendered to pixels.
///
/// Geometry lives in "head coordinates": the image square is [-1, 1]^2 (x = column, y = row, downward),
/// the head is an ellipse of semi-axes (a, b), rotated by `rotation` and shifted by `shift`. With
/// p the head-frame point and rho = sqrt((p_x / a)^2 + (p_y / b)^2), the layers are, from outside in:
/// air (rho > 1), bright scalp, dark bone, dark CSF gap, cortex (grey), white matter (brighter, T1),
/// lateral ventricles (dark CSF). Intensities are multiplied by a smooth bias field at the end.
struct PhantomScene {
    struct Wave { var fx, fy, phase, amplitude: Double }

    // Head.
    var a, b, rotation, shiftX, shiftY: Double
    var gyri: Int, gyriPhase, gyriAmplitude: Double
    var greyLevel, whiteLevel, scalpLevel: Double
    var texture: [Wave]
    var bias: (x: Double, y: Double, quadratic: Double)
    var ventricleScale: Double

    // Tumour (head frame), nil for none.
    var tumour: PhantomTumour?
    // Distractors: small bright blobs inside the brain (vessels, choroid plexus, fat).
    var blobs: [(x: Double, y: Double, radius: Double, level: Double)]
    // Mimics: smaller, fainter look-alikes of another class's tumour; drawn, never in the mask.
    var mimics: [PhantomTumour] = []

    static let brainEdge = 0.875, csfEdge = 0.905, boneEdge = 0.95

    /// Smooth step from 0 (t <= -w) to 1 (t >= w).
    @inline(__always) static func step(_ t: Double, _ w: Double) -> Double {
        let s = Swift.min(Swift.max((t + w) / (2 * w), 0), 1)
        return s * s * (3 - 2 * s)
    }

    /// Renders intensity (unnormalised, >= 0) and the 0/1 tumour mask, S x S row-major.
    func render(size: Int) -> (image: [Float], mask: [Float]) {
        var image = [Float](repeating: 0, count: size * size)
        var mask = [Float](repeating: 0, count: size * size)
        let w = 1.5 / Double(size)  // edge softness: about a pixel
        let cosR = cos(rotation), sinR = sin(rotation)
        for row in 0..<size {
            for col in 0..<size {
                let qx = (Double(col) + 0.5) / Double(size) * 2 - 1
                let qy = (Double(row) + 0.5) / Double(size) * 2 - 1
                let dx = qx - shiftX, dy = qy - shiftY
                let px = cosR * dx + sinR * dy, py = -sinR * dx + cosR * dy
                let (value, inside) = intensity(px: px, py: py, w: w)
                let field = 1 + bias.x * qx + bias.y * qy + bias.quadratic * (qx * qx + qy * qy)
                image[row * size + col] = Float(Swift.max(0, value * field))
                mask[row * size + col] = inside ? 1 : 0
            }
        }
        return (image, mask)
    }

    /// Intensity at head-frame point p, and whether p is inside the tumour.
    func intensity(px: Double, py: Double, w: Double) -> (Double, Bool) {
        let rho = ((px / a) * (px / a) + (py / b) * (py / b)).squareRoot()
        let scale = Swift.min(a, b)
        let phi = atan2(py, px)
        // Layers, outside in; each blends over ~ a pixel (w / scale in rho units).
        let e = w / scale
        var v = scalpLevel * Self.step(1 - rho, e)
        v += (0.10 - v) * Self.step(Self.boneEdge - rho, e)
        v += (0.16 - v) * Self.step(Self.csfEdge - rho, e)
        let sulcus = 0.012 * sin(Double(gyri) * phi + gyriPhase) + 0.008 * sin(Double(2 * gyri + 3) * phi + 2 * gyriPhase)
        let brain = Self.step(Self.brainEdge + sulcus - rho, e)
        let whiteEdge = 0.72 + gyriAmplitude * sin(Double(gyri) * phi + gyriPhase)
            + 0.6 * gyriAmplitude * sin(Double(2 * gyri + 3) * phi + 2 * gyriPhase) + 0.02 * sin(3 * phi + 2 * gyriPhase)
        var tissue = greyLevel + (whiteLevel - greyLevel) * Self.step(whiteEdge - rho, e)
        // Lateral ventricles: two tilted ellipses either side of the midline, a butterfly of CSF.
        for side in [-1.0, 1.0] {
            let cx = side * 0.11 * ventricleScale * a, cy = -0.04 * b
            let tilt = -side * 0.3
            let ux = cos(tilt) * (px - cx) + sin(tilt) * (py - cy)
            let uy = -sin(tilt) * (px - cx) + cos(tilt) * (py - cy)
            let r = ((ux / (0.06 * ventricleScale * a)) * (ux / (0.06 * ventricleScale * a))
                     + (uy / (0.24 * ventricleScale * b)) * (uy / (0.24 * ventricleScale * b))).squareRoot()
            tissue += (0.14 - tissue) * Self.step(1 - r, e * 3)
        }
        var wobble = 1.0
        for wave in texture { wobble += wave.amplitude * cos(wave.fx * px + wave.fy * py + wave.phase) }
        tissue *= wobble
        for blob in blobs {
            let d = ((px - blob.x) * (px - blob.x) + (py - blob.y) * (py - blob.y)).squareRoot()
            tissue += (blob.level - tissue) * Self.step(blob.radius - d, w)
        }
        v += (tissue - v) * brain
        for mimic in mimics { v = mimic.shade(tissue: v, px: px, py: py, w: w, rho: rho).0 }
        guard let tumour else { return (v, false) }
        return tumour.shade(tissue: v, px: px, py: py, w: w, rho: rho)
    }
}

/// A tumour in head coordinates: a star-shaped region r(theta) = radius (1 + sum_k a_k sin(k theta + phi_k)),
/// shaded by class:
/// - meningioma: homogeneous bright enhancement, smooth outline, kept inside the skull's inner table;
/// - glioma: enhancing rim around a dark necrotic core (unless `necrotic` is false), irregular outline,
///   surrounded by darker oedema out to `oedemaExtent` radii;
/// - pituitary: small, homogeneous bright, round.
/// `contrast` (0...1) blends the tumour's levels toward the surrounding tissue.
struct PhantomTumour {
    var kind: TumourClass
    var x, y, radius: Double
    var harmonics: [(k: Double, amplitude: Double, phase: Double)]
    var level: Double
    var coreLevel: Double
    var rimFraction: Double
    var necrotic: Bool
    var oedemaExtent: Double
    var oedemaFactor: Double
    var contrast: Double

    /// Tissue intensity with the tumour drawn over it, and whether p is inside the tumour.
    func shade(tissue: Double, px: Double, py: Double, w: Double, rho: Double) -> (Double, Bool) {
        let dx = px - x, dy = py - y
        let distance = (dx * dx + dy * dy).squareRoot()
        if distance > radius * Swift.max(2.2, oedemaExtent + 0.6) { return (tissue, false) }
        let theta = atan2(dy, dx)
        var outline = 1.0
        for h in harmonics { outline += h.amplitude * sin(h.k * theta + h.phase) }
        let r = radius * outline
        let t = distance / r
        var value = tissue
        if kind == .glioma && oedemaExtent > 1 {
            let oedema = PhantomScene.step(oedemaExtent - t, 0.25)
            value *= 1 - (1 - oedemaFactor) * oedema
        }
        var target = level
        if kind == .glioma && necrotic {
            target = coreLevel + (level - coreLevel) * PhantomScene.step(t - (1 - rimFraction), w / r)
        }
        target = value + (target - value) * contrast
        var cover = PhantomScene.step(1 - t, w / r)
        // Extra-axial tumours stay within the skull's inner table.
        if kind == .meningioma { cover *= PhantomScene.step(PhantomScene.csfEdge - 0.005 - rho, w) }
        value += (target - value) * cover
        return (value, cover >= 0.5)
    }
}
