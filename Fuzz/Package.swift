// swift-tools-version: 6.0
// libFuzzer targets for Paymesh's parsers. Built by scripts/fuzz.sh with
// `-sanitize=fuzzer,address -parse-as-library`, which instruments every module for coverage
// and links libFuzzer into each target.
//
// Each executable `Fuzz<Name>` is a thin entry point over a harness in `FuzzHarness`. The
// harness files are also symlinked into the root package's test targets, whose
// `FuzzRegressionTests` replay Fuzz/Regressions/<Target>/ through exactly the same code.
import PackageDescription

let paymesh = { (name: String) in Target.Dependency.product(name: name, package: "Paymesh") }
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")

let package = Package(
    name: "PaymeshFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Paymesh", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // libFuzzer's driver entry point (LLVMFuzzerRunDriver).
        .target(name: "FuzzSupport"),
        // Harnesses and their invariants: no libFuzzer, no Testing; shared with the unit tests.
        .target(name: "FuzzHarness", dependencies: [
            paymesh("PaymeshMessages"), paymesh("PaymeshMsgpack"), paymesh("PaymeshMux"), paymesh("PaymeshNoise"),
            paymesh("PaymeshCrypto"), paymesh("PaymeshChannels"), paymesh("PaymeshGossip"), paymesh("PaymeshOnion"), nioCore,
        ]),
        .executableTarget(name: "FuzzLengthPrefixFrame", dependencies: ["FuzzSupport", "FuzzHarness"]),
        .executableTarget(name: "FuzzMessageDecoder", dependencies: ["FuzzSupport", "FuzzHarness"]),
        .executableTarget(name: "FuzzMsgpack", dependencies: ["FuzzSupport", "FuzzHarness"]),
        .executableTarget(name: "FuzzYamuxFrame", dependencies: ["FuzzSupport", "FuzzHarness"]),
        .executableTarget(name: "FuzzYamuxSession", dependencies: ["FuzzSupport", "FuzzHarness"]),
        .executableTarget(name: "FuzzNoiseResponder", dependencies: ["FuzzSupport", "FuzzHarness"]),
        .executableTarget(name: "FuzzCloseSequence", dependencies: ["FuzzSupport", "FuzzHarness"]),
        .executableTarget(name: "FuzzGossipRouter", dependencies: ["FuzzSupport", "FuzzHarness"]),
        .executableTarget(name: "FuzzOnionPeel", dependencies: ["FuzzSupport", "FuzzHarness"]),
    ]
)
