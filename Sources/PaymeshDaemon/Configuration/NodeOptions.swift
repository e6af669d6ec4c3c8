public import Logging
import PaymeshConsole
public import PaymeshNode
import PaymeshCrypto
import PaymeshMessages

/// The `paymesh start` options as they arrive from flags, the environment and a config file;
/// every field optional. Precedence: flags over environment over file over defaults.
public struct NodeOptions: Hashable, Sendable {
    public var dataDir: String?
    public var listen: String?
    public var logLevel: String?
    public var logFile: String?
    /// `text` (default) or `json` (`--log-format`, `PAYMESH_LOG_FORMAT`, config key `log-format`).
    public var logFormat: String?
    public var peers: [String]?
    public var noMdns: Bool?
    /// Assets whose decimals are fixed by configuration, as "ID:DECIMALS" (`--asset USDC:6`,
    /// `PAYMESH_ASSETS` comma-separated, config key `assets`; Specs/README.md, "Money").
    public var assets: [String]?
    /// The HTTP listener: `host:port`, or a port alone for 127.0.0.1 (`--http`, `PAYMESH_HTTP`, `"http"`).
    public var http: String?
    /// Peer ids LAN discovery may dial (`--discover-allow ID[,ID…]`, repeatable;
    /// `PAYMESH_DISCOVER_ALLOW` comma-separated; config key `discover-allow`, an array); nil: any.
    public var discoverAllow: [String]?
    /// Seconds after which an unrefreshed channel, channel end or node leaves the gossip graph
    /// (`--gossip-stale`, `PAYMESH_GOSSIP_STALE`, config key `gossip-stale`; default 14 days). The
    /// node then refreshes its own announcements every quarter of it and prunes as often (≤ 60 s).
    public var gossipStale: String?
    /// Forwarding terms this node charges, enforces and advertises in its channel updates (atomic
    /// units; `--fee-base`, `--fee-ppm`, `PAYMESH_FEE_BASE`, `PAYMESH_FEE_PPM`, config keys `fee-base`,
    /// `fee-ppm`; default 0 and 0).
    public var feeBase: String?
    public var feePPM: String?
    /// Seconds of HTLC expiry delta this node requires and advertises when it forwards, and its
    /// minimum final expiry as a payee; its invoices and spontaneous payments ask twice that of the
    /// final hop (`--htlc-expiry-delta`, `PAYMESH_HTLC_EXPIRY_DELTA`, config key `htlc-expiry-delta`;
    /// 1…86400; default: 10 min forwarding (1 h advertised), 1 min final, 1 h asked). Short values
    /// make stuck HTLCs unlock fast (tests, demos).
    public var htlcExpiryDelta: String?

    public static let defaultDataDir = "~/.paymesh"
    public static let defaultListen = "127.0.0.1:0"

    public init(dataDir: String? = nil, listen: String? = nil, logLevel: String? = nil, logFile: String? = nil,
                peers: [String]? = nil, noMdns: Bool? = nil, assets: [String]? = nil, logFormat: String? = nil, http: String? = nil,
                discoverAllow: [String]? = nil, gossipStale: String? = nil) {
        self.discoverAllow = discoverAllow
        self.gossipStale = gossipStale
        self.assets = assets
        self.logFormat = logFormat
        self.http = http
        self.dataDir = dataDir
        self.listen = listen
        self.logLevel = logLevel
        self.logFile = logFile
        self.peers = peers
        self.noMdns = noMdns
    }

