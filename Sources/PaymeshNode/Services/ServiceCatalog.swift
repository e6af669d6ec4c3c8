import Foundation
public import PaymeshGossip
public import PaymeshMessages
import PaymeshPay402

/// One service this node sells through its HTTP 402 gateway (`service.add`): requests to
/// `/<name>/…` on the node's HTTP listener are proxied to `upstream` once paid.
public struct SoldService: Sendable, Hashable, Codable {
    /// 1–64 bytes of `A–Z a–z 0–9 . _ -` (a URL path segment as it is); "metrics", "api" and "events" are the listener's.
    public var name: String
    /// `http://<loopback host>:<port>[/path]`: where paid requests go (`/<name>/rest` → `upstream` + `/rest`).
    public var upstream: String
    /// Price of one unit, in atomic units of `asset`.
    public var price: UInt128
    public var unit: ServiceAnnouncement.Unit
    public var asset: Asset
    public var description: String
    /// The HTTP methods the service serves (Specs/http402.md §10.1, "Capabilities"), in the order
    /// given; empty: every method of the gateway. L402 tokens are minted with
    /// `<name>_capabilities=<list>`, and a request with another method is refused (1325).
    public var capabilities: [String]

    public init(name: String, upstream: String, price: UInt128, unit: ServiceAnnouncement.Unit, asset: Asset, description: String,
                capabilities: [String] = []) {
        self.name = name
        self.upstream = upstream
        self.price = price
        self.unit = unit
        self.asset = asset
        self.description = description
        self.capabilities = capabilities
    }

