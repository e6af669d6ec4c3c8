public import PaymeshCrypto
public import PaymeshMessages

/// This node's own history of payment attempts, per node and per channel (Specs/routing.md §5):
/// successes and failures as decaying counts, an average latency, and liquidity hints learned
/// from TEMPORARY_CHANNEL_FAILURE. A value type; time (unix ms) is passed in; bounded.
public struct ReputationTracker: Sendable, Hashable {
    /// One event counts `unit` (counts are kept in thousandths so that decay keeps precision).
    public static let unit: UInt64 = 1_000
    /// No count grows beyond a million events.
    static let maxCount: UInt64 = 1_000_000 * unit

    /// A node's or channel's record, as of `updatedAt`.
    struct Record: Sendable, Hashable {
        var successes: UInt64 = 0
        var failures: UInt64 = 0
        var latencyMillis: UInt64?
        var updatedAt: UInt64

        func decayed(to now: UInt64, halfLife: UInt64) -> Record {
            let dt = now > updatedAt ? now - updatedAt : 0
            return Record(successes: RoutingMath.decay(successes, elapsed: dt, halfLife: halfLife),
                          failures: RoutingMath.decay(failures, elapsed: dt, halfLife: halfLife),
                          latencyMillis: latencyMillis, updatedAt: max(now, updatedAt))
        }
    }

    /// One forwarding direction of a channel: the channel and its paying end.
    public struct DirectedChannel: Sendable, Hashable {
        public let channelID: ChannelID
        public let from: EthereumAddress
        public init(channelID: ChannelID, from: EthereumAddress) {
            self.channelID = channelID
            self.from = from
        }
    }

    /// The largest amount a channel direction is believed to carry, learned at `learnedAt`.
    struct LiquidityHint: Sendable, Hashable {
        var maxSendable: UInt128
        var learnedAt: UInt64
    }

    public let parameters: RoutingParameters
    var nodes: [EthereumAddress: Record] = [:]
    var channels: [ChannelID: Record] = [:]
    var hints: [DirectedChannel: LiquidityHint] = [:]

    public init(parameters: RoutingParameters = RoutingParameters()) { self.parameters = parameters }

    // MARK: updates (§5.1)

    /// Records what became of an attempt over `route`, finished at `now`.
    public mutating func record(_ outcome: AttemptOutcome, route: Route, now: UInt64) {
        let hops = route.hops
        switch outcome {
        case .succeeded(let latency):
            let share = latency / UInt64(hops.count)
            for (i, hop) in hops.enumerated() {
                credit(channel: hop.channelID, now: now)
                if i + 1 < hops.count { credit(node: hop.nodeID, latency: share, now: now) }
                let direction = DirectedChannel(channelID: hop.channelID, from: i == 0 ? route.source : hops[i - 1].nodeID)
                if let hint = hints[direction], hint.maxSendable < hop.amount.atomicUnits { hints[direction] = nil }
            }
        case .failed(let index, let code, let latency):
            guard hops.indices.contains(index) else { return spread(route: route, now: now) }
            let share = latency / UInt64(index + 1)
            // Everything before the failing node carried the HTLC.
            for i in 0...index { credit(channel: hops[i].channelID, now: now) }
            for i in 0..<index { credit(node: hops[i].nodeID, latency: share, now: now) }
            let isFinal = index == hops.count - 1
            let channelCodes: Set<PaymeshErrorCode> = [.temporaryChannelFailure, .unknownNextPeer]
            let payeeCodes: Set<PaymeshErrorCode> = [.unknownPaymentHash, .finalIncorrectAmount, .finalIncorrectExpiry]
            if channelCodes.contains(code), !isFinal {
                // The failing node's outgoing channel could not take the HTLC.
                let next = hops[index + 1]
                blame(channel: next.channelID, now: now)
                if code == .temporaryChannelFailure {
                    let direction = DirectedChannel(channelID: next.channelID, from: hops[index].nodeID)
                    learn(direction, maxSendable: next.amount.atomicUnits - 1, now: now)
                }
            } else if payeeCodes.contains(code), isFinal {
                // The payee refused the payment itself: no hop misbehaved.
            } else {
                blame(node: hops[index].nodeID, now: now)
            }
        case .unattributed:
            spread(route: route, now: now)
        }
    }

    /// No readable failure (a hop withheld the preimage until expiry, or garbled the failure):
    /// one failure shared by the intermediate nodes, or the only channel of a direct route.
    private mutating func spread(route: Route, now: UInt64) {
        let intermediates = route.hops.dropLast()
        guard !intermediates.isEmpty else { return blame(channel: route.hops[0].channelID, now: now) }
        let share = Self.unit / UInt64(intermediates.count)
        for hop in intermediates { blame(node: hop.nodeID, amount: share, now: now) }
    }

    private mutating func credit(node: EthereumAddress, latency: UInt64?, now: UInt64) {
        Self.update(&nodes, node, limit: parameters.maxTrackedNodes, halfLife: parameters.reputationHalfLifeMillis, now: now) { r in
            r.successes = min(r.successes + Self.unit, Self.maxCount)
            if let latency { r.latencyMillis = r.latencyMillis.map { ($0 * 7 + latency) / 8 } ?? latency }
        }
    }