    /// `PAYMESH_DATA_DIR`, `PAYMESH_LISTEN`, `PAYMESH_LOG_LEVEL`, `PAYMESH_LOG_FILE`,
    /// `PAYMESH_PEERS` (comma-separated), `PAYMESH_NO_MDNS` (1/true/yes), `PAYMESH_HTTP`.
    public static func environment(_ env: [String: String]) -> NodeOptions {
        func value(_ key: String) -> String? { env[key].flatMap { $0.isEmpty ? nil : $0 } }
        var options = NodeOptions(
            dataDir: value("PAYMESH_DATA_DIR"), listen: value("PAYMESH_LISTEN"), logLevel: value("PAYMESH_LOG_LEVEL"),
            logFile: value("PAYMESH_LOG_FILE"),
            peers: value("PAYMESH_PEERS").map { $0.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty } },
            noMdns: value("PAYMESH_NO_MDNS").map { ["1", "true", "yes"].contains($0.lowercased()) },
            assets: value("PAYMESH_ASSETS").map { $0.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty } },
            logFormat: value("PAYMESH_LOG_FORMAT"),
            http: value("PAYMESH_HTTP"),
            gossipStale: value("PAYMESH_GOSSIP_STALE"))
        options.discoverAllow = value("PAYMESH_DISCOVER_ALLOW").map(Self.idList)
        options.feeBase = value("PAYMESH_FEE_BASE")
        options.feePPM = value("PAYMESH_FEE_PPM")
        options.htlcExpiryDelta = value("PAYMESH_HTLC_EXPIRY_DELTA")
        return options
    }

    /// `--discover-allow` values: ids separated by commas, spaces allowed around them.
    public static func idList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
    }

    /// A JSON config file with the flags' names as keys:
    /// `{"data-dir": "...", "listen": "host:port", "log-level": "info", "log-file": "...",
    ///   "peers": ["host:port", ...], "no-mdns": true, "http": "127.0.0.1:9464"}`. Unknown keys are an error.
    public static func parseConfigFile(_ bytes: some Collection<UInt8>, path: String) throws(NodeError) -> NodeOptions {
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch { throw .configuration("\(path): \(error.detail)") }
        guard case .object(let o) = value else { throw .configuration("\(path): the config must be a JSON object") }
        var options = NodeOptions()
        for (key, v) in o {
            func string() throws(NodeError) -> String {
                guard let s = v.stringValue else { throw .configuration("\(path): \(key) must be a string") }
                return s
            }
            switch key {
            case "data-dir": options.dataDir = try string()
            case "listen": options.listen = try string()
            case "log-level": options.logLevel = try string()
            case "log-file": options.logFile = try string()
            case "log-format": options.logFormat = try string()
            case "peers":
                guard let a = v.arrayValue, a.allSatisfy({ $0.stringValue != nil }) else {
                    throw .configuration("\(path): peers must be an array of \"host:port\" strings")
                }
                options.peers = a.compactMap(\.stringValue)
            case "no-mdns":
                guard let b = v.boolValue else { throw .configuration("\(path): no-mdns must be true or false") }
                options.noMdns = b
            case "assets":
                guard let a = v.arrayValue, a.allSatisfy({ $0.stringValue != nil }) else {
                    throw .configuration("\(path): assets must be an array of \"ID:DECIMALS\" strings")
                }
                options.assets = a.compactMap(\.stringValue)
            case "http": options.http = try string()
            case "discover-allow":
                guard let a = v.arrayValue, a.allSatisfy({ $0.stringValue != nil }) else {
                    throw .configuration("\(path): discover-allow must be an array of peer ids")
                }
                options.discoverAllow = a.compactMap(\.stringValue)
            case "gossip-stale":
                if let n = v.intValue { options.gossipStale = "\(n)" } else { options.gossipStale = try string() }
            case "fee-base":
                if let n = v.intValue { options.feeBase = "\(n)" } else { options.feeBase = try string() }
            case "fee-ppm":
                if let n = v.intValue { options.feePPM = "\(n)" } else { options.feePPM = try string() }
            case "htlc-expiry-delta":
                if let n = v.intValue { options.htlcExpiryDelta = "\(n)" } else { options.htlcExpiryDelta = try string() }
            default:
                throw .configuration("\(path): unknown key \(key) (known: data-dir, listen, log-level, log-file, log-format, peers, no-mdns, assets, http, discover-allow, gossip-stale, fee-base, fee-ppm, htlc-expiry-delta)")
            }
        }
        return options
    }

    /// `self` with every field `other` sets replaced by `other`'s.
    public func overridden(by other: NodeOptions) -> NodeOptions {
        var merged = NodeOptions(dataDir: other.dataDir ?? dataDir, listen: other.listen ?? listen, logLevel: other.logLevel ?? logLevel,
                    logFile: other.logFile ?? logFile, peers: other.peers.flatMap { $0.isEmpty ? nil : $0 } ?? peers,
                    noMdns: other.noMdns ?? noMdns, assets: other.assets.flatMap { $0.isEmpty ? nil : $0 } ?? assets,
                    logFormat: other.logFormat ?? logFormat, http: other.http ?? http, gossipStale: other.gossipStale ?? gossipStale)
        merged.discoverAllow = other.discoverAllow ?? discoverAllow
        merged.feeBase = other.feeBase ?? feeBase
        merged.feePPM = other.feePPM ?? feePPM
        merged.htlcExpiryDelta = other.htlcExpiryDelta ?? htlcExpiryDelta
        return merged
    }

    public var resolvedLogLevel: Logger.Level {
        get throws(NodeError) {
            guard let text = logLevel else { return .info }
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw .configuration("unknown log level \(text) (trace, debug, info, notice, warning, error, critical)")
            }
            return level
        }
    }

    public var resolvedLogFormat: LogFormat {
        get throws(NodeError) {
            guard let text = logFormat else { return .text }
            guard let format = LogFormat(rawValue: text.lowercased()) else { throw .configuration("unknown log format \(text) (text, json)") }
            return format
        }
    }

    /// The node configuration these options describe (defaults filled in, addresses parsed).
    public func nodeConfiguration() throws(NodeError) -> NodeConfiguration {
        let (host, port) = try PeerEndpoint.parse(listen ?? Self.defaultListen)
        var peers: [PeerEndpoint] = []
        var pinned: [PeerEndpoint: EthereumAddress] = [:]
        for text in self.peers ?? [] {
            let (id, endpoint) = try PeerEndpoint.parsePinned(text)
            guard endpoint.port != 0 else { throw .configuration("peer \(text): port 0 cannot be dialled") }
            peers.append(endpoint)
            if let id { pinned[endpoint] = id }
        }
        var configuration = NodeConfiguration(dataDirectory: DataDirectory.expand(dataDir ?? Self.defaultDataDir),
                                              listen: PeerEndpoint(host: host, port: port), staticPeers: peers, mdns: !(noMdns ?? false),
                                              http: try http.map(Self.httpEndpoint))
        configuration.pinnedPeers = pinned
        configuration.discoverAllow = try discoverAllow.map(Self.allowedIDs)
        configuration.payments.assets = try PaymentsConfiguration.parseAssets(assets ?? [])
        if let gossipStale, var gossip = configuration.gossip {
            guard let seconds = Int64(gossipStale), (4...31_536_000).contains(seconds) else {
                throw .configuration("gossip-stale \(gossipStale): seconds, 4…31536000")
            }
            gossip.graphLimits.channelStaleMillis = UInt64(seconds) * 1_000
            gossip.graphLimits.nodeStaleMillis = UInt64(seconds) * 1_000
            gossip.refreshInterval = min(gossip.refreshInterval, .seconds(seconds / 4))
            // Refreshes come every quarter of the stale period: the accepted update rate per
            // channel end must allow them (else every other one is ignored and ends age out).
            gossip.graphLimits.channelUpdateMinIntervalMillis = min(gossip.graphLimits.channelUpdateMinIntervalMillis,
                                                                    UInt64(seconds) * 1_000 / 8)
            gossip.pruneInterval = min(gossip.pruneInterval, .seconds(seconds / 4))
            configuration.gossip = gossip
        }
        try applyForwardingTerms(to: &configuration)
        return configuration
    }

    /// `fee-base`, `fee-ppm` and `htlc-expiry-delta` into the HTLC policy, the advertised channel
    /// terms and the routed payments' final expiry.
    func applyForwardingTerms(to configuration: inout NodeConfiguration) throws(NodeError) {
        if let feeBase {
            guard let base = UInt128(feeBase) else { throw .configuration("fee-base \(feeBase): atomic units, a non-negative integer") }
            configuration.payments.htlcPolicy.feeBase = base
            configuration.gossip?.channelTerms.feeBase = Amount(base)
        }
        if let feePPM {
            guard let ppm = UInt64(feePPM), MessageLimits.feePPM.contains(ppm) else {
                throw .configuration("fee-ppm \(feePPM): parts per million, \(MessageLimits.feePPM.lowerBound)…\(MessageLimits.feePPM.upperBound)")
            }
            configuration.payments.htlcPolicy.feePPM = ppm
            configuration.gossip?.channelTerms.feePPM = ppm
        }
        if let htlcExpiryDelta {
            guard let seconds = UInt64(htlcExpiryDelta), (1...86_400).contains(seconds) else {
                throw .configuration("htlc-expiry-delta \(htlcExpiryDelta): seconds, 1…86400")
            }
            let millis = seconds * 1_000
            configuration.payments.htlcPolicy.expiryDeltaMillis = millis
            configuration.payments.htlcPolicy.minFinalExpiryMillis = millis
            configuration.gossip?.channelTerms.expiryDeltaMillis = millis
            configuration.routing.minFinalExpiryMillis = 2 * millis
        }
    }

    /// `--discover-allow`: peer ids (0x + 40 hex digits, any case); an empty list allows none.
    static func allowedIDs(_ texts: [String]) throws(NodeError) -> Set<EthereumAddress> {
        var ids = Set<EthereumAddress>()
        for text in texts.flatMap(idList) {
            guard let id = EthereumAddress(string: text.lowercased()) else {
                throw .configuration("discover-allow \(text): not a peer id (0x + 40 hex digits)")
            }
            ids.insert(id)
        }
        return ids
    }

    /// `--http`: `host:port`, or a port alone, which listens on loopback (127.0.0.1).
    static func httpEndpoint(_ text: String) throws(NodeError) -> PeerEndpoint {
        if let port = Int(text) {
            guard (0...65_535).contains(port) else { throw .configuration("http \(text): the port must be 0…65535") }
            return PeerEndpoint(host: "127.0.0.1", port: port)
        }
        let (host, port) = try PeerEndpoint.parse(text)
        return PeerEndpoint(host: host, port: port)
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
