import PaymeshCrypto
import PaymeshMessages

/// Every negotiation of a node, sans-IO (Specs/negotiation.md §2): local calls (`propose`,
/// `counter`, `accept`, `reject`) and received steps (`onMessage`) in, `NegotiationAction`s out,
/// time passed in as wall-clock milliseconds. Each step this node sends is signed here; each step
/// received is checked (signature, round, turn, expiry) before it changes anything. Bounded: open
/// negotiations per peer and in total, rounds per negotiation, and the finished ones remembered
/// (to refuse replays) until their proposal has expired.
struct NegotiationBook {
    /// At most this many open negotiations with one peer, and in total (Specs/negotiation.md §5).
    static let maxOpenPerPeer = 8
    static let maxOpen = 256
    /// Finished negotiations remembered until their proposal expired; when full, new proposals are refused.
    static let maxClosed = 4_096
    /// At most this many counters in one negotiation.
    static let maxRounds = UInt32(NegotiationLimits.rounds.upperBound)
    /// A received proposal whose timestamp is further ahead of this node's clock is refused.
    static let maxClockSkewMillis: UInt64 = 300_000

    let key: IdentityKey
    var me: EthereumAddress { key.address }
    private(set) var open: [NegotiationID: Negotiation] = [:]
    private(set) var closed: [NegotiationID: Negotiation] = [:]

    init(key: IdentityKey) { self.key = key }

    func negotiation(_ id: NegotiationID) -> Negotiation? { open[id] ?? closed[id] }

    var all: [Negotiation] { Array(open.values) + Array(closed.values) }

    /// The earliest wall-clock ms at which `onTick` has something to do.
    var nextDeadline: UInt64? {
        let a = open.values.map(\.deadline).min()
        let b = closed.values.map { $0.terms.expiresAt.addingClamped(Self.maxClockSkewMillis) }.min()
        switch (a, b) {
        case (nil, nil): return nil
        case (let x?, nil): return x
        case (nil, let y?): return y
        case (let x?, let y?): return min(x, y)
        }
    }

    private func openCount(with peer: EthereumAddress) -> Int { open.values.reduce(0) { $0 + ($1.counterpart == peer ? 1 : 0) } }

    private func admit(_ id: NegotiationID, peer: EthereumAddress) -> (PaymeshErrorCode, String)? {
        if open[id] != nil || closed[id] != nil { return (.negotiationIDConflict, "negotiation id already used") }
        if openCount(with: peer) >= Self.maxOpenPerPeer { return (.negotiationLimit, "\(Self.maxOpenPerPeer) negotiations with this peer are open") }
        if open.count >= Self.maxOpen { return (.negotiationLimit, "\(Self.maxOpen) negotiations are open") }
        if closed.count >= Self.maxClosed { return (.negotiationLimit, "too many recent negotiations; retry later") }
        return nil
    }

    // MARK: Local calls

    /// Proposes `terms` (this node is the buyer, `terms.seller` the peer) standing `timeoutSeconds`.
    mutating func propose(_ terms: NegotiationTerms, timeoutSeconds: UInt64, limits: BuyerLimits, now: UInt64) throws(NodeError) -> [NegotiationAction] {
        guard terms.buyer == me, terms.seller != me else { throw .invalidParams("a proposal goes from this node to another") }
        if case let (code, why)? = admit(terms.negotiationID, peer: terms.seller) { throw .paymesh(code, why) }
        let signature = try Self.sign(terms, .negotiatePropose, round: 0, offer: nil, at: now, key)
        let message: NegotiatePropose
        do {
            message = try NegotiatePropose(negotiationID: terms.negotiationID, serviceType: terms.service, proposedPrice: terms.price,
                                           asset: terms.asset, channelDeposit: terms.deposit, timeoutSeconds: timeoutSeconds, timestamp: now,
                                           unit: terms.unit, latencyP99Millis: terms.latencyP99Millis,
                                           errorRateBasisPoints: terms.errorRateBasisPoints, termSeconds: terms.termSeconds,
                                           signature: signature)
        } catch { throw .invalidParams(error.detail) }
        guard message.expiresAt == terms.expiresAt else { throw .invalidParams("the terms' expiry is not timestamp + timeout") }
        var limits = limits
        if limits.maxDeposit == nil { limits.maxDeposit = terms.deposit.atomicUnits }
        let n = Negotiation(id: terms.negotiationID, role: .buyer, counterpart: terms.seller, terms: terms, round: 0, offerIsOurs: true,
                            offerKind: .negotiatePropose, offerTimestamp: now, offerSignature: signature, status: .open, reason: nil,
                            deadline: terms.expiresAt, buyerLimits: limits)
        open[n.id] = n
        return [.send(.negotiatePropose(message), to: n.counterpart), Self.event(n)]
    }

