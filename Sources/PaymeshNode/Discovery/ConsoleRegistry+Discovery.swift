extension ConsoleRegistry {
    /// The `discovery` console method (Specs/console.md §4): what Avahi currently sees, whether
    /// the daemon is reachable, and why discovery is off when it is.
    func registerDiscoveryMethod(_ discovery: NodeDiscovery, peers: PeerManager) {
        register(ConsoleMethod(
            "discovery", summary: "What LAN discovery (Avahi, DNS-SD _paymesh._tcp) currently sees.",
            result: "{active, reason, daemon, serviceType, instance, peers: [{instance, id, host, port, version, state}]}"
        ) { _ in
            let s = await peers.snapshot()
            let states = Dictionary(s.peers.map { ($0.id, $0.state) }, uniquingKeysWith: { a, _ in a })
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
                "peers": .array(view.services.map { seen in
                    let state: String? = seen.isSelf ? "self" : seen.id.flatMap { states[$0] }
                    return ["instance": .string(seen.peer.instanceName), "id": .string(seen.peer.peerID), "host": .string(seen.peer.host),
                            "port": JSONValue(seen.peer.port), "version": JSONValue(seen.peer.txt["v"]), "state": JSONValue(state)]
                }),
            ]
        })
    }
}
