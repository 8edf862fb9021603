import CTurboJPEG
import Foundation
import Tensor
import TestSupport
import Testing
@testable import MRIData

/// The seed corpora of the MRIData fuzz targets (Fuzz/Corpus/{jpeg,png,mat,manifest,cache,dicom,nifti}): written by
/// the package's own writers with `ROBUST_MRI_WRITE_FUZZ_CORPUS=1`, and checked to load otherwise
/// (see `FuzzCorpus`). Each check calls the loader as the fuzz target does.
@Suite struct FuzzCorpusTests {
    @Test func jpegSeedsDecode() throws {
        let pattern = ImageFixture.pattern(width: 12, height: 10)
        try FuzzCorpus.offer(try ImageFixture.jpeg(pattern, width: 12, height: 10, format: TJPF_GRAY), target: "jpeg", name: "grey.jpg")
        let rgb = (0..<(8 * 8 * 3)).map { UInt8(($0 * 37) % 256) }
        try FuzzCorpus.offer(try ImageFixture.jpeg(rgb, width: 8, height: 8, format: TJPF_RGB), target: "jpeg", name: "ycbcr.jpg")
        try FuzzCorpus.offer(try ImageFixture.jpeg(rgb, width: 8, height: 8, format: TJPF_RGB, chroma420: true, progressive: true),
                             target: "jpeg", name: "ycbcr420-progressive.jpg")
        try FuzzCorpus.offer(try ImageFixture.jpeg(pattern, width: 12, height: 10, format: TJPF_GRAY, progressive: true),
                             target: "jpeg", name: "grey-progressive.jpg")
        let cmyk = (0..<(8 * 8 * 4)).map { UInt8(($0 * 53) % 256) }
        try FuzzCorpus.offer(try ImageFixture.jpeg(cmyk, width: 8, height: 8, format: TJPF_CMYK), target: "jpeg", name: "cmyk.jpg")
        let decoder = ImageDecoder()
        for (name, bytes) in try FuzzCorpus.seeds("jpeg") {
            #expect(throws: Never.self, "\(name)") { _ = try decoder.decodeJPEG(bytes, path: name) }
        }
    }

    @Test func pngSeedsDecode() throws {
        let grey = ImageFixture.pattern(width: 8, height: 8).map(UInt16.init)
        try FuzzCorpus.offer(try ImageFixture.greyPNG(grey, width: 8, height: 8, bitDepth: 8,
                                                      chunks: .init(gamma: 100_000, chromaticities: true)),
                             target: "png", name: "grey8-gamma.png")
        try FuzzCorpus.offer(try ImageFixture.greyPNG(grey.map { $0 * 257 }, width: 8, height: 8, bitDepth: 16, chunks: .init()),
                             target: "png", name: "grey16.png")
        try FuzzCorpus.offer(try PNGImage.encode(rgb: (0..<(6 * 4 * 3)).map { UInt8($0 * 3) }, width: 6, height: 4).data,
                             target: "png", name: "rgb.png")
        for (name, bytes) in try FuzzCorpus.seeds("png") {
            #expect(throws: Never.self, "\(name)") { _ = try ImageDecoder.decodePNG(bytes, path: name) }
        }
    }

    @Test func matSeedsLoad() throws {
        let folder = TestData.temporaryDirectory("fuzz-mat")
        defer { TestData.remove(folder) }
        let slice = folder + "/slice.mat", folds = folder + "/cvind.mat"
        try MATFixture.writeSlice(slice, label: 2, patient: "P7", image: (0..<48).map { Int16($0 * 40 - 900) },
                                  mask: (0..<48).map { $0 % 7 < 3 ? 1 : 0 }, rows: 8, columns: 6)
        try MATFixture.writeFoldIndex(folds, folds: [1, 2, 3, 4, 5])
        try FuzzCorpus.offer([UInt8](try Data(contentsOf: URL(fileURLWithPath: slice))), target: "mat", name: "slice.mat")
        try FuzzCorpus.offer([UInt8](try Data(contentsOf: URL(fileURLWithPath: folds))), target: "mat", name: "cvind.mat")
        for (name, bytes) in try FuzzCorpus.seeds("mat") {
            let path = folder + "/1.mat"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(throws: Never.self, "\(name)") {
                if name.contains("cvind") {
                    _ = try FigshareMatReader.readFoldIndex(path)
                } else {
                    _ = try DatasetLoader.decoded(try FigshareMatReader(folder: folder), imageSize: 16, options: LoadOptions(threads: 1, verbose: false))
                }
            }
            try FileManager.default.removeItem(atPath: path)
        }
    }

