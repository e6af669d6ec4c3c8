public import PaymeshCrypto
public import PaymeshDiscovery

/// Turns what `Discovery` reports into what the peer manager needs, without I/O: peers found
/// and lost by peer id (not by instance name), and the on/off status with its reason. It also
/// keeps the view the console `discovery` method shows. Sans-IO: tested with plain values.
///
/// - A service whose TXT `id` is not a peer id, or is our own id, is shown but never dialled.
/// - Two instance names carrying one id (a node re-registered under a new name) are one peer:
///   it is lost when the last of them goes, and re-announced at the remaining address.
/// - Repeated reports that change nothing produce no action.
/// - With an allowlist (`--discover-allow`), a peer whose id is not in it is shown and counted
///   (`skipped`, action `.skipped`) but never dialled.
public struct DiscoveryTracker: Sendable {
    public enum Daemon: Hashable, Sendable {
        /// Discovery has not heard from the Avahi client yet.
        case unknown
        case available
        case unavailable(reason: String)
    }

    public enum Action: Hashable, Sendable {
        case found(EthereumAddress, PeerEndpoint)
        /// Found, but its id is not in the allowlist: not dialled.
        case skipped(EthereumAddress, PeerEndpoint)
        case lost(EthereumAddress)
        case status(DiscoveryStatus)
    }

    /// One service as Avahi reports it; `id` is nil when the TXT `id` is not a peer id.
    public struct Seen: Hashable, Sendable {
        public let peer: DiscoveredPeer
        public let id: EthereumAddress?
        /// True for a service that carries our own id (another process with our key).
        public let isSelf: Bool
        /// True for a peer id that the allowlist leaves out.
        public var notAllowed: Bool = false

        /// A service the node dials: a peer id, not ours, allowed.
        var dialable: Bool { id != nil && !isSelf && !notAllowed }
    }

    /// Appended to the reason when the daemon is unreachable (Specs/discovery.md §Node).
    public static let unavailableSuffix = "; static peers and connect still work, discovery resumes when avahi-daemon is back"

    public let local: EthereumAddress
    /// The peer ids discovery may dial (`--discover-allow`); nil: any.
    public let allow: Set<EthereumAddress>?
    /// Reports of peers left out by the allowlist (a repeated report that changes nothing is not counted).
    public private(set) var skipped: UInt64 = 0
    public private(set) var daemon: Daemon = .unknown
    public private(set) var publishedName: String?
    /// Services visible now, by instance name.
    public private(set) var seen: [String: Seen] = [:]

    public init(local: EthereumAddress, allow: Set<EthereumAddress>? = nil) {
        self.local = local
        self.allow = allow
    }

    /// Visible services sorted by instance name.
    public var services: [Seen] { seen.values.sorted { $0.peer.instanceName < $1.peer.instanceName } }

    /// Forgets every service whose instance name is not in `visible` (as if each had been
    /// reported removed): reconciles the view with a fresh `Discovery.currentPeers` when a new
    /// event stream starts, since a stream replays what is visible but not what went away.
    public mutating func retain(instanceNames visible: Set<String>) -> [Action] {
        seen.keys.filter { !visible.contains($0) }.sorted().flatMap { on(.removed(instanceName: $0)) }
    }

    public mutating func on(_ event: DiscoveryEvent) -> [Action] {
        switch event {
        case .found(let peer):
            let id = EthereumAddress(string: peer.peerID.lowercased())
            var entry = Seen(peer: peer, id: id, isSelf: id == local)
            if let id, let allow, id != local, !allow.contains(id) { entry.notAllowed = true }
            guard seen[peer.instanceName] != entry else { return [] }
            seen[peer.instanceName] = entry
            guard let id, id != local else { return [] }
            let endpoint = PeerEndpoint(host: peer.host, port: Int(peer.port))
            guard !entry.notAllowed else {
                skipped += 1
                return [.skipped(id, endpoint)]
            }
            return [.found(id, endpoint)]
        case .removed(let name):
            guard let gone = seen.removeValue(forKey: name), gone.dialable, let id = gone.id else { return [] }
            if let other = services.first(where: { $0.id == id }) {
                return [.found(id, PeerEndpoint(host: other.peer.host, port: Int(other.peer.port)))]
            }
            return [.lost(id)]
        case .published(let name):
            publishedName = name
            return []
        case .daemonAvailable:
            guard daemon != .available else { return [] }
            daemon = .available
            return [.status(DiscoveryStatus(active: true, reason: nil))]
        case .daemonUnavailable(let reason):
            // Discovery reports every peer removed before this; drop any left as well.
            let lost = Set(seen.values.compactMap { $0.dialable ? $0.id : nil }).sorted().map(Action.lost)
            seen.removeAll()
            publishedName = nil
            guard daemon != .unavailable(reason: reason) else { return lost }
            daemon = .unavailable(reason: reason)
            return lost + [.status(.off(reason + Self.unavailableSuffix))]
        }
    }
}