    /// Answers the offer on the table with `terms` (the same negotiation, parties and expiry).
    mutating func counter(_ id: NegotiationID, with terms: NegotiationTerms, now: UInt64) throws(NodeError) -> [NegotiationAction] {
        var n = try ourTurn(id, now: now)
        guard n.round < Self.maxRounds else { throw .paymesh(.negotiationOutOfTurn, "no counter is left (\(Self.maxRounds) rounds)") }
        var t = n.terms
        t.price = terms.price
        t.deposit = terms.deposit
        t.latencyP99Millis = terms.latencyP99Millis
        t.errorRateBasisPoints = terms.errorRateBasisPoints
        t.termSeconds = terms.termSeconds
        let round = n.round + 1
        let signature = try Self.sign(t, .negotiateCounter, round: round, offer: nil, at: now, key)
        let message = NegotiateCounter(negotiationID: id, counterPrice: t.price, timestamp: now, round: round, channelDeposit: t.deposit,
                                       latencyP99Millis: t.latencyP99Millis, errorRateBasisPoints: t.errorRateBasisPoints,
                                       termSeconds: t.termSeconds, signature: signature)
        n.terms = t
        n.round = round
        n.offerIsOurs = true
        n.offerKind = .negotiateCounter
        n.offerTimestamp = now
        n.offerSignature = signature
        open[id] = n
        return [.send(.negotiateCounter(message), to: n.counterpart), Self.event(n)]
    }

    /// Accepts the offer on the table: the agreement is stored before the ACCEPT is sent.
    mutating func accept(_ id: NegotiationID, now: UInt64) throws(NodeError) -> [NegotiationAction] {
        let n = try ourTurn(id, now: now)
        let signature = try Self.sign(n.terms, .negotiateAccept, round: n.round, offer: n.offerSignature, at: now, key)
        let agreement = Agreement(terms: n.terms, round: n.round, offerKind: n.offerKind, offerTimestamp: n.offerTimestamp,
                                  offerSignature: n.offerSignature, offeredBy: n.counterpart, acceptTimestamp: now,
                                  acceptSignature: signature, acceptedBy: me)
        let ended = close(id, .accepted, reason: nil)
        return [.store(agreement), .send(.negotiateAccept(NegotiateAccept(negotiationID: id, timestamp: now, round: n.round, signature: signature)),
                                         to: n.counterpart),
                Self.event(ended), Self.agreed(agreement)]
    }

    /// Ends an open negotiation (whoever's turn it is) with a signed REJECT.
    mutating func reject(_ id: NegotiationID, reason: String, now: UInt64) throws(NodeError) -> [NegotiationAction] {
        guard let n = open[id] else { throw Self.notOpen(id, closed[id]) }
        let message = try Self.rejection(n, reason: reason, now: now, key)
        return [.send(.negotiateReject(message), to: n.counterpart), Self.event(close(id, .rejected, reason: reason))]
    }

    /// The agreement of `id` could not be stored: the negotiation ends rejected and the peer is told.
    mutating func storeFailed(_ agreement: Agreement, now: UInt64) -> [NegotiationAction] {
        guard var n = closed[agreement.terms.negotiationID], n.status == .accepted else { return [] }
        n.status = .rejected
        n.reason = "this node could not store the agreement"
        closed[n.id] = n
        guard agreement.acceptedBy == me, let message = try? Self.rejection(n, reason: n.reason!, now: now, key) else { return [Self.event(n)] }
        return [.send(.negotiateReject(message), to: n.counterpart), Self.event(n)]
    }

