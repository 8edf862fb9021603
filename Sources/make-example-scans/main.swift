// make-example-scans: synthetic phantom slices (not real data) written as a folder of DICOM files and a
// manifest of NIfTI volumes, to try the scanner-file loaders end to end (README, "Your own scans").
//
//     swift run -c release make-example-scans OUT [--count N] [--size PIXELS] [--seed S]
//
// OUT/dicom/{Training,Testing}/{glioma,meningioma,pituitary}/<n>.dcm: one 12-bit MR slice per file (fold 5
// is Testing), in turn uncompressed, JPEG lossless, JPEG-LS and RLE, every fourth one MONOCHROME1.
// OUT/nifti/patient-<p>.nii.gz: each phantom patient's adjacent slices as one 3D volume (int16 with
// scl_slope 0.5, scl_inter -100), and OUT/nifti/manifest.csv naming each slice (file,label,fold,patient,slice).
import Foundation
import MRIData

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("make-example-scans: \(message)\n".utf8))
    exit(1)
}

var arguments = Array(CommandLine.arguments.dropFirst())
var settings = ["--count": 300, "--size": 64, "--seed": 0]
var out: String?
while let argument = arguments.first {
    arguments.removeFirst()
    if argument == "--help" || argument == "-h" {
        print("usage: make-example-scans OUT [--count N (300)] [--size PIXELS (64)] [--seed S (0)]")
        exit(0)
    } else if settings[argument] != nil {
        guard let value = arguments.first.flatMap(Int.init), value >= 0 else { fail("\(argument) needs a whole number") }
        settings[argument] = value
        arguments.removeFirst()
    } else if out == nil, !argument.hasPrefix("-") {
        out = argument
    } else {
        fail("unknown argument \(argument); see --help")
    }
}
guard let out else { fail("name the output folder; see --help") }
let count = settings["--count"] ?? 300, size = settings["--size"] ?? 64
guard count >= 20, (8...1024).contains(size) else { fail("--count must be at least 20 and --size in 8...1024") }

do {
    let phantoms = try PhantomGenerator(PhantomConfiguration(
        count: count, patients: max(4, count / 5), imageSize: size, seed: UInt64(settings["--seed"] ?? 0))).generate()
    let area = size * size
    let folds = phantoms.folds ?? [Int](repeating: 1, count: phantoms.count)
    let patients = phantoms.patientIDs ?? phantoms.sourceIDs.map(String.init)
    /// Image i on a 12-bit scanner scale: 20...4020.
    func stored(_ i: Int) -> [UInt16] {
        phantoms.images.scalars[(i * area)..<((i + 1) * area)].map { UInt16(($0 * 4000).rounded()) + 20 }
    }

    let syntaxes: [ScanWriter.DICOMTransferSyntax] = [.explicitLittleEndian, .jpegLossless, .jpegLSLossless, .rleLossless]
    for i in 0..<phantoms.count {
        let className = TumourClass(rawValue: phantoms.labels[i])?.name ?? "glioma"
        let folder = "\(out)/dicom/\(folds[i] == 5 ? "Testing" : "Training")/\(className)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let inverted = i % 4 == 3
        let values = stored(i).map { inverted ? 4095 - $0 : $0 }
        try ScanWriter.writeDICOM(ScanWriter.DICOMSlice(
            width: size, height: size, stored: values, photometricInterpretation: inverted ? "MONOCHROME1" : "MONOCHROME2",
            transferSyntax: syntaxes[i % syntaxes.count]), to: String(format: "%@/%04d.dcm", folder, i))
    }

    try FileManager.default.createDirectory(atPath: "\(out)/nifti", withIntermediateDirectories: true)
    var manifest = "file,label,fold,patient,slice\n"
    var order: [String] = []
    for patient in patients where !order.contains(patient) { order.append(patient) }
    for patient in order {
        let slices = phantoms.labels.indices.filter { patients[$0] == patient }
        let file = "\(patient).nii.gz"
        // Stored s with value = 0.5 s - 100: s = 2 (value + 100).
        let values = slices.flatMap { stored($0).map { 2 * (Float($0) + 100) } }
        try ScanWriter.writeNIfTI(values, width: size, height: size, slices: slices.count, voxelType: .int16,
                                  scaleSlope: 0.5, scaleIntercept: -100, to: "\(out)/nifti/\(file)")
        for (k, i) in slices.enumerated() {
            manifest += "\(file),\(phantoms.labels[i] + 1),\(folds[i]),\(patient),\(k)\n"
        }
    }
    try manifest.write(toFile: "\(out)/nifti/manifest.csv", atomically: true, encoding: .utf8)
    print("wrote \(phantoms.count) DICOM slices under \(out)/dicom and \(order.count) NIfTI volumes with \(out)/nifti/manifest.csv")
} catch {
    fail("\(error)")
}