    /// The methods a service may declare: the gateway's (§10), upper-case as HTTP writes them.
    public static let capabilityMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]

    /// Whether a request with `method` may be served (every method when no capability is declared).
    public func allows(_ method: String) -> Bool { capabilities.isEmpty || capabilities.contains(method) }

    /// `GET,HEAD` (console `service.add capabilities=`) as a list of the gateway's methods, each at
    /// most once; anything else is a typed error.
    public static func capabilities(parsing text: String) throws(NodeError) -> [String] {
        guard text.utf8.count <= 64 else { throw .invalidParams("capabilities must be at most 64 bytes") }
        return try checkedCapabilities(text.split(separator: ",", omittingEmptySubsequences: false)
            .map { String($0.trimmingCharacters(in: .whitespaces)) })
    }

    static func checkedCapabilities(_ list: [String]) throws(NodeError) -> [String] {
        let allowed = capabilityMethods.joined(separator: ", ")
        guard !list.isEmpty, list.count <= capabilityMethods.count else {
            throw .invalidParams("capabilities must name 1–\(capabilityMethods.count) of \(allowed)")
        }
        for (i, m) in list.enumerated() {
            guard capabilityMethods.contains(m) else {
                throw .invalidParams("capabilities are HTTP methods of the gateway, upper-case, comma-separated: \(allowed)")
            }
            guard !list[..<i].contains(m) else { throw .invalidParams("capabilities name \(m) twice") }
        }
        return list
    }

    enum CodingKeys: String, CodingKey { case name, upstream, price, unit, asset, decimals, description, capabilities }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard let unit = ServiceAnnouncement.Unit(rawValue: try c.decode(String.self, forKey: .unit)) else {
            throw DecodingError.dataCorruptedError(forKey: .unit, in: c, debugDescription: "unknown unit")
        }
        let price = try Amount(decimal: try c.decode(String.self, forKey: .price))
        let asset = try Asset(id: try c.decode(String.self, forKey: .asset), decimals: try c.decode(UInt8.self, forKey: .decimals))
        // A file written before services declared capabilities has no such field: every method.
        let capabilities = try c.decodeIfPresent([String].self, forKey: .capabilities)
        try self.init(checking: c.decode(String.self, forKey: .name), upstream: c.decode(String.self, forKey: .upstream),
                      price: price.atomicUnits, unit: unit, asset: asset, description: c.decode(String.self, forKey: .description))
        if let capabilities { self.capabilities = try Self.checkedCapabilities(capabilities) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(upstream, forKey: .upstream)
        try c.encode(String(price), forKey: .price)
        try c.encode(unit.rawValue, forKey: .unit)
        try c.encode(asset.id, forKey: .asset)
        try c.encode(asset.decimals, forKey: .decimals)
        try c.encode(description, forKey: .description)
        if !capabilities.isEmpty { try c.encode(capabilities, forKey: .capabilities) }
    }

    /// A service whose fields pass the checks of `service.add` (Specs/http402.md §10).
    public init(checking name: String, upstream: String, price: UInt128, unit: ServiceAnnouncement.Unit, asset: Asset,
                description: String, capabilities: [String] = []) throws(NodeError) {
        guard ServiceAnnouncement.nameBytes.contains(name.utf8.count),
              name.utf8.allSatisfy({ Self.nameBytesAllowed.contains($0) }), !ServiceCatalog.reservedNames.contains(name) else {
            throw .invalidParams("service name must be 1–64 bytes of A-Z a-z 0-9 . _ - (not \(ServiceCatalog.reservedNames.sorted()))")
        }
        guard UpstreamURL(upstream) != nil else {
            throw .invalidParams("upstream must be http://<loopback address>:<port>[/path] (127.0.0.0/8, localhost or [::1])")
        }
        guard price > 0 else { throw .invalidParams("price must be positive") }
        // `call`, and the metered units the gateway counts in the upstream's answer (`byte`, `token`:
        // Specs/http402.md §12), and `second` (§12.6: paid time of a streamed answer).
        if let metered = MeteredUnit(unit: unit.rawValue) {
            guard MeteredPrice.of(units: metered.stepUnits, unitPrice: price) != nil else {
                throw .invalidParams("price × \(metered.stepUnits) (one step of \(unit.rawValue)s) exceeds 2^128 - 1")
            }
        } else {
            // `second` (§12.6): one step is at most 60 seconds; its price must not overflow either.
            guard unit == .call || (unit == .second && MeteredPrice.of(units: TimedSessionBook.stepSecondsRange.upperBound, unitPrice: price) != nil) else {
                throw .invalidParams(unit == .second ? "price × 60 (the longest step of seconds) exceeds 2^128 - 1"
                                                     : "the gateway sells per call, byte, token or second; not per \(unit.rawValue)")
            }
        }
        guard ServiceAnnouncement.descriptionBytes.contains(description.utf8.count) else {
            throw .invalidParams("description must be at most \(ServiceAnnouncement.descriptionBytes.upperBound) bytes")
        }
        self.init(name: name, upstream: upstream, price: price, unit: unit, asset: asset, description: description,
                  capabilities: capabilities.isEmpty ? [] : try Self.checkedCapabilities(capabilities))
    }

    static let nameBytesAllowed: Set<UInt8> = Set(Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-".utf8))
}

/// An upstream URL split for the gateway's HTTP client: loopback only (the node never proxies to
/// another host).
public struct UpstreamURL: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// The path prefix, without a trailing "/" ("" for the root).
    public var path: String

    public init?(_ text: String) {
        guard text.utf8.count <= ServiceAnnouncement.urlBytes.upperBound, text.hasPrefix("http://") else { return nil }
        let rest = text.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        while path.hasSuffix("/") { path.removeLast() }
        guard !path.contains("?"), !path.contains("#"), !path.contains(" ") else { return nil }
        let host: Substring, portText: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            portText = after.dropFirst()
        } else {
            guard let colon = authority.lastIndex(of: ":") else { return nil }
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        }
        guard let port = Int(portText), (1...65_535).contains(port), Self.isLoopback(String(host)) else { return nil }
        self.host = host == "localhost" ? "127.0.0.1" : String(host)
        self.port = port
        self.path = path
    }

    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { UInt8($0) != nil && ($0 == "0" || !$0.hasPrefix("0")) }
    }
}

