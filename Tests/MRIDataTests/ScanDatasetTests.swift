import Foundation
import Testing
import MRIData

/// DICOM and NIfTI files through the dataset layouts: manifests, class folders, the cache.
@Suite struct ScanDatasetTests {
    /// A manifest naming a 16-bit PNG, a DICOM file and a NIfTI slice of the same data: one set of pixels.
    @Test func theSameDataInEveryFormatGivesTheSamePixels() throws {
        let folder = TestData.temporaryDirectory("scans")
        defer { TestData.remove(folder) }
        try ScanFixture.writePNG(ScanFixture.pattern(seed: 2), to: folder + "/slice.png")
        try ScanFixture.writeDICOM(folder + "/slice.dcm", stored: ScanFixture.pattern(seed: 2), syntax: .jpegLossless)
        try ScanFixture.writeNIfTI(folder + "/volume.nii.gz", slices: 4)
        try TestData.write("file,class,slice\nslice.png,glioma,\nslice.dcm,glioma,\nvolume.nii.gz,glioma,2\n", to: folder + "/manifest.csv")
        for mapping in [IntensityMapping.minMax, .percentiles(low: 0.5, high: 99.5), .unitMaximum] {
            let options = LoadOptions(verbose: false, reading: ImageReading(intensity: mapping))
            let dataset = try DatasetLoader.load(path: folder, imageSize: 20, cacheDirectory: nil, options: options)
            let png = dataset.images.items(0..<1).scalars
            #expect(dataset.images.items(1..<2).scalars == png, "DICOM with \(mapping)")
            #expect(dataset.images.items(2..<3).scalars == png, "NIfTI with \(mapping)")
            #expect(png.max() == 1)
        }
        // The standard mapping: x / max for the PNG, min-max for the scanner files (whose minimum, 50, then maps to 0).
        let dataset = try DatasetLoader.load(path: folder, imageSize: 20, cacheDirectory: nil, options: LoadOptions(verbose: false))
        #expect(dataset.images.items(1..<2).scalars == dataset.images.items(2..<3).scalars)
        #expect(dataset.images.items(0..<1).scalars != dataset.images.items(1..<2).scalars)
    }

    @Test func manifestSlicesVolumesAndEveryAxialSlice() throws {
        let folder = TestData.temporaryDirectory("scans")
        defer { TestData.remove(folder) }
        try ScanFixture.writeNIfTI(folder + "/a.nii.gz", slices: 3)
        try ScanFixture.writeNIfTI(folder + "/b.nii", slices: 2, volumes: 2, version: 2)
        try ScanFixture.writeDICOM(folder + "/c.dcm")
        try TestData.write("file,label,fold,slice,volume\na.nii.gz,1,1,0,\nb.nii,2,2,1,1\nc.dcm,3,1,,\n", to: folder + "/manifest.csv")
        let options = LoadOptions(verbose: false)
        let selected = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: nil, options: options)
        #expect(selected.count == 3 && selected.labels == [0, 1, 2] && selected.sourceIDs == [0, 1, 2])
        #expect(selected.patientIDs == nil)

        var every = options
        every.reading.niftiSlices = .all
        let all = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: nil, options: every)
        #expect(all.count == 3 + 2 + 1)
        #expect(all.labels == [0, 0, 0, 1, 1, 2] && all.folds == [1, 1, 1, 2, 2, 1] && all.sourceIDs == Array(0..<6))
        #expect(all.patientIDs == ["a.nii.gz", "a.nii.gz", "a.nii.gz", "b.nii", "b.nii", "c.dcm"])
        // Slice 1 of b's volume 1 is image 4 in both loads.
        #expect(all.images.items(4..<5).scalars == selected.images.items(1..<2).scalars)

        try TestData.write("file,label,slice\na.nii.gz,1,7\n", to: folder + "/manifest.csv")
        expectDataError("a.nii.gz", "slice 7", "manifest.csv line 2") {
            _ = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: nil, options: options)
        }
        try TestData.write("file,label\nb.nii,1\n", to: folder + "/manifest.csv")
        expectDataError("b.nii", "4D", "`volume`") {
            _ = try DatasetLoader.load(path: folder, imageSize: 16, cacheDirectory: nil, options: every)
        }
    }

    @Test func classFoldersOfDICOMAndNIfTI() throws {
        let root = TestData.temporaryDirectory("scans")
        defer { TestData.remove(root) }
        for (split, seed) in [("Training", 0), ("Testing", 5)] {
            for (index, name) in ["glioma", "meningioma", "pituitary"].enumerated() {
                try ScanFixture.writeDICOM("\(root)/\(split)/\(name)/IM000\(index)", stored: ScanFixture.pattern(seed: seed + index))
                try ScanFixture.writeDICOM("\(root)/\(split)/\(name)/\(index).dcm", modality: "CT", syntax: .rleLossless)
            }
        }
        #expect(try DataSource.detect(path: root) == .classFolders(root))
        let dataset = try DatasetLoader.load(path: root, imageSize: 16, cacheDirectory: nil, options: LoadOptions(verbose: false))
        #expect(dataset.count == 12 && dataset.folds?.filter { $0 == 2 }.count == 6 && dataset.patientIDs == nil)

        try ScanFixture.writeNIfTI(root + "/Training/glioma/volume.nii.gz", slices: 4)
        expectDataError("volume.nii.gz", "--nifti-slices all") {
            _ = try DatasetLoader.load(path: root, imageSize: 16, cacheDirectory: nil, options: LoadOptions(verbose: false))
        }
        let all = try DatasetLoader.load(path: root, imageSize: 16, cacheDirectory: nil,
                                         options: LoadOptions(verbose: false, reading: ImageReading(niftiSlices: .all)))
        #expect(all.count == 16)
        #expect(all.patientIDs?.filter { $0.hasSuffix("volume.nii.gz") }.count == 4)

        try ScanWriter.writeDICOMTextReport("report", to: root + "/Testing/glioma/report.dcm")
        expectDataError("report.dcm", "no pixel data") {
            _ = try DatasetLoader.load(path: root, imageSize: 16, cacheDirectory: nil,
                                       options: LoadOptions(verbose: false, reading: ImageReading(niftiSlices: .all)))
        }
    }

    /// The reading settings key the cache: another mapping or slice choice is another entry; the defaults
    /// keep the key of a load made before the settings existed.
    @Test func cacheKeyIncludesTheReading() {
        let base = DatasetCache.key(kind: "manifest", root: "/data", files: [], imageSize: 64, loaderVersion: 2)
        #expect(DatasetCache.key(kind: "manifest", root: "/data", files: [], imageSize: 64, loaderVersion: 2, reading: ImageReading()) == base)
        let clipped = DatasetCache.key(kind: "manifest", root: "/data", files: [], imageSize: 64, loaderVersion: 2,
                                       reading: ImageReading(intensity: .percentiles(low: 0.5, high: 99.5)))
        let all = DatasetCache.key(kind: "manifest", root: "/data", files: [], imageSize: 64, loaderVersion: 2,
                                   reading: ImageReading(niftiSlices: .all))
        #expect(Set([base, clipped, all]).count == 3)
    }
}