    private mutating func credit(channel: ChannelID, now: UInt64) {
        Self.update(&channels, channel, limit: parameters.maxTrackedChannels, halfLife: parameters.reputationHalfLifeMillis, now: now) { r in
            r.successes = min(r.successes + Self.unit, Self.maxCount) }
    }

    private mutating func blame(node: EthereumAddress, amount: UInt64 = unit, now: UInt64) {
        Self.update(&nodes, node, limit: parameters.maxTrackedNodes, halfLife: parameters.reputationHalfLifeMillis, now: now) { r in
            r.failures = min(r.failures + amount, Self.maxCount) }
    }

    private mutating func blame(channel: ChannelID, now: UInt64) {
        Self.update(&channels, channel, limit: parameters.maxTrackedChannels, halfLife: parameters.reputationHalfLifeMillis, now: now) { r in
            r.failures = min(r.failures + Self.unit, Self.maxCount) }
    }

    private mutating func learn(_ direction: DirectedChannel, maxSendable: UInt128, now: UInt64) {
        if hints[direction] == nil, hints.count >= parameters.maxTrackedChannels, let oldest = hints.min(by: { $0.value.learnedAt < $1.value.learnedAt }) {
            hints[oldest.key] = nil
        }
        let current = hints[direction].flatMap { now < $0.learnedAt + parameters.liquidityHintMillis ? $0.maxSendable : nil }
        hints[direction] = LiquidityHint(maxSendable: min(current ?? .max, maxSendable), learnedAt: now)
    }

    private static func update<Key: Hashable>(_ table: inout [Key: Record], _ key: Key, limit: Int, halfLife: UInt64, now: UInt64,
                                              _ body: (inout Record) -> Void) {
        var record = table[key]?.decayed(to: now, halfLife: halfLife) ?? Record(updatedAt: now)
        if table[key] == nil, table.count >= limit, let oldest = table.min(by: { $0.value.updatedAt < $1.value.updatedAt }) {
            table[oldest.key] = nil
        }
        body(&record)
        table[key] = record
    }

    // MARK: queries (§5.3, console `reputation`)

    public func node(_ id: EthereumAddress, now: UInt64) -> ReputationScore? {
        nodes[id].map { ReputationScore($0.decayed(to: now, halfLife: parameters.reputationHalfLifeMillis)) }
    }

    public func channel(_ id: ChannelID, now: UInt64) -> ReputationScore? {
        channels[id].map { ReputationScore($0.decayed(to: now, halfLife: parameters.reputationHalfLifeMillis)) }
    }

    /// The liquidity bound in force for a channel direction at `now`, if any.
    public func maxSendable(_ direction: DirectedChannel, now: UInt64) -> Amount? {
        guard let hint = hints[direction], now < hint.learnedAt + parameters.liquidityHintMillis else { return nil }
        return Amount(hint.maxSendable)
    }

    /// Every tracked node and channel, sorted by id (console `reputation`).
    public func snapshot(now: UInt64) -> (nodes: [(EthereumAddress, ReputationScore)], channels: [(ChannelID, ReputationScore)]) {
        let h = parameters.reputationHalfLifeMillis
        return (nodes.map { ($0.key, ReputationScore($0.value.decayed(to: now, halfLife: h))) }.sorted { $0.0 < $1.0 },
                channels.map { ($0.key, ReputationScore($0.value.decayed(to: now, halfLife: h))) }
                    .sorted { $0.0.bytes.lexicographicallyPrecedes($1.0.bytes) })
    }

    var activeHints: [DirectedChannel: LiquidityHint] { hints }
    func record(node: EthereumAddress) -> Record? { nodes[node] }
}

/// What became of one attempt (Specs/routing.md §5.1).
public enum AttemptOutcome: Sendable, Hashable {
    /// The preimage came back; `latencyMillis` from sending the HTLC to the preimage.
    case succeeded(latencyMillis: UInt64)
    /// A failure onion attributed to `hopIndex` (0 = the first hop's node, as `AttributedFailure`).
    case failed(hopIndex: Int, code: PaymeshErrorCode, latencyMillis: UInt64)
    /// No readable failure: the HTLC expired (a hop withheld the preimage) or the failure packet
    /// could not be attributed.
    case unattributed
}

/// A node's or channel's reputation at one instant (decayed), for the console and tests.
public struct ReputationScore: Sendable, Hashable {
    /// Decayed counts in thousandths of an event.
    public let successes: UInt64
    public let failures: UInt64
    /// Average share of round-trip latency (ms), nil until a success or failure passed through it.
    public let latencyMillis: UInt64?
    /// (S + 1000) · 10⁶ / (S + F + 2000): the success rate with one prior success and failure.
    public var successRatePPM: UInt64 {
        UInt64((UInt128(successes) + 1_000) * 1_000_000 / (UInt128(successes) + UInt128(failures) + 2_000))
    }

    init(_ r: ReputationTracker.Record) {
        successes = r.successes
        failures = r.failures
        latencyMillis = r.latencyMillis
    }
}
