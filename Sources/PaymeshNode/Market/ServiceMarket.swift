import Foundation
public import Logging
public import PaymeshCrypto
public import PaymeshMessages

/// The terms on which this node sells its services (Specs/negotiation.md §6–§7): the operator's
/// `ServicePolicy` per service, the agreements its negotiations reached (durable in
/// `<datadir>/market.json`), the dynamic quote (`PriceModel` over the gateway's load and the
/// client's reputation), re-advertised over gossip when it changes (at most once per
/// `republishMillis` per service), and the gateway's SLA measurements (`SLAMonitor`) with the
/// violations of agreed terms, signed by this node and durable in `<datadir>/sla-violations.json`.
public actor ServiceMarket {
    public static let fileName = "market.json"
    public static let violationsFileName = "sla-violations.json"
    /// Agreements kept (expired ones are dropped first when full; then new ones are refused).
    public static let maxAgreements = 4_096
    /// Violations kept (the oldest dropped first).
    public static let maxViolations = 4_096
    /// A changed quote is re-advertised at most this often per service.
    public static let republishMillis: UInt64 = 60_000

    let key: IdentityKey
    let directory: String
    let catalog: ServiceCatalog
    let events: NodeEventHub
    let clock: any NodeClock
    let logger: Logger
    private var policies: [String: ServicePolicy]
    private var agreements: [NegotiationID: Agreement]
    private var violations: [SLAViolationRecord]
    private var monitor = SLAMonitor()
    private var inFlight: [String: UInt64] = [:]
    /// Paid requests per service in the current and the previous second (wall ms / 1000).
    private var rate: [String: (second: UInt64, current: UInt64, previous: UInt64)] = [:]
    private var advertised: [String: (price: UInt128, at: UInt64)] = [:]

    public init(directory: String, key: IdentityKey, catalog: ServiceCatalog, events: NodeEventHub, clock: any NodeClock,
                logger: Logger = .silent) throws(NodeError) {
        self.key = key
        self.directory = directory
        self.catalog = catalog
        self.events = events
        self.clock = clock
        self.logger = logger
        let file: MarketFile = try Self.load(directory + "/" + Self.fileName) ?? MarketFile(policies: [:], agreements: [])
        var agreements: [NegotiationID: Agreement] = [:]
        for r in file.agreements {
            let a = try r.agreement()
            do { try a.verify() } catch { throw .configuration("\(Self.fileName): agreement \(r.negotiationId) does not verify") }
            agreements[a.terms.negotiationID] = a
        }
        self.policies = file.policies
        self.agreements = agreements
        let stored: ViolationsFile? = try Self.load(directory + "/" + Self.violationsFileName)
        violations = stored?.violations ?? []
    }

    private static func load<T: Decodable>(_ path: String) throws(NodeError) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do { return try JSONDecoder().decode(T.self, from: data) } catch {
            throw .configuration("\(path) is damaged (\(error)); move it away to start without it")
        }
    }

    private func save() throws(NodeError) {
        let file = MarketFile(policies: policies, agreements: agreements.values.sorted { $0.acceptTimestamp < $1.acceptTimestamp }.map { AgreementRecord($0) })
        try Self.write(file, to: directory + "/" + Self.fileName, directory: directory)
    }

    private static func write<T: Encodable>(_ value: T, to path: String, directory: String) throws(NodeError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let bytes: [UInt8]
        do { bytes = Array(try encoder.encode(value)) } catch { throw .internalError("\(path) does not encode: \(error)") }
        try AtomicFile.write(bytes, to: path, directory: directory)
    }

    // MARK: Policies

    public func policy(of service: String) -> ServicePolicy? { policies[service] }

    /// Sets (nil: removes) the operator's bounds of `service`, durably.
    public func setPolicy(_ policy: ServicePolicy?, for service: String) async throws(NodeError) {
        guard await catalog.service(named: service) != nil else { throw .invalidParams("this node does not sell \(service)") }
        let before = policies
        policies[service] = policy
        do { try save() } catch {
            policies = before
            throw error
        }
        await republishIfChanged(service)
    }

    /// What the negotiation book accepts by itself for `service` (nil: not sold).
    func sellerTerms(_ service: String) async -> SellerTerms? {
        guard let s = await catalog.service(named: service) else { return nil }
        let p = policies[service] ?? .fixed(s.price)
        return SellerTerms(unit: s.unit.rawValue, asset: s.asset, floor: p.minPrice, quote: quote(s, policy: p, client: nil),
                           minDeposit: p.minDeposit, minLatencyP99Millis: p.minLatencyP99Millis, minErrorRateBasisPoints: p.minErrorRateBps,
                           maxTermSeconds: p.maxTermSeconds, automatic: p.autoNegotiate)
    }

    // MARK: Agreements

    /// Makes `a` durable (replacing nothing: ids are unique). Throws when it cannot.
    func store(_ a: Agreement) throws(NodeError) {
        let now = clock.unixMillis
        if agreements.count >= Self.maxAgreements {
            for (id, old) in agreements where !old.isValid(at: now) { agreements[id] = nil }
        }
        guard agreements.count < Self.maxAgreements else { throw .paymesh(.negotiationLimit, "\(Self.maxAgreements) agreements are in force") }
        agreements[a.terms.negotiationID] = a
        do { try save() } catch {
            agreements[a.terms.negotiationID] = nil
            throw error
        }
    }

    public func agreements(validOnly: Bool = false) -> [Agreement] {
        let now = clock.unixMillis
        return agreements.values.filter { !validOnly || $0.isValid(at: now) }.sorted { $0.acceptTimestamp < $1.acceptTimestamp }
    }

    public func agreement(_ id: NegotiationID) -> Agreement? { agreements[id] }

    /// The latest agreement in force under which `client` buys `service` from this node.
    public func agreement(client: EthereumAddress, service: String) -> Agreement? {
        let now = clock.unixMillis
        return agreements.values.filter { $0.terms.buyer == client && $0.terms.seller == key.address && $0.terms.service == service && $0.isValid(at: now) }
            .max { $0.acceptTimestamp < $1.acceptTimestamp }
    }

    // MARK: Prices

    /// The price `client` (nil: unknown) pays for one unit of `service` now: the agreed price
    /// when an agreement in the service's asset is in force, else the dynamic quote.
    public func price(of s: SoldService, client: EthereumAddress?) -> (price: UInt128, agreement: Agreement?) {
        if let client, let a = agreement(client: client, service: s.name), a.terms.asset == s.asset, a.terms.unit == s.unit.rawValue {
            return (a.terms.price.atomicUnits, a)
        }
        return (quote(s, policy: policies[s.name] ?? .fixed(s.price), client: client), nil)
    }

    /// The dynamic quote (Specs/negotiation.md §6, `PriceModel`).
    public func quote(_ s: SoldService, client: EthereumAddress?) -> UInt128 {
        quote(s, policy: policies[s.name] ?? .fixed(s.price), client: client)
    }

    private func quote(_ s: SoldService, policy: ServicePolicy, client: EthereumAddress?) -> UInt128 {
        PriceModel.quote(listed: s.price, policy: policy, inFlight: inFlight[s.name] ?? 0, perSecond: perSecond(s.name),
                         reputationBps: monitor.reputationBps(client))
    }

    /// The load figures the quote uses: requests in flight, paid requests per second.
    public func load(of service: String) -> (inFlight: UInt64, perSecond: UInt64) { (inFlight[service] ?? 0, perSecond(service)) }

    private func perSecond(_ service: String) -> UInt64 {
        guard let r = rate[service] else { return 0 }
        let second = clock.unixMillis / 1_000
        if r.second == second { return max(r.current, r.previous) }
        return r.second + 1 == second ? r.current : 0
    }

    /// Re-advertises the anonymous quote when it changed and the last advertisement is old enough.
    private func republishIfChanged(_ name: String) async {
        guard let s = await catalog.service(named: name) else { return }
        let price = quote(s, client: nil), now = clock.unixMillis
        if let last = advertised[name] {
            guard last.price != price, now >= last.at.addingClamped(Self.republishMillis) else { return }
        } else if price == s.price {
            return // the listed price is what the catalog advertised
        }
        advertised[name] = (price, now)
        _ = await catalog.advertise(name, price: price)
        events.publish(.market(.priceChanged(service: name, price: price)))
    }

    // MARK: The gateway's measurements

    /// Monotonic time of the node's clock (the gateway's request latency).
    public nonisolated func instant() -> NodeInstant { clock.now }

    /// A request to `service` starts at the gateway (after its body was read).
    public func requestStarted(_ service: String) { inFlight[service, default: 0] += 1 }

    /// The request ended: `latencyNanos` from its start to the upstream's answer; `failed` when the
    /// upstream failed (no answer, or a 5xx status); `paid` when a payment was taken for it.
    public func requestFinished(_ s: SoldService, client: EthereumAddress?, latencyNanos: UInt64, failed: Bool, paid: Bool) async {
        if let n = inFlight[s.name], n > 0 { inFlight[s.name] = n - 1 }
        guard paid else { return } // an unpaid request never reached the upstream: no load, no SLA sample
        let now = clock.unixMillis
        do {
            let second = now / 1_000
            var r = rate[s.name] ?? (second, 0, 0)
            if r.second != second { r = (second, 0, r.second + 1 == second ? r.current : 0) }
            r.current += 1
            rate[s.name] = r
        }
        let millis = UInt32(clamping: latencyNanos / 1_000_000)
        let a = client.flatMap { agreement(client: $0, service: s.name) }
        if let breach = monitor.record(client: client, service: s.name, latencyMillis: millis, failed: failed, paid: true, now: now,
                                       terms: a?.terms), let a {
            recordViolation(breach, agreement: a)
        }
        await republishIfChanged(s.name)
    }

    private func recordViolation(_ b: SLAMonitor.Breach, agreement a: Agreement) {
        let sequence = (violations.last?.sequence ?? 0) + 1
        let statement = SLAViolationStatement(negotiationID: a.terms.negotiationID, seller: a.terms.seller, buyer: a.terms.buyer,
                                              service: a.terms.service, metric: b.metric, agreed: b.agreed, measured: b.measured,
                                              samples: b.samples, windowStart: b.windowStart, windowEnd: b.windowEnd, sequence: sequence,
                                              agreementHash: SLAViolationStatement.agreementHash(offerSignature: a.offerSignature,
                                                                                                 acceptSignature: a.acceptSignature))
        let signature: Signature65
        do { signature = try statement.sign(with: key) } catch {
            logger.error("cannot sign an SLA violation", metadata: ["error": "\(error)"])
            return
        }
        violations.append(SLAViolationRecord(statement: statement, signature: signature, agreement: a))
        if violations.count > Self.maxViolations { violations.removeFirst(violations.count - Self.maxViolations) }
        do { try Self.write(ViolationsFile(violations: violations), to: directory + "/" + Self.violationsFileName, directory: directory) } catch {
            logger.error("cannot store an SLA violation", metadata: ["error": "\(error)"])
        }
        logger.notice("SLA violated", metadata: ["service": "\(a.terms.service)", "client": "\(a.terms.buyer)", "metric": "\(b.metric.name)",
                                                 "agreed": "\(b.agreed)", "measured": "\(b.measured)"])
        events.publish(.market(.slaViolated(service: a.terms.service, client: a.terms.buyer, metric: b.metric.name, sequence: sequence)))
    }

    /// Recorded violations, oldest first (`sla.violations`).
    public func violationRecords() -> [SLAViolationRecord] { violations }

    /// One row per (client, service) the gateway measured (`sla.status`).
    public struct SLARow: Sendable, Hashable {
        public var client: EthereumAddress?
        public var service: String
        public var requests: UInt64
        public var errors: UInt64
        public var paid: UInt64
        public var windowSamples: Int
        public var lastP99Millis: UInt32?
        public var lastErrorRateBps: UInt32?
        public var maxLatencyMillis: UInt32
        public var violations: UInt64
        public var agreement: NegotiationID?
        public var agreedLatencyP99Millis: UInt32?
        public var agreedErrorRateBps: UInt16?
    }

    public func slaStatus() -> [SLARow] {
        monitor.stats.map { key, s in
            let a = key.client.flatMap { agreement(client: $0, service: key.service) }
            return SLARow(client: key.client, service: key.service, requests: s.requests, errors: s.errors, paid: s.paid,
                          windowSamples: s.latencies.count, lastP99Millis: s.lastP99, lastErrorRateBps: s.lastErrorBps,
                          maxLatencyMillis: s.maxLatency, violations: s.violations, agreement: a?.terms.negotiationID,
                          agreedLatencyP99Millis: a?.terms.latencyP99Millis, agreedErrorRateBps: a?.terms.errorRateBasisPoints)
        }.sorted { ($0.service, $0.client?.description ?? "") < ($1.service, $1.client?.description ?? "") }
    }
}

private struct MarketFile: Codable {
    var policies: [String: ServicePolicy]
    var agreements: [AgreementRecord]
}

private struct ViolationsFile: Codable {
    var violations: [SLAViolationRecord]
}