/// The services this node sells over its HTTP gateway: durable in `<datadir>/services.json`
/// (written atomically, mode 0600; Specs/storage.md), advertised over gossip (Specs/gossip.md
/// §7.4) with the gateway's URL as endpoint once the HTTP listener is bound.
public actor ServiceCatalog {
    public static let fileName = "services.json"
    /// At most this many services (the gossip graph keeps at most 64 per origin).
    public static let maxServices = 64
    /// Path segments the HTTP listener uses for itself.
    public static let reservedNames: Set<String> = ["metrics", ".well-known", "api", "events", "a2a"] // the web view: /api/snapshot, /events; A2A: /a2a

    let directory: String
    let path: String
    let gossip: GossipService?
    private var services: [String: SoldService]
    /// `http://host:port` of the gateway once the listener is bound.
    public private(set) var gatewayBase: String?

    /// Loads `<directory>/services.json` (none yet: no services); a damaged file refuses the start.
    public init(directory: String, gossip: GossipService?) throws(NodeError) {
        let path = directory + "/" + Self.fileName
        var loaded: [String: SoldService] = [:]
        if let data = FileManager.default.contents(atPath: path) {
            do {
                for s in try JSONDecoder().decode(ServicesFile.self, from: data).services { loaded[s.name] = s }
            } catch {
                throw .configuration("\(path) is damaged (\(error)); move it away to start without its services")
            }
        }
        self.directory = directory
        self.path = path
        self.gossip = gossip
        services = loaded
    }

    public func list() -> [SoldService] { services.values.sorted { $0.name < $1.name } }

    public func service(named name: String) -> SoldService? { services[name] }

    /// The service's URL on the gateway (nil while the node has no HTTP listener).
    public func url(of name: String) -> String? { gatewayBase.map { "\($0)/\(name)" } }

    /// Adds or replaces `service`, durably, then advertises it. Returns whether gossip carries it.
    public func add(_ service: SoldService) async throws(NodeError) -> Bool {
        guard services[service.name] != nil || services.count < Self.maxServices else {
            throw .invalidParams("this node already sells \(Self.maxServices) services")
        }
        var next = services
        next[service.name] = service
        try save(next)
        services = next
        return await advertise(service)
    }

    /// Removes the service durably and withdraws its advertisement. False when there was none.
    public func remove(_ name: String) async throws(NodeError) -> Bool {
        guard services[name] != nil else { return false }
        var next = services
        next[name] = nil
        try save(next)
        services = next
        try? await gossip?.withdraw(name)
        return true
    }

    /// The listener is bound at `base` (`http://host:port`): every service is advertised with it.
    public func gatewayBound(_ base: String) async {
        gatewayBase = base
        for s in list() { _ = await advertise(s) }
    }

    /// Re-advertises `name` at `price` (its dynamic quote, Specs/negotiation.md §6); false when
    /// there is no such service or gossip does not carry it.
    public func advertise(_ name: String, price: UInt128) async -> Bool {
        guard var s = services[name] else { return false }
        s.price = price
        return await advertise(s)
    }

    private func advertise(_ s: SoldService) async -> Bool {
        guard let gossip, let url = url(of: s.name),
              let announcement = try? ServiceAnnouncement(name: s.name, description: s.description, unit: s.unit,
                                                          price: Amount(s.price), asset: s.asset, endpoint: .http(url),
                                                          agentCard: gatewayBase.map { $0 + "/.well-known/agent-card.json" }, expires: 0) else { return false }
        do { _ = try await gossip.advertise(announcement) } catch { return false }
        return true
    }

    /// Writes the whole table to a temporary file (0600), fsyncs it, renames it over the file and
    /// fsyncs the directory: after a crash the file is the old table or the new one.
    private func save(_ table: [String: SoldService]) throws(NodeError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let bytes: [UInt8]
        do { bytes = Array(try encoder.encode(ServicesFile(services: table.values.sorted { $0.name < $1.name }))) } catch {
            throw .internalError("the service table does not encode: \(error)")
        }
        try AtomicFile.write(bytes, to: path, directory: directory)
    }
}

private struct ServicesFile: Codable {
    var services: [SoldService]
}
