import Foundation
import Testing
import MRIData

@Suite struct NIfTITests {
    /// NIfTI-1 and NIfTI-2, plain and gzipped: slice k is the k-th plane of the file's voxel array, i along
    /// the width, the same pixels as the data written as a 16-bit PNG.
    @Test(arguments: [(1, "volume.nii"), (1, "volume.nii.gz"), (2, "volume.nii"), (2, "volume.nii.gz")])
    func slicesReadAsStored(version: Int, name: String) throws {
        let folder = TestData.temporaryDirectory("nifti")
        defer { TestData.remove(folder) }
        try ScanFixture.writeNIfTI(folder + "/" + name, slices: 3, version: version, voxelType: .uint16)
        try ScanFixture.writePNG(ScanFixture.pattern(seed: 1), to: folder + "/slice1.png")
        let header = try NIfTIHeader.read(path: folder + "/" + name)
        #expect(header.version == version)
        let sizes: [Int] = [header.width, header.height, header.sliceCount, header.volumeCount]
        #expect(sizes == [ScanFixture.width, ScanFixture.height, 3, 1])
        let decoder = ImageDecoder()
        for k in 0..<3 {
            let slice = try decoder.decode(SliceReference(path: folder + "/" + name, slice: k))
            #expect(slice.format == .nifti && slice.width == ScanFixture.width && slice.height == ScanFixture.height)
            #expect(slice.pixels == ScanFixture.pattern(seed: k).map(Float.init))
        }
        #expect(try decoder.decode(SliceReference(path: folder + "/" + name, slice: 1)).pixels
                == (try decoder.decodeFile(folder + "/slice1.png")).pixels)
    }

    @Test func scalingIsApplied() throws {
        let folder = TestData.temporaryDirectory("nifti")
        defer { TestData.remove(folder) }
        try ScanFixture.writeNIfTI(folder + "/scaled.nii.gz", slices: 2, scaleSlope: 0.5, scaleIntercept: -100)
        let slice = try ImageDecoder().decode(SliceReference(path: folder + "/scaled.nii.gz", slice: 1))
        #expect(slice.pixels == ScanFixture.pattern(seed: 1).map { Float($0) * 0.5 - 100 })
        // Slope 0 means unscaled (the NIfTI standard), whatever the intercept.
        try ScanFixture.writeNIfTI(folder + "/unscaled.nii", slices: 1, scaleSlope: 0, scaleIntercept: 7)
        #expect(try ImageDecoder().decodeFile(folder + "/unscaled.nii").pixels == ScanFixture.pattern().map(Float.init))
    }

    @Test func fourDimensionalFilesNeedAVolume() throws {
        let folder = TestData.temporaryDirectory("nifti")
        defer { TestData.remove(folder) }
        let path = folder + "/series.nii.gz"
        try ScanFixture.writeNIfTI(path, slices: 2, volumes: 3, version: 2)
        expectDataError("series.nii.gz", "4D", "`volume` column") {
            _ = try SliceReference.slices(of: path, slice: 0, volume: nil, mode: .selected)
        }
        expectDataError("series.nii.gz", "volume 3", "0...2") {
            _ = try SliceReference.slices(of: path, slice: 0, volume: 3, mode: .selected)
        }
        expectDataError("series.nii.gz") { _ = try ImageDecoder().decodeFile(path) }
        let slice = try #require(try SliceReference.slices(of: path, slice: 1, volume: 2, mode: .selected).first)
        #expect(try ImageDecoder().decode(slice).pixels == ScanFixture.pattern(seed: 1 + 20).map(Float.init))
        #expect(try SliceReference.slices(of: path, slice: nil, volume: 1, mode: .all).map(\.slice) == [0, 1])
    }

    @Test func brokenFilesAndMissingChoicesAreErrorsNamingTheFile() throws {
        let folder = TestData.temporaryDirectory("nifti")
        defer { TestData.remove(folder) }
        for name in ["cut.nii", "cut.nii.gz"] {
            try ScanFixture.writeNIfTI(folder + "/" + name, slices: 4)
            try TestData.truncate(folder + "/" + name, to: 0.6)
            expectDataError(name, "Cannot read", "truncated") {
                _ = try ImageDecoder().decode(SliceReference(path: folder + "/" + name, slice: 3))
            }
        }
        try TestData.write("not NIfTI", to: folder + "/text.nii")
        expectDataError("text.nii", "Cannot read") { _ = try NIfTIHeader.read(path: folder + "/text.nii") }
        try ScanFixture.writeNIfTI(folder + "/volume.nii", slices: 5)
        expectDataError("volume.nii", "5 axial slices", "--nifti-slices all") { _ = try ImageDecoder().decodeFile(folder + "/volume.nii") }
        expectDataError("volume.nii", "slice 5", "0...4", "manifest.csv line 3") {
            _ = try SliceReference.slices(of: folder + "/volume.nii", slice: 5, volume: nil, mode: .selected, context: "manifest.csv line 3")
        }
        expectDataError("scan.png", "only NIfTI") {
            _ = try SliceReference.slices(of: folder + "/scan.png", slice: 2, volume: nil, mode: .selected)
        }
    }

    /// NaN voxels (masked-out float volumes) are read as 0 (niftilib's own fix); a value that scaling makes
    /// infinite is read as 0 too, with a warning naming the file.
    @Test func nonFiniteVoxelsAreZero() throws {
        let folder = TestData.temporaryDirectory("nifti")
        defer { TestData.remove(folder) }
        var values = ScanFixture.pattern().map(Float.init)
        values[3] = .nan
        values[4] = .infinity
        try ScanWriter.writeNIfTI(values, width: ScanFixture.width, height: ScanFixture.height, slices: 1, voxelType: .float32,
                                  to: folder + "/masked.nii")
        let slice = try ImageDecoder().decodeFile(folder + "/masked.nii")
        #expect(slice.pixels[3] == 0 && slice.pixels[4] == 0 && slice.pixels[5] == values[5])

        try ScanFixture.writeNIfTI(folder + "/overflow.nii.gz", slices: 1, scaleSlope: 1e36)
        let decoder = ImageDecoder()
        let overflow = try decoder.decodeFile(folder + "/overflow.nii.gz")
        let infinite = ScanFixture.pattern().filter { !(Float(Double($0) * 1e36)).isFinite }.count
        #expect(infinite > 0 && overflow.pixels.filter { $0 == 0 }.count == infinite)
        let warnings = decoder.takeWarnings()
        #expect(warnings.count == 1 && warnings.allSatisfy { $0.contains("overflow.nii.gz") && $0.contains("\(infinite) of") }, "\(warnings)")
    }
}
