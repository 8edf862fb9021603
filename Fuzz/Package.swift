// swift-tools-version: 6.0
import PackageDescription

// libFuzzer targets, one executable per loader (docs/fuzzing.md). A package of its own so that the root
// package's build, tests and CI never see the fuzzer flags. Built by scripts/fuzz.sh, one product at a time,
// with `--sanitize fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing` (docs/fuzzing.md says
// why): `@testable import` reaches the internal readers (ManifestReader, FigshareMatReader,
// DatasetCache.decode) without widening their access.
let loaders = ["safetensors", "mat", "jpeg", "png", "manifest", "cache", "settings", "dicom", "nifti"]

let package = Package(
    name: "RobustMRIFuzz",
    dependencies: [
        .package(name: "RobustMRI", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport"),
        // zlib (module map only): the NIfTI target also offers its input gzipped, as a `.nii.gz` is stored.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    ] + loaders.map { loader in
        .executableTarget(name: "fuzz-\(loader)",
                          dependencies: ["FuzzSupport", .product(name: "RobustMRI", package: "RobustMRI")]
                              + (loader == "nifti" ? ["CZlib"] : []))
    }
)
