import Synchronization

/// Finds other Paymesh nodes on the local link and announces this one, through avahi-daemon
/// (DNS-SD over mDNS). See Specs/discovery.md.
///
/// ```swift
/// let discovery = try Discovery(instanceName: "paymesh-7f3a", port: 9735, peerID: "0x…")
/// for await event in discovery.start() { … }
/// ```
/// `start()` never fails because the daemon is missing: the stream reports `.daemonUnavailable`
/// and discovery resumes by itself when the daemon appears or restarts.
public final class Discovery: Sendable {
    public static let defaultServiceType = "_paymesh._tcp"
    /// RFC 6763 §4.1.1: an instance name is at most 63 bytes of UTF-8.
    public static let maxInstanceNameLength = 63
    /// RFC 6335 §5.1: a service name is 1–15 characters.
    static let maxServiceNameLength = 15

    public let serviceType: String
    /// The instance name asked for; `publishedInstanceName` is the one in use after collisions.
    public let requestedInstanceName: String
    public let port: UInt16
    public let peerID: String
    /// The TXT attributes we publish (`id`, `v` and the extras), keys lowercased.
    public let txt: [String: String]
    private let txtStrings: [[UInt8]]
    private let hub: EventHub
    private let engine = Mutex<DiscoveryEngine?>(nil)

    /// - Parameters:
    ///   - peerID: our Ethereum address, EIP-55 ("0x" + 40 hex digits); published as TXT `id`.
    ///   - txt: extra TXT attributes; `id` and `v` are always ours and override entries here.
    /// - Throws: `DiscoveryError` for an invalid name, service type, peer id or TXT attribute.
    public init(serviceType: String = Discovery.defaultServiceType, instanceName: String, port: UInt16,
                peerID: String, txt: [String: String] = [:]) throws(DiscoveryError) {
        guard Self.isValidServiceType(serviceType) else { throw .invalidServiceType(serviceType) }
        let nameLength = instanceName.utf8.count
        guard nameLength >= 1, nameLength <= Self.maxInstanceNameLength else {
            throw .invalidInstanceName("\(instanceName.debugDescription) is \(nameLength) bytes; 1-\(Self.maxInstanceNameLength) allowed")
        }
        guard !instanceName.utf8.contains(0) else { throw .invalidInstanceName("contains a NUL byte") }
        let attributes = try PaymeshTXT.attributes(peerID: peerID, extra: txt)
        self.txtStrings = try TXTRecord.encode(attributes)
        self.txt = TXTRecord.parse(txtStrings)
        self.serviceType = serviceType
        self.requestedInstanceName = instanceName
        self.port = port
        self.peerID = peerID
        self.hub = EventHub(ownPeerID: peerID)
    }

    /// Starts publishing and browsing (if not running yet) and returns a stream of events. Each
    /// call returns a new stream that first replays the current state. The streams end at `stop()`.
    public func start() -> AsyncStream<DiscoveryEvent> {
        let stream = hub.subscribe()
        engine.withLock { engine in
            guard engine == nil else { return }
            do {
                let created = try DiscoveryEngine(serviceType: serviceType, instanceName: requestedInstanceName,
                                                  port: port, txt: txtStrings, hub: hub)
                created.start()
                engine = created
            } catch {
                hub.apply { $0.onDaemonUnavailable(reason: "\(error)") }
            }
        }
        return stream
    }

    /// Peers visible now, sorted by instance name (never ourselves).
    public var currentPeers: [DiscoveredPeer] {
        hub.read { $0.peers }
    }

    /// The instance name our service is registered under, or nil while it is not registered.
    public var publishedInstanceName: String? {
        hub.read { $0.publishedName }
    }

    /// True while avahi-daemon is reachable.
    public var isDaemonAvailable: Bool {
        hub.read { $0.daemon == .available }
    }

    /// The last failure to publish or browse, or to reach the daemon (for diagnostics).
    public var lastError: String? {
        engine.withLock { $0?.lastError }
    }

    /// Withdraws our service, frees every Avahi object and ends every stream. `start()` may be
    /// called again afterwards.
    public func stop() {
        let stopped = engine.withLock { engine -> DiscoveryEngine? in
            defer { engine = nil }
            return engine
        }
        stopped?.shutdown()
        hub.finishAll()
    }

    deinit {
        stop()
    }

    /// `_name._tcp` or `_name._udp` with a 1–15 character service name (RFC 6763 §7, RFC 6335 §5.1).
    static func isValidServiceType(_ type: String) -> Bool {
        let labels = type.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count == 2, labels[1] == "_tcp" || labels[1] == "_udp" else { return false }
        let service = labels[0].utf8
        guard service.first == UInt8(ascii: "_") else { return false }
        let body = service.dropFirst()
        return (1...maxServiceNameLength).contains(body.count)
            && body.allSatisfy { $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) }
    }
}