    private func ourTurn(_ id: NegotiationID, now: UInt64) throws(NodeError) -> Negotiation {
        guard let n = open[id] else { throw Self.notOpen(id, closed[id]) }
        guard now < n.deadline else { throw .paymesh(.negotiationExpired, "negotiation \(id) expired") } // onTick closes it
        guard !n.offerIsOurs else { throw .paymesh(.negotiationOutOfTurn, "the offer on the table is this node's: the peer answers it") }
        return n
    }

    private static func notOpen(_ id: NegotiationID, _ done: Negotiation?) -> NodeError {
        if let done { return .paymesh(.negotiationOutOfTurn, "negotiation \(id) is \(done.status.rawValue)") }
        return .paymesh(.negotiationNotFound, "no negotiation \(id)")
    }

    // MARK: Time

    /// Expires open negotiations past their deadline; forgets finished ones whose proposal has expired.
    mutating func onTick(now: UInt64) -> [NegotiationAction] {
        var out: [NegotiationAction] = []
        for (id, n) in open where n.deadline <= now { out.append(Self.event(close(id, .expired, reason: nil))) }
        for (id, n) in closed where n.terms.expiresAt.addingClamped(Self.maxClockSkewMillis) <= now { closed[id] = nil }
        return out
    }

    private mutating func close(_ id: NegotiationID, _ status: NegotiationStatus, reason: String?) -> Negotiation {
        guard var n = open.removeValue(forKey: id) else { preconditionFailure("closing a negotiation that is not open") }
        n.status = status
        n.reason = reason
        closed[id] = n
        return n
    }

    // MARK: Receiving

    /// One NEGOTIATE_* message from `peer` (authenticated by the transport). `seller` gives this
    /// node's terms for a service it sells (nil: it does not sell it).
    mutating func onMessage(_ m: Message, from peer: EthereumAddress, now: UInt64,
                            seller: (String) -> SellerTerms?) -> [NegotiationAction] {
        do throws(Refusal) {
            switch m {
            case .negotiatePropose(let p): return try received(p, from: peer, now: now, seller: seller)
            case .negotiateCounter(let c): return try received(c, from: peer, now: now, seller: seller)
            case .negotiateAccept(let a): return try received(a, from: peer, now: now)
            case .negotiateReject(let r): return try received(r, from: peer, now: now)
            default: return []
            }
        } catch {
            var out: [NegotiationAction] = [.send(.error(ErrorMessage(unchecked: error.code, error.detail, m)), to: peer)]
            if error.code == .invalidSignature { out.append(.misbehaved(peer, error.detail)) }
            return out
        }
    }

    struct Refusal: Error {
        let code: PaymeshErrorCode
        let detail: String
        init(_ code: PaymeshErrorCode, _ detail: String) { self.code = code; self.detail = detail }
    }

    private mutating func received(_ p: NegotiatePropose, from peer: EthereumAddress, now: UInt64,
                                   seller: (String) -> SellerTerms?) throws(Refusal) -> [NegotiationAction] {
        guard let signature = p.signature else { throw Refusal(.negotiationUnsigned, "NEGOTIATE_PROPOSE carries no signature") }
        if case let (code, why)? = admit(p.negotiationID, peer: peer) { throw Refusal(code, why) }
        guard p.expiresAt > now else { throw Refusal(.negotiationExpired, "the proposal expired at \(p.expiresAt)") }
        guard p.timestamp <= now.addingClamped(Self.maxClockSkewMillis) else {
            throw Refusal(.negotiationTermsRefused, "the proposal's timestamp is ahead of this node's clock")
        }
        let terms = p.terms(buyer: peer, seller: me)
        try Self.check(terms, signature, .negotiatePropose, round: 0, offer: nil, at: p.timestamp, signer: peer)
        var n = Negotiation(id: p.negotiationID, role: .seller, counterpart: peer, terms: terms, round: 0, offerIsOurs: false,
                            offerKind: .negotiatePropose, offerTimestamp: p.timestamp, offerSignature: signature, status: .open,
                            reason: nil, deadline: min(p.expiresAt, now.addingClamped(p.timeoutSeconds * 1_000)), buyerLimits: BuyerLimits())
        open[n.id] = n
        var out = [Self.event(n)]
        guard let s = seller(terms.service) else { return out + rejectSafely(n.id, "this node does not sell \(terms.service)", now) }
        guard s.asset == terms.asset, s.unit == terms.unit else {
            return out + rejectSafely(n.id, "\(terms.service) is sold per \(s.unit) in \(s.asset.id) (\(s.asset.decimals) decimals)", now)
        }
        n = open[n.id]!
        out += decide(n, seller: s, now: now)
        return out
    }

