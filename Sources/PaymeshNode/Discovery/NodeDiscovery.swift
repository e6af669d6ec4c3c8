public import Logging
public import PaymeshCrypto
import PaymeshDiscovery
import Synchronization

/// LAN discovery for a running node (Specs/discovery.md, "What a node does"): publishes the
/// node as `_paymesh._tcp` with its id and listen port, and hands every peer Avahi finds or
/// loses to the `PeerManager`, which dials it unless it is connected already (the peer table's
/// dial-deduplication rule settles simultaneous dials).
///
/// With no avahi-daemon reachable the node runs on: the status says why discovery is off (the
/// peer manager logs it once), and discovery resumes by itself when the daemon appears.
public final class NodeDiscovery: Sendable {
    /// How long `prepare()` waits for the Avahi client's first state, so that the node's ready
    /// line and first `getinfo` already show whether discovery is on.
    public static let firstStatusWait: Duration = .seconds(1)
    /// `paymesh-` and the first 8 hex digits of the id (collisions get Avahi's `#2`, `#3`, …).
    public static func instanceName(for id: EthereumAddress) -> String {
        "paymesh-" + id.lowercaseHex.dropFirst(2).prefix(8)
    }

    public let serviceType = Discovery.defaultServiceType
    public let instanceName: String
    /// Why discovery is not used at all (`--no-mdns`, a failed set-up); nil when it runs.
    public let disabledReason: String?
    private let discovery: Discovery?
    private let peers: PeerManager
    private let logger: Logger
    private let clock: any NodeClock
    private let tracker: Mutex<DiscoveryTracker>

    /// - Parameters:
    ///   - enabled: false for `--no-mdns`; nothing is published or browsed.
    ///   - allow: the peer ids discovery may dial (`--discover-allow`); nil: any.
    public init(enabled: Bool, local: EthereumAddress, listenPort: Int, peers: PeerManager, logger: Logger,
                clock: any NodeClock = SystemClock(), allow: Set<EthereumAddress>? = nil) {
        self.peers = peers
        self.logger = logger
        self.clock = clock
        self.instanceName = Self.instanceName(for: local)
        self.tracker = Mutex(DiscoveryTracker(local: local, allow: allow))
        guard enabled else {
            discovery = nil
            disabledReason = "disabled by --no-mdns"
            return
        }
        do {
            discovery = try Discovery(instanceName: instanceName, port: UInt16(clamping: listenPort), peerID: local.description)
            disabledReason = nil
        } catch {
            discovery = nil
            disabledReason = "cannot set up discovery: \(error)"
        }
    }

    /// Starts publishing and browsing and applies what arrives within `firstStatusWait`
    /// (normally the daemon's state, at once). Without discovery, sets the status to off.
    public func prepare() async {
        guard let discovery else {
            await peers.setDiscoveryStatus(.off(disabledReason ?? "off"))
            return
        }
        let stream = discovery.start()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await event in stream {
                    await self.apply(event)
                    if case .daemonAvailable = event { return }
                    if case .daemonUnavailable = event { return }
                }
            }
            group.addTask { [clock] in try? await clock.sleep(for: Self.firstStatusWait) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Follows discovery until `stop()`. A new stream replays the current state (reports that
    /// change nothing are dropped by the tracker); services that went away since `prepare()`
    /// are not replayed, so the view is first reconciled with what is visible now.
    public func run() async {
        guard let discovery else { return }
        let stream = discovery.start()
        let visible = Set(discovery.currentPeers.map(\.instanceName))
        await perform(tracker.withLock { $0.retain(instanceNames: visible) })
        for await event in stream { await apply(event) }
    }

    /// Withdraws our service and ends `run()` (node shutdown).
    public func stop() {
        discovery?.stop()
    }

    /// What the console `discovery` method shows.
    public var view: (daemon: DiscoveryTracker.Daemon, published: String?, services: [DiscoveryTracker.Seen],
                      allow: Set<EthereumAddress>?, skipped: UInt64) {
        tracker.withLock { ($0.daemon, $0.publishedName, $0.services, $0.allow, $0.skipped) }
    }

    private func apply(_ event: DiscoveryEvent) async {
        if case .published(let name) = event { logger.debug("published", metadata: ["instance": "\(name)", "type": "\(serviceType)"]) }
        await perform(tracker.withLock { $0.on(event) })
    }

    private func perform(_ actions: [DiscoveryTracker.Action]) async {
        for action in actions {
            switch action {
            case .found(let id, let endpoint): await peers.peerDiscovered(address: id, host: endpoint.host, port: endpoint.port)
            case .skipped(let id, let endpoint): await peers.discoverySkipped(id, at: endpoint)
            case .lost(let id): await peers.peerLost(address: id)
            case .status(let status): await peers.setDiscoveryStatus(status)
            }
        }
    }
}
