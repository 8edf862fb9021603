// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "RobustMRI",
    platforms: [.macOS(.v14)],
    products: [
        // Public API: the library a researcher imports, and the command-line tool.
        .library(name: "RobustMRI", targets: ["Tensor", "NN", "MRIData", "Influence", "RobustTraining", "Reporting", "Experiments"]),
        .executable(name: "robust-mri", targets: ["robust-mri"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        // C libraries from Debian's packages: module maps only.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", pkgConfig: "lapacke", providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        // C libraries with a small C API of our own (the library's headers stay inside the shim):
        // DICOM through DCMTK (C++; its dcmtk.pc names a missing sndfile.pc, so the libraries are linked by name),
        // NIfTI-1/2 through niftilib (no .pc file; compat/ forwards the <znzlib.h> its header includes).
        .target(name: "CDICOM", linkerSettings: [
            .linkedLibrary("dcmjpls"), .linkedLibrary("dcmjpeg"), .linkedLibrary("dcmdata"),
            .linkedLibrary("oflog"), .linkedLibrary("ofstd"),
        ]),
        .target(name: "CNIfTI", cSettings: [.headerSearchPath("compat")],
                linkerSettings: [.linkedLibrary("nifti2"), .linkedLibrary("znz")]),

        // Implementation, dependencies pointing one way (docs/architecture.md): CKernels <- Tensor, NN;
        // Tensor <- NN, MRIData, Influence, Reporting; {NN, MRIData, Influence} <- RobustTraining;
        // {RobustTraining, Reporting} <- Experiments <- robust-mri.
        // The hand-written kernels that are not GEMM, compiled once per instruction set (Sources/CKernels).
        .target(name: "CKernels"),
        .target(name: "Tensor", dependencies: ["CBLAS", "CLAPACKE", "CKernels"]),
        .target(name: "NN", dependencies: ["Tensor", "CKernels"]),
        .target(name: "MRIData", dependencies: ["Tensor", "CHDF5", "CTurboJPEG", "CPNG", "CDICOM", "CNIfTI",
                                            .product(name: "SystemPackage", package: "swift-system")]),
        .target(name: "Influence", dependencies: ["Tensor"]),
        .target(name: "RobustTraining", dependencies: ["Tensor", "NN", "MRIData", "Influence"]),
        .target(name: "Reporting", dependencies: ["Tensor", "CCairo"]),
        .target(name: "Experiments", dependencies: ["Tensor", "NN", "MRIData", "Influence", "RobustTraining", "Reporting"]),
        // Synthetic phantoms written as DICOM and NIfTI files, to try the scanner-file loaders (README).
        .executableTarget(name: "make-example-scans", dependencies: ["MRIData"]),
        .executableTarget(
            name: "robust-mri",
            dependencies: [
                "Experiments", "RobustTraining", "Influence", "MRIData", "NN", "Tensor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Tests.
        .target(name: "TestSupport", dependencies: ["Tensor"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "CKernels", "TestSupport"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Tensor", "CKernels", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "MRIDataTests", dependencies: ["MRIData", "Tensor", "CHDF5", "CTurboJPEG", "CPNG", "CDICOM", "CNIfTI"]),
        .testTarget(name: "InfluenceTests", dependencies: ["Influence", "Tensor", "TestSupport"]),
        .testTarget(name: "RobustTrainingTests", dependencies: ["RobustTraining", "Influence", "MRIData", "NN", "Tensor"]),
        .testTarget(name: "ReportingTests", dependencies: ["Reporting"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments", "RobustTraining", "Influence", "MRIData", "NN", "Tensor"],
                    resources: [.copy("Fixtures")]),
    ]
)
