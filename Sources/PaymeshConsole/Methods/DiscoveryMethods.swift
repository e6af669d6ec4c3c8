import PaymeshNode

/// The `discovery` method (Specs/console.md §4.1): what Avahi currently sees, whether the daemon
/// is reachable, and why discovery is off when it is.
public struct DiscoveryMethods: ConsoleMethodGroup {
    let discovery: NodeDiscovery
    let peers: PeerManager

    public init(discovery: NodeDiscovery, peers: PeerManager) {
        self.discovery = discovery
        self.peers = peers
    }

    public var methods: [ConsoleMethod] {
        [ConsoleMethod(
            "discovery", summary: "What LAN discovery (Avahi, DNS-SD _paymesh._tcp) currently sees.",
            result: "{active, reason, daemon, serviceType, instance, allow: [id] or null, skipped, peers: [{instance, id, host, port, version, state}]}"
        ) { [discovery, peers] _ in
            let s = await peers.snapshot()
            let view = discovery.view
            let daemon: String
            switch view.daemon {
            case .unknown: daemon = discovery.disabledReason == nil ? "unknown" : "disabled"
            case .available: daemon = "available"
            case .unavailable: daemon = "unavailable"
            }
            return [
                "active": .bool(s.discovery.active), "reason": JSONValue(s.discovery.reason),
                "daemon": .string(daemon), "serviceType": .string(discovery.serviceType),
                "instance": JSONValue(view.published),
                "allow": view.allow.map { JSONValue.array($0.map(\.lowercaseHex).sorted().map { JSONValue.string($0) }) } ?? .null,
                "skipped": JSONValue(view.skipped),
                "peers": .array(Self.discoveredPeers(s, services: view.services)),
            ]
        }]
    }

    /// The peers the node acts on (the peer table's discovered addresses, also those another
    /// source reported through `PeerManager.peerDiscovered`), with the DNS-SD instance and
    /// protocol version Avahi reported for them; then services Avahi shows that are never
    /// dialled (our own id under another name, a TXT `id` that is not a peer id, an id the
    /// allowlist leaves out).
    static func discoveredPeers(_ s: PeerSnapshot, services: [DiscoveryTracker.Seen]) -> [JSONValue] {
        let states = Dictionary(s.peers.map { ($0.id, $0.state) }, uniquingKeysWith: { a, _ in a })
        let dialled: [JSONValue] = s.discovered.map { id, endpoint in
            let seen = services.first { $0.id == id && $0.peer.host == endpoint.host && Int($0.peer.port) == endpoint.port }
                ?? services.first { $0.id == id }
            return ["id": .string(id.description), "host": .string(endpoint.host), "port": JSONValue(endpoint.port),
                    "state": JSONValue(states[id]), "instance": JSONValue(seen?.peer.instanceName), "version": JSONValue(seen?.peer.txt["v"])]
        }
        let ignored: [JSONValue] = services.filter { $0.isSelf || $0.id == nil || $0.notAllowed }.map { seen in
            ["id": .string(seen.peer.peerID), "host": .string(seen.peer.host), "port": JSONValue(seen.peer.port),
             "state": .string(seen.isSelf ? "self" : seen.notAllowed ? "not allowed" : "invalid id"), "instance": .string(seen.peer.instanceName),
             "version": JSONValue(seen.peer.txt["v"])]
        }
        return dialled + ignored
    }
}