    /// The images the manifest seeds name, as Fuzz/Sources/fuzz-manifest makes them.
    static func writeManifestImages(_ folder: String) throws {
        try FileManager.default.createDirectory(atPath: folder + "/images", withIntermediateDirectories: true)
        try PNGImage.encode(gray: (0..<48).map { UInt8($0 * 5) }, width: 8, height: 6).writePNG(path: folder + "/images/1.png")
        try PNGImage.encode(gray16: (0..<30).map { UInt16($0 * 2000) }, width: 5, height: 6).writePNG(path: folder + "/images/2.png")
        try PNGImage.encode(rgb: (0..<36).map { UInt8($0 * 7) }, width: 4, height: 3).writePNG(path: folder + "/3.png")
    }

    /// A manifest fuzz input as Fuzz/Sources/fuzz-manifest writes it: up to the first NUL byte `manifest.csv`,
    /// the rest (if any) `borders.csv`.
    static func writeManifestInput(_ bytes: [UInt8], to folder: String) throws {
        let parts = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        try Data(parts[0]).write(to: URL(fileURLWithPath: folder + "/manifest.csv"))
        try? FileManager.default.removeItem(atPath: folder + "/borders.csv")
        if parts.count > 1 { try Data(parts[1]).write(to: URL(fileURLWithPath: folder + "/borders.csv")) }
    }

