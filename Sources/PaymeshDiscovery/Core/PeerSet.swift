/// The bookkeeping of discovery, without I/O: which peers are visible, keyed by instance name,
/// whether the daemon is reachable, and under which name we are published. Each `on…` method
/// takes one thing Avahi reported and returns the events to deliver, already deduplicated.
///
/// A service can be seen on several interfaces; it is removed when the last one withdraws it.
/// Our own service (by established instance name or by peer id) is never reported.
struct PeerSet: Sendable {
    enum DaemonStatus: Hashable, Sendable {
        case unknown
        case available
        case unavailable(reason: String)
    }

    private struct Entry: Sendable {
        var peer: DiscoveredPeer
        var interfaces: Set<Int32>
    }

    let ownPeerID: String
    private(set) var daemon: DaemonStatus = .unknown
    private(set) var publishedName: String?
    private var entries: [String: Entry] = [:]

    init(ownPeerID: String) {
        self.ownPeerID = ownPeerID
    }

    /// Visible peers, sorted by instance name.
    var peers: [DiscoveredPeer] {
        entries.values.map(\.peer).sorted { $0.instanceName < $1.instanceName }
    }

    func isOwn(instanceName: String) -> Bool { instanceName == publishedName }

    private func isOwn(_ peer: DiscoveredPeer) -> Bool {
        isOwn(instanceName: peer.instanceName) || peer.peerID.lowercased() == ownPeerID.lowercased()
    }

    /// A service was resolved on `interface`.
    mutating func onResolved(_ peer: DiscoveredPeer, interface: Int32) -> [DiscoveryEvent] {
        guard !isOwn(peer) else { return [] }
        if var entry = entries[peer.instanceName] {
            entry.interfaces.insert(interface)
            let changed = entry.peer != peer
            entry.peer = peer
            entries[peer.instanceName] = entry
            return changed ? [.found(peer)] : []
        }
        entries[peer.instanceName] = Entry(peer: peer, interfaces: [interface])
        return [.found(peer)]
    }

    /// The service named `instanceName` was withdrawn on `interface`.
    mutating func onRemoved(instanceName: String, interface: Int32) -> [DiscoveryEvent] {
        guard var entry = entries[instanceName] else { return [] }
        entry.interfaces.remove(interface)
        if entry.interfaces.isEmpty {
            entries[instanceName] = nil
            return [.removed(instanceName: instanceName)]
        }
        entries[instanceName] = entry
        return []
    }

    /// Our service is registered under `instanceName`. A peer held under that name was us.
    mutating func onPublished(instanceName: String) -> [DiscoveryEvent] {
        guard publishedName != instanceName else { return [] }
        publishedName = instanceName
        var events: [DiscoveryEvent] = []
        if entries.removeValue(forKey: instanceName) != nil {
            events.append(.removed(instanceName: instanceName))
        }
        events.append(.published(instanceName: instanceName))
        return events
    }

    mutating func onDaemonAvailable() -> [DiscoveryEvent] {
        guard daemon != .available else { return [] }
        daemon = .available
        return [.daemonAvailable]
    }

    /// The daemon is gone: every peer is reported removed, then the daemon once (repeated
    /// reports while it stays unavailable are dropped). Our registration is gone with it.
    mutating func onDaemonUnavailable(reason: String) -> [DiscoveryEvent] {
        var events: [DiscoveryEvent] = peers.map { .removed(instanceName: $0.instanceName) }
        entries.removeAll()
        publishedName = nil
        if case .unavailable = daemon { return events }
        daemon = .unavailable(reason: reason)
        events.append(.daemonUnavailable(reason: reason))
        return events
    }

    /// What a subscriber joining now needs to know: daemon state, our name, then every peer.
    func snapshot() -> [DiscoveryEvent] {
        var events: [DiscoveryEvent] = []
        switch daemon {
        case .unknown: break
        case .available: events.append(.daemonAvailable)
        case .unavailable(let reason): events.append(.daemonUnavailable(reason: reason))
        }
        if let publishedName { events.append(.published(instanceName: publishedName)) }
        events += peers.map { .found($0) }
        return events
    }
}
