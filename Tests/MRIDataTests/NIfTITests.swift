import Foundation
import Testing
import MRIData
import TestSupport

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

    /// Fuzz finding 15 (docs/fuzzing.md): a NIfTI-2 header declaring 6 x 1.8e16 x 1.8e16 voxels made
    /// `--nifti-slices all` list 1.8e16 slices (a trap allocating them); the volume read would have allocated
    /// the declared voxels before reading one. Sizes are now checked in the header: the three axes within
    /// `ImageDecoder.maximumSide`, a volume within `NIfTIHeader.maximumVoxels`, products without overflow.
    @Test func absurdDimensionsAreErrorsBeforeAnyAllocation() throws {
        let folder = TestData.temporaryDirectory("nifti")
        defer { TestData.remove(folder) }
        let finding = folder + "/finding.nii"
        try FileManager.default.copyItem(atPath: FuzzCorpus.root + "/nifti/finding-huge-dims.nii", toPath: finding)
        expectDataError("finding.nii", "8192 x 8192") { _ = try SliceReference.slices(of: finding, slice: nil, volume: nil, mode: .all) }
        expectDataError("finding.nii", "8192 x 8192") { _ = try ImageDecoder().decodeFile(finding) }

        // Headers of every version and compression, patched from a written 20 x 16 x 2 volume.
        for (version, name) in [(1, "wide.nii"), (2, "wide.nii.gz")] {
            try Self.writeNIfTI(folder + "/" + name, version: version, dims: [20_000, 20_000, 1])
            expectDataError(name, "20000 x 20000", "8192 x 8192") { _ = try NIfTIHeader.read(path: folder + "/" + name) }
        }
        // 2^20 slices of one voxel: within 2^28 voxels, but `--nifti-slices all` would list 2^20 images (the nifti
        // target's run 2 kept such inputs, each listing hundreds of thousands of slices).
        try Self.writeNIfTI(folder + "/thin.nii", version: 2, dims: [1, 1, 1 << 20])
        expectDataError("thin.nii", "1048576 axial slices", "8192") {
            _ = try SliceReference.slices(of: folder + "/thin.nii", slice: nil, volume: nil, mode: .all)
        }
        try Self.writeNIfTI(folder + "/deep.nii", version: 2, dims: [2048, 2048, 128])
        expectDataError("deep.nii", "2048 x 2048 x 128", "512 x 512 x 1024") { _ = try NIfTIHeader.read(path: folder + "/deep.nii") }
        try Self.writeNIfTI(folder + "/overflow.nii", version: 2, dims: [4096, 4096, Int64.max / 2])
        expectDataError("overflow.nii", "4611686018427387903 axial slices") { _ = try NIfTIHeader.read(path: folder + "/overflow.nii") }
        let series = folder + "/far-volume.nii"
        try Self.writeNIfTI(series, version: 2, dims: [20, 16, 2, Int64.max])
        expectDataError("far-volume.nii", "beyond") { _ = try ImageDecoder().decode(SliceReference(path: series, slice: 0, volume: Int.max - 1)) }
    }

    /// A header within the limits whose file holds less: a plain file is refused from its length before
    /// reading, one read through zlib when its data ends (memory grows only with the voxels read).
    @Test func volumesLargerThanTheFileAreTruncatedFiles() throws {
        let folder = TestData.temporaryDirectory("nifti")
        defer { TestData.remove(folder) }
        try Self.writeNIfTI(folder + "/large.nii", version: 1, dims: [512, 512, 1000])
        expectDataError("large.nii", "truncated", "needs bytes 352 to 524288352") {
            _ = try ImageDecoder().decode(SliceReference(path: folder + "/large.nii", slice: 0))
        }
        try Self.writeNIfTI(folder + "/large.nii.gz", version: 2, dims: [512, 512, 1000])
        expectDataError("large.nii.gz", "truncated") {
            _ = try ImageDecoder().decode(SliceReference(path: folder + "/large.nii.gz", slice: 999))
        }
    }

    /// Fuzz finding 20 (docs/fuzzing.md): a gzipped volume whose data ended 1 byte into its last float32 voxel was
    /// read as complete (znzlib counts a partly read voxel as read), that voxel taking whatever the read buffer held
    /// before, and preprocessing made NaN of it. Every byte must now be there.
    @Test func dataEndingInsideAVoxelIsTruncated() throws {
        let folder = TestData.temporaryDirectory("nifti")
        defer { TestData.remove(folder) }
        try FileManager.default.copyItem(atPath: FuzzCorpus.root + "/nifti/finding-gzip-data-ends-inside-a-voxel.nii",
                                         toPath: folder + "/finding.nii.gz")
        expectDataError("finding.nii.gz", "truncated") { _ = try ImageDecoder().decode(SliceReference(path: folder + "/finding.nii.gz", slice: 0)) }
        for version in [1, 2] {
            try ScanFixture.writeNIfTI(folder + "/whole.nii", slices: 2, version: version, voxelType: .float32)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: folder + "/whole.nii"))
            // Under a .gz name a plain file is read through zlib (its transparent mode), as a gzipped one is.
            for cut in 1...3 {
                try bytes.dropLast(cut).write(to: URL(fileURLWithPath: folder + "/short.nii.gz"))
                expectDataError("short.nii.gz", "truncated") {
                    _ = try ImageDecoder().decode(SliceReference(path: folder + "/short.nii.gz", slice: 1))
                }
            }
        }
    }

    /// The shim reads headers and voxels itself (niftilib supplies layouts and swapping): a file in the other
    /// byte order, NIfTI-1 and NIfTI-2, int16 and float32, voxels after a vox_offset past the header, reads as
    /// the values written.
    @Test(arguments: [(1, false), (1, true), (2, false), (2, true)])
    func eitherByteOrderReadsTheValuesWritten(version: Int, bigEndian: Bool) throws {
        let folder = TestData.temporaryDirectory("nifti")
        defer { TestData.remove(folder) }
        let width = 4, height = 3, slices = 2
        let stored = (0..<(width * height * slices)).map { Int16($0 * 97 - 1000) }
        let int16 = Self.handWrittenNIfTI(version: version, bigEndian: bigEndian, dims: [width, height, slices], datatype: 4,
                                          voxels: stored.map { Self.bytes(UInt16(bitPattern: $0), bigEndian: bigEndian) },
                                          slope: 0.5, intercept: 3)
        try Data(int16).write(to: URL(fileURLWithPath: folder + "/int16.nii"))
        let float32 = Self.handWrittenNIfTI(version: version, bigEndian: bigEndian, dims: [width, height, slices], datatype: 16,
                                            voxels: stored.map { Self.bytes(Float($0).bitPattern, bigEndian: bigEndian) },
                                            slope: 0, intercept: 0)
        try Data(float32).write(to: URL(fileURLWithPath: folder + "/float32.nii"))
        let decoder = ImageDecoder()
        for k in 0..<slices {
            let plane = stored[(k * width * height)..<((k + 1) * width * height)]
            #expect(try decoder.decode(SliceReference(path: folder + "/int16.nii", slice: k)).pixels == plane.map { Float($0) * 0.5 + 3 })
            #expect(try decoder.decode(SliceReference(path: folder + "/float32.nii", slice: k)).pixels == plane.map(Float.init))
        }
        #expect(try NIfTIHeader.read(path: folder + "/int16.nii").version == version)
    }

    /// A single-file NIfTI-`version` header written field by field in the chosen byte order (the fields the
    /// reader uses; the rest zero), vox_offset 16 bytes past the header's end, then `voxels`.
    static func handWrittenNIfTI(version: Int, bigEndian: Bool, dims: [Int], datatype: Int16, voxels: [[UInt8]],
                                 slope: Double, intercept: Double) -> [UInt8] {
        let headerSize = version == 1 ? 348 : 540, offset = headerSize + 16
        var header = [UInt8](repeating: 0, count: offset)
        func put(_ field: [UInt8], at position: Int) { header.replaceSubrange(position..<(position + field.count), with: field) }
        let bitpix = Int16(voxels.first?.count ?? 0) * 8
        put(bytes(Int32(headerSize), bigEndian: bigEndian), at: 0)
        if version == 1 {
            for (d, size) in ([dims.count] + dims).enumerated() { put(bytes(Int16(size), bigEndian: bigEndian), at: 40 + 2 * d) }
            put(bytes(datatype, bigEndian: bigEndian), at: 70)
            put(bytes(bitpix, bigEndian: bigEndian), at: 72)
            put(bytes(Float(offset).bitPattern, bigEndian: bigEndian), at: 108)
            put(bytes(Float(slope).bitPattern, bigEndian: bigEndian), at: 112)
            put(bytes(Float(intercept).bitPattern, bigEndian: bigEndian), at: 116)
            put(Array("n+1\0".utf8), at: 344)
        } else {
            put(Array("n+2\0\r\n\u{1A}\n".utf8), at: 4)
            put(bytes(datatype, bigEndian: bigEndian), at: 12)
            put(bytes(bitpix, bigEndian: bigEndian), at: 14)
            for (d, size) in ([dims.count] + dims).enumerated() { put(bytes(Int64(size), bigEndian: bigEndian), at: 16 + 8 * d) }
            put(bytes(Int64(offset), bigEndian: bigEndian), at: 168)
            put(bytes(slope.bitPattern, bigEndian: bigEndian), at: 176)
            put(bytes(intercept.bitPattern, bigEndian: bigEndian), at: 184)
        }
        return header + voxels.flatMap { $0 }
    }

    static func bytes<T: FixedWidthInteger>(_ value: T, bigEndian: Bool) -> [UInt8] {
        withUnsafeBytes(of: bigEndian ? value.bigEndian : value.littleEndian) { Array($0) }
    }

    /// A NIfTI file written by `ScanWriter` as a 20 x 16 x 2 int16 volume, then its header's dim[1...] set to
    /// `dims` (dim[0] their count) in place: the data stays the 1280 bytes written. Always stored plain: under a
    /// `.nii.gz` name it is read through zlib (its transparent mode), so that, as for a gzipped file, the reader
    /// cannot know the data's length beforehand.
    static func writeNIfTI(_ path: String, version: Int, dims: [Int64]) throws {
        let plain = path.hasSuffix(".gz") ? String(path.dropLast(3)) : path
        try ScanFixture.writeNIfTI(plain, slices: 2, version: version)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: plain)))
        try FileManager.default.removeItem(atPath: plain)
        for (d, size) in ([Int64(dims.count)] + dims).enumerated() {
            if version == 1 {
                let field = ScanFixture.littleEndian(Int16(truncatingIfNeeded: size))
                bytes.replaceSubrange((40 + 2 * d)..<(42 + 2 * d), with: field)
            } else {
                bytes.replaceSubrange((16 + 8 * d)..<(24 + 8 * d), with: ScanFixture.littleEndian(size))
            }
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
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
