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
public struct DiscoveryTracker: Sendable {
    public enum Daemon: Hashable, Sendable {
        /// Discovery has not heard from the Avahi client yet.
        case unknown
        case available
        case unavailable(reason: String)
    }

    public enum Action: Hashable, Sendable {
        case found(EthereumAddress, PeerEndpoint)
        case lost(EthereumAddress)
        case status(DiscoveryStatus)
    }

    /// One service as Avahi reports it; `id` is nil when the TXT `id` is not a peer id.
    public struct Seen: Hashable, Sendable {
        public let peer: DiscoveredPeer
        public let id: EthereumAddress?
        /// True for a service that carries our own id (another process with our key).
        public let isSelf: Bool
    }

    /// Appended to the reason when the daemon is unreachable (Specs/discovery.md §Node).
    public static let unavailableSuffix = "; static peers and connect still work, discovery resumes when avahi-daemon is back"

    public let local: EthereumAddress
    public private(set) var daemon: Daemon = .unknown
    public private(set) var publishedName: String?
    /// Services visible now, by instance name.
    public private(set) var seen: [String: Seen] = [:]

    public init(local: EthereumAddress) {
        self.local = local
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
            let entry = Seen(peer: peer, id: id, isSelf: id == local)
            guard seen[peer.instanceName] != entry else { return [] }
            seen[peer.instanceName] = entry
            guard let id, id != local else { return [] }
            return [.found(id, PeerEndpoint(host: peer.host, port: Int(peer.port)))]
        case .removed(let name):
            guard let gone = seen.removeValue(forKey: name), let id = gone.id, !gone.isSelf else { return [] }
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
            let lost = Set(seen.values.compactMap { $0.isSelf ? nil : $0.id }).sorted().map(Action.lost)
            seen.removeAll()
            publishedName = nil
            guard daemon != .unavailable(reason: reason) else { return lost }
            daemon = .unavailable(reason: reason)
            return lost + [.status(.off(reason + Self.unavailableSuffix))]
        }
    }
}