    @Test func manifestSeedsLoad() throws {
        let withBorders = "file,label,id,fold,patient\nimages/1.png,1,1,1,P1\nimages/2.png,2,2,2,P2\n3.png,3,3.0,3,P3\n"
            + "\0id,border_xy\n1,1 1 6 1 6 5 1 5\n2,0.5 0 4 0 4 4.5\n"
        let byClass = "\u{FEFF}file,class,notes\r\n\"images/1.png\",glioma,\"a, b\"\r\n3.png,pituitary_tumor,\"\"\"x\"\"\"\r\n"
            + "__MACOSX/._3.png,glioma,\r\n"
        try FuzzCorpus.offer(Array(withBorders.utf8), target: "manifest", name: "labels-borders.csv")
        try FuzzCorpus.offer(Array(byClass.utf8), target: "manifest", name: "classes-quoted.csv")
        let folder = TestData.temporaryDirectory("fuzz-manifest")
        defer { TestData.remove(folder) }
        try Self.writeManifestImages(folder)
        for (name, bytes) in try FuzzCorpus.seeds("manifest") {
            try Self.writeManifestInput(bytes, to: folder)
            #expect(throws: Never.self, "\(name)") {
                _ = try DatasetLoader.decoded(try ManifestReader(folder: folder), imageSize: 16, options: LoadOptions(threads: 1, verbose: false))
            }
        }
    }

    /// The key of the cache seeds, which Fuzz/Sources/fuzz-cache passes to `decode`.
    static let cacheKey = "00000000000000000000000000f0220a"

    @Test func cacheSeedsDecode() throws {
        let size = 4
        let images = Tensor(shape: [2, 1, size, size], scalars: (0..<32).map { Float($0 % 16) / 15 })
        let masks = Tensor(shape: [2, 1, size, size], scalars: (0..<32).map { $0 % 3 == 0 ? 1 : 0 })
        let cache = DatasetCache(directory: "", verbose: false)
        let full = MRIDataset(images: images, labels: [0, 2], folds: [1, 4], patientIDs: ["P1", "P\u{e9}"], masks: masks,
                              sourceIDs: [7, 9], sourceDescription: "fuzz seed")
        let plain = MRIDataset(images: images, labels: [1, 1], sourceDescription: "fuzz seed without masks")
        try FuzzCorpus.offer([UInt8](try cache.encode(full, key: Self.cacheKey)), target: "cache", name: "masks-folds.rmri")
        try FuzzCorpus.offer([UInt8](try cache.encode(plain, key: Self.cacheKey)), target: "cache", name: "plain.rmri")
        for (name, bytes) in try FuzzCorpus.seeds("cache") {
            #expect(throws: Never.self, "\(name)") { _ = try cache.decode(Data(bytes), key: Self.cacheKey) }
        }
    }

    /// DICOM seeds written by DCMTK (`ScanWriter`), 8 x 6 pixels: a 12-in-16-bit MONOCHROME2 MR slice in every
    /// transfer syntax family the reader decodes (explicit and implicit VR little endian, explicit big endian,
    /// RLE, JPEG lossless, JPEG-LS, JPEG baseline), MONOCHROME1 with a rescale, signed CT values, and a
    /// structured report (no pixel data), which must be refused as not an image.
    @Test func dicomSeedsDecode() throws {
        let folder = TestData.temporaryDirectory("fuzz-dicom")
        defer { TestData.remove(folder) }
        let width = 8, height = 6
        let stored = (0..<(width * height)).map { UInt16(($0 * 83) % 4000 + 20) }
        func slice(_ syntax: ScanWriter.DICOMTransferSyntax, values: [UInt16] = stored, bitsAllocated: Int = 16,
                   bitsStored: Int = 12, isSigned: Bool = false, rescale: (slope: Double, intercept: Double)? = nil,
                   photometric: String = "MONOCHROME2", modality: String = "MR") -> ScanWriter.DICOMSlice {
            ScanWriter.DICOMSlice(width: width, height: height, stored: values, bitsAllocated: bitsAllocated,
                                  bitsStored: bitsStored, isSigned: isSigned, rescale: rescale,
                                  photometricInterpretation: photometric, modality: modality, transferSyntax: syntax)
        }
        let seeds: [(name: String, slice: ScanWriter.DICOMSlice)] = [
            ("mr16.dcm", slice(.explicitLittleEndian)),
            ("dx-monochrome1-rescale-implicit.dcm", slice(.implicitLittleEndian, rescale: (2, 10), photometric: "MONOCHROME1", modality: "DX")),
            ("ct-signed-rescale-big-endian.dcm", slice(.explicitBigEndian, values: stored.map { UInt16(bitPattern: Int16($0) - 2000) },
                                                       bitsStored: 16, isSigned: true, rescale: (1, -1024), modality: "CT")),
            ("mr-rle.dcm", slice(.rleLossless)),
            ("mr-jpeg-lossless.dcm", slice(.jpegLossless)),
            ("mr-jpeg-ls.dcm", slice(.jpegLSLossless)),
            ("cr8-jpeg-baseline.dcm", slice(.jpegBaseline, values: stored.map { $0 / 16 }, bitsAllocated: 8, bitsStored: 8, modality: "CR")),
        ]
        for (name, slice) in seeds {
            try ScanWriter.writeDICOM(slice, to: folder + "/" + name)
            try FuzzCorpus.offer([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))), target: "dicom", name: name)
        }
        try ScanWriter.writeDICOMTextReport("No acute findings.", to: folder + "/report.dcm")
        try FuzzCorpus.offer([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/report.dcm"))), target: "dicom",
                             name: "sr-report.dcm")
        for (name, bytes) in try FuzzCorpus.seeds("dicom") {
            if name.contains("report") {
                expectDataError("x.dcm", "no pixel data") { try Self.readDICOMAsTheTargetDoes(bytes, folder: folder) }
            } else {
                #expect(throws: Never.self, "\(name)") { try Self.readDICOMAsTheTargetDoes(bytes, folder: folder) }
            }
        }
    }

    /// A DICOM fuzz input read as Fuzz/Sources/fuzz-dicom reads it: as `x.dcm`, decoded and preprocessed.
    static func readDICOMAsTheTargetDoes(_ bytes: [UInt8], folder: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: folder + "/x.dcm"))
        let image = try ImageDecoder().decodeFile(folder + "/x.dcm")
        try expectPreprocessedInUnitRange(image)
    }

    /// NIfTI seeds written by niftilib (`ScanWriter`), 6 x 5 voxels a slice: NIfTI-1 int16 with scl_slope and
    /// scl_inter, NIfTI-2 float32, a 4D NIfTI-1 uint16 series of 3 volumes, and a gzipped NIfTI-1 (`.nii.gz`).
    @Test func niftiSeedsLoad() throws {
        let folder = TestData.temporaryDirectory("fuzz-nifti")
        defer { TestData.remove(folder) }
        let width = 6, height = 5
        func values(slices: Int, volumes: Int = 1) -> [Float] {
            (0..<(width * height * slices * volumes)).map { Float(($0 * 37) % 500) }
        }
        try ScanWriter.writeNIfTI(values(slices: 3), width: width, height: height, slices: 3, voxelType: .int16,
                                  scaleSlope: 0.5, scaleIntercept: -100, to: folder + "/int16-scaled.nii")
        try ScanWriter.writeNIfTI(values(slices: 2), width: width, height: height, slices: 2, voxelType: .float32, version: 2,
                                  to: folder + "/nifti2-float32.nii")
        try ScanWriter.writeNIfTI(values(slices: 2, volumes: 3), width: width, height: height, slices: 2, volumes: 3,
                                  voxelType: .uint16, to: folder + "/4d-uint16.nii")
        try ScanWriter.writeNIfTI(values(slices: 3), width: width, height: height, slices: 3, voxelType: .int16,
                                  to: folder + "/int16.nii.gz")
        for name in ["int16-scaled.nii", "nifti2-float32.nii", "4d-uint16.nii", "int16.nii.gz"] {
            try FuzzCorpus.offer([UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))), target: "nifti", name: name)
        }
        for (name, bytes) in try FuzzCorpus.seeds("nifti") {
            // The target's `raw.nii.gz` copy is the one a gzipped seed is read through; the others go through `x.nii`.
            let path = folder + (name.hasSuffix(".gz") ? "/raw.nii.gz" : "/x.nii")
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(throws: Never.self, "\(name)") {
                let slices = try Self.readNIfTIAsTheTargetDoes(path)
                #expect(slices >= 2, "\(name): \(slices) slices")
            }
        }
    }

    /// A NIfTI file read as Fuzz/Sources/fuzz-nifti reads each copy of its input: the header, then for the first
    /// and the last volume of a 4D file the slices `--nifti-slices all` lists, the first four and the last,
    /// preprocessed. Returns the number of slices read.
    @discardableResult
    static func readNIfTIAsTheTargetDoes(_ path: String) throws -> Int {
        let decoder = ImageDecoder()
        let header = try NIfTIHeader.read(path: path)
        let volumes: [Int?] = header.volumeCount > 1 ? [0, header.volumeCount - 1] : [nil]
        var count = 0
        for volume in volumes {
            let slices = try SliceReference.slices(of: path, slice: nil, volume: volume, mode: .all)
            for reference in slices.prefix(4) + slices.suffix(1) {
                try expectPreprocessedInUnitRange(try decoder.decode(reference))
                count += 1
            }
        }
        return count
    }

    /// Preprocessing keeps a decoded slice finite and in [0, 1], as the DICOM and NIfTI targets check.
    static func expectPreprocessedInUnitRange(_ image: GrayImage) throws {
        let values = Preprocessing.preprocessed(image, size: 16, intensity: .standard)
        #expect(values.count == 256 && values.allSatisfy { $0 >= 0 && $0 <= 1 }, "values outside [0, 1] or NaN")
    }

    /// Every input that once crashed an MRIData fuzz target goes through the same calls again (errors are
    /// fine, a trap would end the test run); what each now reports is checked beside the loader's tests.
    @Test func findingsNoLongerCrash() throws {
        let decoder = ImageDecoder()
        for (_, bytes) in try FuzzCorpus.findings("jpeg") { _ = try? decoder.decodeJPEG(bytes, path: "finding.jpg") }
        for (_, bytes) in try FuzzCorpus.findings("png") { _ = try? ImageDecoder.decodePNG(bytes, path: "finding.png") }
        for (_, bytes) in try FuzzCorpus.findings("cache") {
            _ = try? DatasetCache(directory: "", verbose: false).decode(Data(bytes), key: Self.cacheKey)
        }
        let folder = TestData.temporaryDirectory("fuzz-findings")
        defer { TestData.remove(folder) }
        for (_, bytes) in try FuzzCorpus.findings("mat") {
            try Data(bytes).write(to: URL(fileURLWithPath: folder + "/1.mat"))
            if let reader = try? FigshareMatReader(folder: folder) {
                _ = try? DatasetLoader.decoded(reader, imageSize: 16, options: LoadOptions(threads: 1, verbose: false))
            }
            _ = try? FigshareMatReader.readFoldIndex(folder + "/1.mat")
        }
        try FileManager.default.removeItem(atPath: folder + "/1.mat")
        for (_, bytes) in try FuzzCorpus.findings("dicom") { try? Self.readDICOMAsTheTargetDoes(bytes, folder: folder) }
        // NIfTI findings as the target's `x.nii` and `raw.nii.gz` copies (one found through the gzipped copy is
        // committed gzipped, so `raw.nii.gz` decompresses it).
        for (_, bytes) in try FuzzCorpus.findings("nifti") {
            for name in ["x.nii", "raw.nii.gz"] {
                try Data(bytes).write(to: URL(fileURLWithPath: folder + "/" + name))
                _ = try? ImageDecoder().decodeFile(folder + "/" + name)
                _ = try? Self.readNIfTIAsTheTargetDoes(folder + "/" + name)
            }
        }
        try Self.writeManifestImages(folder)
        for (_, bytes) in try FuzzCorpus.findings("manifest") {
            try Self.writeManifestInput(bytes, to: folder)
            if let reader = try? ManifestReader(folder: folder) {
                _ = try? DatasetLoader.decoded(reader, imageSize: 16, options: LoadOptions(threads: 1, verbose: false))
            }
        }
    }
}
