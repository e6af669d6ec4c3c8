// swift-tools-version: 6.0
// libFuzzer targets for Paymesh's parsers. Built by scripts/fuzz.sh with
// `-sanitize=fuzzer,address -parse-as-library`, which instruments every module for coverage
// and links libFuzzer's main into each target. Each target exports LLVMFuzzerTestOneInput.
import PackageDescription

let package = Package(
    name: "PaymeshFuzz",
    dependencies: [.package(name: "Paymesh", path: "..")],
    targets: [
        .executableTarget(name: "FuzzHex", dependencies: [.product(name: "PaymeshCrypto", package: "Paymesh")]),
    ]
)