    private mutating func received(_ c: NegotiateCounter, from peer: EthereumAddress, now: UInt64,
                                   seller: (String) -> SellerTerms?) throws(Refusal) -> [NegotiationAction] {
        var n = try theirTurn(c.negotiationID, from: peer, now: now, kind: "NEGOTIATE_COUNTER")
        guard let round = c.round, let signature = c.signature else {
            throw Refusal(.negotiationUnsigned, "NEGOTIATE_COUNTER carries no round or no signature")
        }
        guard round == n.round + 1 else { throw Refusal(.negotiationOutOfTurn, "counter round \(round), expected \(n.round + 1)") }
        guard round <= Self.maxRounds else { throw Refusal(.negotiationOutOfTurn, "no counter is left (\(Self.maxRounds) rounds)") }
        let terms = c.terms(replacing: n.terms)
        try Self.check(terms, signature, .negotiateCounter, round: round, offer: nil, at: c.timestamp, signer: peer)
        n.terms = terms
        n.round = round
        n.offerIsOurs = false
        n.offerKind = .negotiateCounter
        n.offerTimestamp = c.timestamp
        n.offerSignature = signature
        open[n.id] = n
        var out = [Self.event(n)]
        switch n.role {
        case .seller:
            if let s = seller(terms.service) { out += decide(n, seller: s, now: now) }
            else { out += rejectSafely(n.id, "this node no longer sells \(terms.service)", now) }
        case .buyer:
            if n.buyerLimits.allows(terms) { out += acceptSafely(n.id, now) }
        }
        return out
    }

    private mutating func received(_ a: NegotiateAccept, from peer: EthereumAddress, now: UInt64) throws(Refusal) -> [NegotiationAction] {
        let n = try theirTurn(a.negotiationID, from: peer, now: now, kind: "NEGOTIATE_ACCEPT")
        guard let round = a.round, let signature = a.signature else {
            throw Refusal(.negotiationUnsigned, "NEGOTIATE_ACCEPT carries no round or no signature")
        }
        guard round == n.round else { throw Refusal(.negotiationOutOfTurn, "accept of round \(round): the offer on the table is round \(n.round)") }
        try Self.check(n.terms, signature, .negotiateAccept, round: round, offer: n.offerSignature, at: a.timestamp, signer: peer)
        let agreement = Agreement(terms: n.terms, round: round, offerKind: n.offerKind, offerTimestamp: n.offerTimestamp,
                                  offerSignature: n.offerSignature, offeredBy: me, acceptTimestamp: a.timestamp,
                                  acceptSignature: signature, acceptedBy: peer)
        let ended = close(n.id, .accepted, reason: nil)
        return [.store(agreement), Self.event(ended), Self.agreed(agreement)]
    }

    private mutating func received(_ r: NegotiateReject, from peer: EthereumAddress, now: UInt64) throws(Refusal) -> [NegotiationAction] {
        guard let n = open[r.negotiationID], n.counterpart == peer else { throw Self.unknown(r.negotiationID, closed[r.negotiationID], peer) }
        guard let round = r.round, let signature = r.signature else {
            throw Refusal(.negotiationUnsigned, "NEGOTIATE_REJECT carries no round or no signature")
        }
        guard round == n.round else { throw Refusal(.negotiationOutOfTurn, "reject of round \(round), the negotiation is at round \(n.round)") }
        try Self.check(n.terms, signature, .negotiateReject, round: round, offer: nil, at: r.timestamp, signer: peer)
        return [Self.event(close(n.id, .rejected, reason: r.reason))]
    }

