import Foundation
import PaymeshConsole
public import PaymeshNode
public import PaymeshCrypto

/// Everything a node needs to start. Built from `NodeOptions` by the CLI, directly by tests.
public struct NodeConfiguration: Sendable {
    public static let consoleSocketName = "console.sock"

    /// Holds `identity.key` and `console.sock`; created with mode 0700.
    public var dataDirectory: String
    /// Where to accept peers; port 0 picks a free port (reported by `ready()` and `getinfo`).
    public var listen: PeerEndpoint
    /// Peers kept connected (`--peer`).
    public var staticPeers: [PeerEndpoint]
    /// The identity a static peer must prove (`--peer id@host:port`), by endpoint.
    public var pinnedPeers: [PeerEndpoint: EthereumAddress] = [:]
    /// LAN discovery wanted (off with `--no-mdns`).
    public var mdns: Bool
    /// The peer ids discovery may dial (`--discover-allow`); nil: any. Others are shown and
    /// counted as skipped, never dialled (static peers and `connect` are not affected).
    public var discoverAllow: Set<EthereumAddress>?
    public var peers: PeerManager.Configuration
    /// Specs/console.md §2.
    public var consoleMaxLineBytes: Int
    /// The payments layer (store sync mode, what a payee accepts, pipelining bounds).
    public var payments: PaymentsConfiguration
    /// The gossip layer (Specs/gossip.md): router parameters, graph limits, alias, channel terms;
    /// nil runs the node without gossip.
    public var gossip: GossipConfiguration? = GossipConfiguration()
    /// Time and randomness for everything above the transport (tests inject a `ManualClock` and
    /// a seeded generator).
    public var clock: any NodeClock
    public var random: NodeRandom
    /// The node's HTTP listener (`/metrics`, and the routes later features register); nil: none.
    /// Off unless asked for (`--http`), so that many nodes on one host never fight over a port.
    public var http: PeerEndpoint?
    /// Routed payments' limits (final expiry asked, routes per search; Specs/routing.md §8).
    public var routing = RoutedPayments.Limits()
    /// Seconds one step of a per-second service buys (1 … 60; Specs/http402.md §12.6).
    public var secondStep: UInt64 = 10

    public init(dataDirectory: String, listen: PeerEndpoint = PeerEndpoint(host: "127.0.0.1", port: 0),
                staticPeers: [PeerEndpoint] = [], mdns: Bool = true, peers: PeerManager.Configuration = .init(),
                consoleMaxLineBytes: Int = ConsoleLineFramer.defaultMaxLineBytes,
                payments: PaymentsConfiguration = .fromEnvironment(ProcessInfo.processInfo.environment),
                clock: any NodeClock = SystemClock(), random: NodeRandom = .system(), http: PeerEndpoint? = nil) {
        self.http = http
        self.dataDirectory = dataDirectory
        self.listen = listen
        self.staticPeers = staticPeers
        self.mdns = mdns
        self.peers = peers
        self.consoleMaxLineBytes = consoleMaxLineBytes
        self.payments = payments
        self.clock = clock
        self.random = random
    }

    public var consoleSocketPath: String { Self.consoleSocketPath(dataDirectory: dataDirectory) }

    public static func consoleSocketPath(dataDirectory: String) -> String {
        DataDirectory.expand(dataDirectory) + "/" + consoleSocketName
    }
}
