/// The bookkeeping of discovery, without I/O: which peers are visible, keyed by instance name,
/// whether the daemon is reachable, and under which name we are published. Each `on…` method
/// takes one thing Avahi reported and returns the events to deliver, already deduplicated.
///
/// A service can be seen on several interfaces; it is removed when the last one withdraws it.
/// A service carrying our own peer id is never reported (the browser already drops the instance
/// Avahi flags as registered by our own client, so this catches a second process with our key).
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

    private func isOwn(_ peer: DiscoveredPeer) -> Bool {
        peer.peerID.lowercased() == ownPeerID.lowercased()
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

    /// Our service is registered under `instanceName`.
    mutating func onPublished(instanceName: String) -> [DiscoveryEvent] {
        guard publishedName != instanceName else { return [] }
        publishedName = instanceName
        return [.published(instanceName: instanceName)]
    }

    /// Our registration was withdrawn (name collision, host name change); a new one follows.
    mutating func onUnpublished() -> [DiscoveryEvent] {
        publishedName = nil
        return []
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