    /// The open negotiation `id` with `peer`, not expired, whose offer on the table is this node's.
    private func theirTurn(_ id: NegotiationID, from peer: EthereumAddress, now: UInt64, kind: String) throws(Refusal) -> Negotiation {
        guard let n = open[id], n.counterpart == peer else { throw Self.unknown(id, closed[id], peer) }
        guard now < n.deadline else { throw Refusal(.negotiationExpired, "negotiation expired at \(n.deadline)") } // onTick closes it
        guard n.offerIsOurs else { throw Refusal(.negotiationOutOfTurn, "\(kind) out of turn: the offer on the table is the sender's") }
        return n
    }

    private static func unknown(_ id: NegotiationID, _ done: Negotiation?, _ peer: EthereumAddress) -> Refusal {
        if let done, done.counterpart == peer { return Refusal(.negotiationOutOfTurn, "negotiation is \(done.status.rawValue)") }
        return Refusal(.negotiationNotFound, "no open negotiation of this id with the sender")
    }

    // MARK: Deciding by itself

    /// The seller's answer to an offer on its turn: accept what its terms accept, counter the
    /// rest with the nearest acceptable terms, reject when no counter is left; nothing (the
    /// operator decides) when its policy is not automatic.
    private mutating func decide(_ n: Negotiation, seller s: SellerTerms, now: UInt64) -> [NegotiationAction] {
        guard s.automatic else { return [] }
        if s.accepts(n.terms) { return acceptSafely(n.id, now) }
        guard n.round < Self.maxRounds else { return rejectSafely(n.id, "no agreement within \(Self.maxRounds) rounds", now) }
        do { return try counter(n.id, with: s.adjusted(n.terms), now: now) } catch { return rejectSafely(n.id, error.detail, now) }
    }

    private mutating func acceptSafely(_ id: NegotiationID, _ now: UInt64) -> [NegotiationAction] {
        do { return try accept(id, now: now) } catch { return rejectSafely(id, error.detail, now) }
    }

    private mutating func rejectSafely(_ id: NegotiationID, _ reason: String, _ now: UInt64) -> [NegotiationAction] {
        (try? reject(id, reason: String(reason.utf8.prefix(MessageLimits.reasonBytes.upperBound)) ?? "refused", now: now)) ?? []
    }

    // MARK: Signing

    private static func sign(_ t: NegotiationTerms, _ step: MessageType, round: UInt32, offer: Signature65?, at now: UInt64,
                             _ key: IdentityKey) throws(NodeError) -> Signature65 {
        do { return try t.sign(step: step, round: round, offerSignature: offer, timestamp: now, with: key) } catch {
            throw .internalError("cannot sign the negotiation step: \(error.detail)")
        }
    }

    private static func check(_ t: NegotiationTerms, _ signature: Signature65, _ step: MessageType, round: UInt32, offer: Signature65?,
                              at timestamp: UInt64, signer: EthereumAddress) throws(Refusal) {
        do { try t.verify(signature, step: step, round: round, offerSignature: offer, timestamp: timestamp, signer: signer) } catch {
            throw Refusal(.invalidSignature, "\(step.name): the signature is not the sender's over these terms")
        }
    }

    private static func rejection(_ n: Negotiation, reason: String, now: UInt64, _ key: IdentityKey) throws(NodeError) -> NegotiateReject {
        let signature = try sign(n.terms, .negotiateReject, round: n.round, offer: nil, at: now, key)
        do { return try NegotiateReject(negotiationID: n.id, reason: reason, timestamp: now, round: n.round, signature: signature) } catch {
            throw .invalidParams(error.detail)
        }
    }

    private static func event(_ n: Negotiation) -> NegotiationAction {
        .event(.negotiation(n.id, status: n.status, round: n.round, ourTurn: n.ourTurn))
    }

    private static func agreed(_ a: Agreement) -> NegotiationAction {
        .event(.agreed(a.terms.negotiationID, service: a.terms.service, buyer: a.terms.buyer, seller: a.terms.seller,
                       price: a.terms.price.atomicUnits))
    }
}
