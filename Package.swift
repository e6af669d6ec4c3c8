// swift-tools-version: 6.0
// Paymesh: a peer-to-peer payment overlay node. The module map, bottom to top, and the direction
// of dependencies are in ARCHITECTURE.md; each target below lists exactly the modules it imports.
// Everything below PaymeshTransport is sans-IO: no sockets, no tasks, no clocks.
import PackageDescription

let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioHelpers = Target.Dependency.product(name: "NIOConcurrencyHelpers", package: "swift-nio")

let package = Package(
    name: "Paymesh",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "PaymeshCrypto", targets: ["PaymeshCrypto"]),
        .library(name: "PaymeshNoise", targets: ["PaymeshNoise"]),
        .library(name: "PaymeshMux", targets: ["PaymeshMux"]),
        .library(name: "PaymeshMsgpack", targets: ["PaymeshMsgpack"]),
        .library(name: "PaymeshMessages", targets: ["PaymeshMessages"]),
        .library(name: "PaymeshChannels", targets: ["PaymeshChannels"]),
        .library(name: "PaymeshTransport", targets: ["PaymeshTransport"]),
        .library(name: "PaymeshGossip", targets: ["PaymeshGossip"]),
        .library(name: "PaymeshOnion", targets: ["PaymeshOnion"]),
        .library(name: "PaymeshPay402", targets: ["PaymeshPay402"]),
        .library(name: "PaymeshRouting", targets: ["PaymeshRouting"]),
        .executable(name: "paymesh-bench", targets: ["PaymeshBench"]),
        .executable(name: "paymesh", targets: ["PaymeshCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        // C libraries from Debian packages, found with pkg-config.
        .systemLibrary(name: "CSodium", pkgConfig: "libsodium", providers: [.apt(["libsodium-dev"])]),
        .systemLibrary(name: "CSecp256k1", pkgConfig: "libsecp256k1", providers: [.apt(["libsecp256k1-dev"])]),
        .systemLibrary(name: "CMsgpack", pkgConfig: "msgpack", providers: [.apt(["libmsgpack-dev"])]),
        .systemLibrary(name: "CAvahi", pkgConfig: "avahi-client", providers: [.apt(["libavahi-client-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),

        // Safe Swift over libsodium and libsecp256k1; no C type in any public API.
        .target(name: "PaymeshCrypto", dependencies: ["CSodium", "CSecp256k1"]),
        // Noise Protocol Framework (rev 34) state machines and the Paymesh XX handshake.
        .target(name: "PaymeshNoise", dependencies: ["PaymeshCrypto", "PaymeshMsgpack", nioCore]),
        // yamux session and stream state machines.
        .target(name: "PaymeshMux", dependencies: [nioCore]),
        // MessagePack values over msgpack-c.
        .target(name: "PaymeshMsgpack", dependencies: ["CMsgpack"]),
        // Length-prefixed envelopes and the 13 typed message kinds.
        .target(name: "PaymeshMessages", dependencies: ["PaymeshMsgpack", "PaymeshCrypto", nioCore]),
        // TCP + Noise + yamux on SwiftNIO: the only layer that touches sockets.
        .target(name: "PaymeshTransport", dependencies: ["PaymeshNoise", "PaymeshMux", "PaymeshCrypto", nioCore, nioPosix, nioHelpers]),
        // Payment channels: lifecycle state machine, voucher rules, policies, receipts, streaming (sans-IO).
        .target(name: "PaymeshChannels", dependencies: ["PaymeshMessages", "PaymeshCrypto"]),
        // Gossip pubsub (GossipSub v1.1 router, signed messages, network graph, service directory; sans-IO).
        .target(name: "PaymeshGossip", dependencies: ["PaymeshMessages", "PaymeshMsgpack", "PaymeshCrypto"]),
        // The in-memory network of gossip routers (simulated clock and links, adversaries) used by
        // the gossip tests and `paymesh-bench gossip`.
        .target(name: "PaymeshGossipSimulation", dependencies: ["PaymeshGossip", "PaymeshMessages", "PaymeshCrypto"]),
        // Sphinx onions (BOLT 4 construction), Paymesh hop payloads and failure onions (sans-IO).
        .target(name: "PaymeshOnion", dependencies: ["PaymeshCrypto", "PaymeshMessages", "PaymeshMsgpack"]),
        // HTTP 402 payments (Specs/http402.md): x402 v1/v2 challenges and proofs, the Paymesh channel
        // scheme's verifier, L402 macaroons (libmacaroons v2) — sans-IO, time passed in.
        .target(name: "PaymeshPay402", dependencies: ["PaymeshChannels", "PaymeshMessages", "PaymeshCrypto"]),
        // Path search over the gossip graph, reputation, invoices and the payment journal (sans-IO).
        .target(name: "PaymeshRouting", dependencies: ["PaymeshGossip", "PaymeshOnion", "PaymeshMessages", "PaymeshMsgpack", "PaymeshCrypto"]),
        // Durable state in SQLite (WAL, group commit, migrations).
        .target(name: "PaymeshStore", dependencies: ["CSQLite", "PaymeshMessages", "PaymeshCrypto"]),
                // The node's features: peer table, dialing, protocol router, payments, discovery glue, typed
        // events (no console, no JSON-RPC: those are PaymeshConsole's).
        .target(name: "PaymeshNode", dependencies: [
            "PaymeshPay402",
            "PaymeshTransport", "PaymeshDiscovery", "PaymeshChannels", "PaymeshOnion", "PaymeshStore", "PaymeshMessages", "PaymeshMux", "PaymeshCrypto",
            "PaymeshGossip", "PaymeshRouting", nioCore, nioHelpers,
            .product(name: "Logging", package: "swift-log"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
        ]),
        // The console: JSON-RPC 2.0 over a Unix socket, one method group per feature, typed events as JSON.
        .target(name: "PaymeshConsole", dependencies: [
            "PaymeshNode", "PaymeshChannels", "PaymeshStore", "PaymeshMessages", "PaymeshCrypto", "PaymeshTransport", "PaymeshGossip",
            "PaymeshRouting", nioCore, nioPosix, nioHelpers,
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The composition root: the `PaymeshNode` service wires identity, peers, payments, discovery and the console.
        .target(name: "PaymeshDaemon", dependencies: [
            "PaymeshNode", "PaymeshConsole", "PaymeshTransport", "PaymeshCrypto", "PaymeshGossip", "PaymeshPay402",
            nioCore, nioPosix, nioHelpers, .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "CoreMetrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Hummingbird", package: "hummingbird"),
        ]),
        // The `paymesh` command: start, identity, console, ctl, mesh.
        .executableTarget(name: "PaymeshCLI", dependencies: [
            "PaymeshTerminal",
            "PaymeshDaemon", "PaymeshConsole", "PaymeshNode", "PaymeshCrypto", "PaymeshChannels", "PaymeshMessages",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // DNS-SD publishing and browsing over the Avahi client library (threaded poll).
        .target(name: "PaymeshDiscovery", dependencies: ["CAvahi"]),
        // Terminal I/O for people, sans-IO: the console's line editor, key decoding, history, progress lines.
        .target(name: "PaymeshTerminal"),
        // A hostile peer written from Specs/: raw sockets, hand-driven handshake, yamux and messages,
        // and the resource attacks of issue 7 (used by the node tests and `paymesh-bench soak`).
        .target(name: "PaymeshHostile", dependencies: ["PaymeshNoise", "PaymeshMux", "PaymeshMessages", "PaymeshMsgpack", "PaymeshCrypto", nioCore]),
        // Child process for the store's kill -9 test, and the store benchmarks (`bench`).
        .executableTarget(name: "paymesh-store-crashtest", dependencies: ["PaymeshStore", "PaymeshMessages", "PaymeshCrypto"], path: "Sources/PaymeshStoreCrashTest"),
        .executableTarget(name: "PaymeshBench", dependencies: ["PaymeshConsole", "PaymeshNode", "PaymeshGossip", "PaymeshGossipSimulation", "PaymeshHostile", "PaymeshStore", "PaymeshTransport", "PaymeshMux", "PaymeshMessages", "PaymeshCrypto", "PaymeshOnion", "PaymeshRouting", nioCore, nioPosix, nioHelpers, .product(name: "NIOHTTP1", package: "swift-nio")]),

        // Helpers shared by the test targets (vector loading, the seeded generator, timeouts).
        .target(name: "PaymeshTestSupport", dependencies: ["PaymeshCrypto"], path: "Tests/PaymeshTestSupport"),
        // The in-memory network of nodes (LDK's create_network): a memory transport behind the
        // transport interface, a manual clock, seeded randomness, N nodes of peers + payments.
        .target(name: "PaymeshNodeTestSupport", dependencies: [
            "PaymeshNode", "PaymeshTransport", "PaymeshNoise", "PaymeshMux", "PaymeshChannels", "PaymeshMessages", "PaymeshStore",
            "PaymeshCrypto", "PaymeshGossip", "PaymeshTestSupport", nioCore, nioHelpers,
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/PaymeshNodeTestSupport"),
        .testTarget(name: "PaymeshCryptoTests", dependencies: ["PaymeshCrypto", "PaymeshTestSupport"]),
        .testTarget(name: "PaymeshNoiseTests", dependencies: ["PaymeshNoise", "PaymeshCrypto", "PaymeshMsgpack", "PaymeshTestSupport", nioCore]),
        .testTarget(name: "PaymeshMuxTests", dependencies: ["PaymeshMux", "PaymeshTestSupport", nioCore]),
        .testTarget(name: "PaymeshMessagesTests", dependencies: ["PaymeshMessages", "PaymeshMsgpack", "PaymeshCrypto", "PaymeshTestSupport", nioCore]),
        .testTarget(name: "PaymeshChannelsTests", dependencies: ["PaymeshChannels", "PaymeshMessages", "PaymeshCrypto", "PaymeshTestSupport"]),
        .testTarget(name: "PaymeshStoreTests", dependencies: ["PaymeshStore", "PaymeshMessages", "PaymeshCrypto", "PaymeshTestSupport"]),
        .testTarget(name: "PaymeshNodeTests", dependencies: ["PaymeshDaemon", "PaymeshConsole", "PaymeshNode", "PaymeshOnion", "PaymeshHostile", "PaymeshChannels", "PaymeshStore", "PaymeshMessages", "PaymeshTransport", "PaymeshMux", "PaymeshDiscovery", "PaymeshCrypto", "PaymeshGossip", "PaymeshRouting", "PaymeshPay402", "PaymeshTestSupport", "PaymeshNodeTestSupport", nioCore, nioPosix, nioHelpers, .product(name: "NIOHTTP1", package: "swift-nio")]),
        .testTarget(name: "PaymeshConsoleTests", dependencies: ["PaymeshConsole", "PaymeshNode", "PaymeshChannels", "PaymeshMessages", "PaymeshCrypto", "PaymeshGossip", "PaymeshRouting", "PaymeshNodeTestSupport", "PaymeshTestSupport"]),
        .testTarget(name: "PaymeshDiscoveryTests", dependencies: ["PaymeshDiscovery", "PaymeshTestSupport"]),
        .testTarget(name: "PaymeshGossipTests", dependencies: ["PaymeshGossip", "PaymeshGossipSimulation", "PaymeshMessages", "PaymeshMsgpack", "PaymeshCrypto", "PaymeshTestSupport"]),
        .testTarget(name: "PaymeshOnionTests", dependencies: ["PaymeshOnion", "PaymeshMessages", "PaymeshCrypto", "PaymeshTestSupport"]),
        .testTarget(name: "PaymeshPay402Tests", dependencies: ["PaymeshPay402", "PaymeshChannels", "PaymeshMessages", "PaymeshCrypto", "PaymeshTestSupport"]),
        .testTarget(name: "PaymeshRoutingTests", dependencies: ["PaymeshRouting", "PaymeshGossip", "PaymeshOnion", "PaymeshMessages", "PaymeshCrypto", "PaymeshTestSupport"]),
        .testTarget(name: "PaymeshTerminalTests", dependencies: ["PaymeshTerminal"]),
        .testTarget(name: "PaymeshTransportTests", dependencies: ["PaymeshTransport", "PaymeshNoise", "PaymeshMux", "PaymeshMessages", "PaymeshCrypto", "PaymeshTestSupport", nioCore, nioPosix, nioHelpers]),
    ]
)
