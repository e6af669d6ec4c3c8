import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshOnion
import PaymeshStore

/// Every HTLC of the node: offering (origin), accepting (final hop) and forwarding, sans-IO
/// (Specs/channels.md §12). Events in (`send`, `onReceived`, `onTimer`, `resume`) with the time
/// passed in, `HTLCAction`s out; randomness (the onion session key, the origin's htlc id) is
/// passed in too. No sockets, store or clock.
public struct HTLCBook: Sendable {
    let key: IdentityKey
    public var policy: HTLCPolicy
    public private(set) var channels: [ChannelID: HTLCChannel] = [:]
    /// Invoices this node will fulfil, by payment hash (Specs/channels.md §12.7): the preimage and
    /// the terms the final hop checks. Bounded by `maxInvoices`.
    public private(set) var invoices: [Hash32: HTLCInvoice] = [:]
    /// Payments this node started, by payment hash.
    private(set) var payments: [Hash32: OutgoingPayment] = [:]
    /// Received HTLCs accepted and waiting for their next channel to be taken over (Specs/
    /// channels.md §12.10): that channel's payer still waits for the acknowledgement of a plain
    /// voucher. In memory only; one per received HTLC, so bounded by the channels' `maxInFlight`.
    private(set) var parked: [HTLCRef: ParkedForward] = [:]

    /// What a parked forward needs to be sent later: the proposal, its forward payload, the peeled
    /// onion for the next hop and the secret shared with the origin.
    struct ParkedForward: Sendable {
        let propose: HTLCPropose
        let payload: HopPayload.ForwardPayload
        let next: OnionPacket?
        let secret: SharedSecret
    }

    struct OutgoingPayment: Sendable {
        let route: [RouteHop]
        let secrets: [SharedSecret]
        let amount: UInt128
        let fees: UInt128
        let first: HTLCRef
    }

    public init(key: IdentityKey, policy: HTLCPolicy = HTLCPolicy()) {
        self.key = key
        self.policy = policy
    }

    // MARK: Channels

    /// Makes a channel usable for HTLCs from its state: its latest voucher's nonce and amount. A
    /// channel the book holds without HTLCs (handed back, Specs/channels.md §12.10) is taken over
    /// again from that state when it is not behind the book's; its used ids stay.
    public mutating func add(terms: ChannelTerms, role: PaymeshChannels.ChannelRole, nonce: UInt64, settled: UInt128) {
        if let held = channels[terms.channelID] {
            guard held.htlcs.isEmpty, nonce >= held.nonce else { return }
            var c = HTLCChannel(terms: terms, role: role, nonce: nonce, settled: settled)
            c.usedIDs = held.usedIDs
            channels[terms.channelID] = c
            return
        }
        channels[terms.channelID] = HTLCChannel(terms: terms, role: role, nonce: nonce, settled: settled)
    }

    /// Whether the book owns `id`'s voucher sequence now: it holds HTLCs on it (§12.10).
    public func owns(_ id: ChannelID) -> Bool { channels[id].map { !$0.htlcs.isEmpty } ?? false }

    /// A channel's HTLC state as persisted (after a restart).
    public mutating func restore(_ channel: HTLCChannel) {
        var c = channel
        c.usedIDs.formUnion(c.htlcs.map(\.htlcID))
        channels[c.channelID] = c
    }

    /// Gives back a channel that holds no HTLC and never held one (a next-hop candidate a
    /// proposal did not use, Specs/channels.md §12.10).
    public mutating func releaseUnused(_ id: ChannelID) {
        guard let c = channels[id], c.htlcs.isEmpty, c.usedIDs.isEmpty else { return }
        channels[id] = nil
    }

    /// A preimage to reveal for any amount of any asset until it is used (tests, explicit routes).
    public mutating func addInvoice(preimage: Hash32) {
        invoices[Self.hash(preimage)] = HTLCInvoice(preimage: preimage)
    }

    /// An open invoice: the final hop fulfils an HTLC of its hash that meets its terms (§12.7).
    /// Refused (false) when `maxInvoices` are open.
    @discardableResult
    public mutating func addInvoice(_ invoice: HTLCInvoice) -> Bool {
        guard invoices[invoice.paymentHash] != nil || invoices.count < HTLCInvoice.maxOpen else { return false }
        invoices[invoice.paymentHash] = invoice
        return true
    }

    /// Every HTLC with its other half (`htlc.list`).
    public var entries: [HTLCEntry] { channels.values.flatMap(\.htlcs) }

    /// The earliest expiry of a pending HTLC: when `onTimer` has something to sweep.
    public var nextDeadline: UInt64? { channels.values.flatMap(\.pending).map(\.expiry).min() }

    static func hash(_ preimage: Hash32) -> Hash32 {
        // SHA-256 output is 32 bytes.
        try! Hash32(SHA256.hash(preimage.bytes))
    }

    // MARK: Origin

    /// Pays `amount` to the last hop of `route` (first hop first): computes each hop's amount and
    /// expiry backwards from the final one (fee = base + amount · ppm / 10^6 of the amount it
    /// forwards, expiry + its delta), builds the onion, and proposes the first HTLC. `preimage`
    /// travels in the final payload (spontaneous payment) when given.
    public mutating func send(route: [RouteHop], amount: UInt128, paymentHash: Hash32, preimage: Hash32?,
                              htlcID: HTLCID, sessionKey: Secp256k1.PrivateKey, now: UInt64,
                              finalExpiryMillis: UInt64? = nil) throws(NodeError) -> [HTLCAction] {
        guard amount > 0 else { throw .paymesh(.invalidAmount, "amount must be positive") }
        guard let first = route.first else { throw .paymesh(.noRouteFound, "empty route") }
        guard payments[paymentHash] == nil else { throw .paymesh(.duplicateNonce, "a payment with this hash is in flight") }
        // Backwards: what hop i receives and until when.
        var amounts = [UInt128](repeating: amount, count: route.count)
        var expiries = [UInt64](repeating: now + (finalExpiryMillis ?? policy.minFinalExpiryMillis * 2), count: route.count)
        for i in stride(from: route.count - 2, through: 0, by: -1) {
            let hop = route[i]
            guard let fee = HTLCPolicy.fee(base: hop.feeBase, ppm: hop.feePPM, amount: amounts[i + 1]) else {
                throw .paymesh(.invalidAmount, "fee overflows")
            }
            let (a, o) = amounts[i + 1].addingReportingOverflow(fee)
            let (e, o2) = expiries[i + 1].addingReportingOverflow(hop.expiryDeltaMillis)
            guard !o, !o2 else { throw .paymesh(.invalidAmount, "route amounts or expiries overflow") }
            amounts[i] = a
            expiries[i] = e
        }
        var hops: [OnionHop] = []
        for i in route.indices {
            let payload: HopPayload = i == route.count - 1
                ? .final(.init(amount: Amount(amount), expiry: expiries[i], totalAmount: Amount(amount),
                               paymentHash: paymentHash, preimage: preimage))
                : .forward(.init(nextChannel: route[i + 1].channelID, amountToForward: Amount(amounts[i + 1]),
                                 outgoingExpiry: expiries[i + 1]))
            hops.append(OnionHop(nodeKey: route[i].nodeKey, payload: payload.encoded()))
        }
        let onion: BuiltOnion
        do { onion = try OnionPacket.build(sessionKey: sessionKey, hops: hops, associatedData: paymentHash.bytes) } catch {
            throw .paymesh(.noRouteFound, "route does not fit an onion: \(error)")
        }
        guard let channel = channels[first.channelID], channel.role == .payer, channel.peer == first.node else {
            throw .paymesh(.channelNotFound, "no channel \(first.channelID) of ours to \(first.node)")
        }
        try checkCapacity(channel, adding: amounts[0])
        let entry = HTLCEntry(channelID: first.channelID, htlcID: htlcID, paymentHash: paymentHash, amount: amounts[0],
                              expiry: expiries[0], side: .offered, state: .pending)
        guard !channel.usedIDs.contains(htlcID) else { throw .paymesh(.duplicateNonce, "htlc id in use") }
        let propose = try channels[first.channelID]!.propose(entry, onion: onion.packet.bytes, key: key, now: now)
        payments[paymentHash] = OutgoingPayment(route: route, secrets: onion.sharedSecrets, amount: amount,
                                                fees: amounts[0] - amount, first: entry.ref)
        return [.persist(channels[first.channelID]!), .send(.htlcPropose(propose), to: first.node)]
    }

    /// Room for one more HTLC of `amount` on our payer channel: slots, locked value, balance.
    private func checkCapacity(_ c: HTLCChannel, adding amount: UInt128) throws(NodeError) {
        guard c.usedIDs.count < policy.maxHTLCsPerChannel else {
            throw .paymesh(.temporaryChannelFailure, "channel \(c.channelID) held \(c.usedIDs.count) HTLCs (limit \(policy.maxHTLCsPerChannel)); close it")
        }
        guard c.pending.count < policy.maxInFlight else {
            throw .paymesh(.temporaryChannelFailure, "channel \(c.channelID) has \(c.pending.count) HTLCs in flight (limit \(policy.maxInFlight))")
        }
        if let max = policy.maxLockedValue, c.locked + amount > max {
            throw .paymesh(.temporaryChannelFailure, "channel \(c.channelID) would lock \(c.locked + amount) > \(max)")
        }
        guard c.settled + c.heldAmount + amount <= c.terms.deposit else {
            throw .paymesh(.temporaryChannelFailure, "channel \(c.channelID) lacks the balance for \(amount)")
        }
    }

    // MARK: Receiving

    /// One message from `peer` (authenticated by the transport) about an HTLC channel.
    /// `awaitingAcknowledgement`: payer channels of this node the book does not hold because their
    /// machine still waits for the acknowledgement of a plain voucher; an HTLC to forward over one
    /// of them is accepted and parked (`.awaitTakeOver`) instead of failed (Specs/channels.md §12.10).
    public mutating func onReceived(_ m: Message, from peer: EthereumAddress, now: UInt64,
                                    awaitingAcknowledgement: Set<ChannelID> = []) -> [HTLCAction] {
        switch m {
        case .htlcPropose(let p): return onPropose(p, from: peer, now: now, awaiting: awaitingAcknowledgement)
        case .htlcFulfill(let f): return onFulfill(f, from: peer, now: now)
        case .htlcCancel(let c): return onCancel(c, from: peer, now: now)
        case .paymentUpdate(let v): return onVoucher(v, from: peer, now: now)
        default: return []
        }
    }

    /// Whether `m` is about a channel this book handles (the driver routes it here, else to the
    /// channel book).
    public func handles(_ m: Message) -> Bool {
        switch m {
        case .htlcPropose(let p): channels[p.channelID] != nil
        case .htlcFulfill(let f): channels[f.channelID] != nil
        case .htlcCancel(let c): channels[c.channelID] != nil
        case .paymentUpdate(let v): channels[v.channelID].map { $0.role == .payee } ?? false
        default: false
        }
    }

    func refuse(_ p: HTLCPropose, _ peer: EthereumAddress, _ error: NodeError) -> [HTLCAction] {
        let code = error.paymeshCode ?? .internalError
        guard let cancel = try? HTLCCancel(channelID: p.channelID, htlcID: p.htlcID, reason: code, timestamp: p.timestamp) else { return [] }
        return [.send(.htlcCancel(cancel), to: peer), .notify(.refused(peer: peer, code: code, detail: error.detail))]
    }

    private mutating func onPropose(_ p: HTLCPropose, from peer: EthereumAddress, now: UInt64, awaiting: Set<ChannelID>) -> [HTLCAction] {
        guard var c = channels[p.channelID], c.role == .payee else {
            return refuse(p, peer, .paymesh(.channelNotFound, "no channel \(p.channelID) paying this node"))
        }
        guard c.peer == peer else { return refuse(p, peer, .paymesh(.identityNotVerified, "not this channel's payer")) }
        let entry = HTLCEntry(channelID: p.channelID, htlcID: p.htlcID, paymentHash: p.paymentHash, amount: p.amount.atomicUnits,
                              expiry: p.expiry, side: .received, state: .pending)
        do throws(NodeError) {
            guard !c.usedIDs.contains(p.htlcID) else { throw .paymesh(.duplicateNonce, "htlc_id \(p.htlcID) was used before") }
            guard c.usedIDs.count < policy.maxHTLCsPerChannel else {
                throw .paymesh(.channelLimitExceeded, "channel held \(c.usedIDs.count) HTLCs (limit \(policy.maxHTLCsPerChannel)); close it")
            }
            // Counted over what the payer's voucher still holds (a fulfilled HTLC keeps its slot
            // until the payer's next voucher pays it).
            guard c.htlcs.count < policy.maxInFlight else {
                throw .paymesh(.channelLimitExceeded, "\(c.htlcs.count) HTLCs in flight (limit \(policy.maxInFlight))")
            }
            if let max = policy.maxLockedValue, c.heldAmount + entry.amount > max {
                throw .paymesh(.channelLimitExceeded, "locked value would be \(c.heldAmount + entry.amount) > \(max)")
            }
            guard p.expiry > now else { throw .paymesh(.expiryTooSoon, "expiry \(p.expiry) is not after now \(now)") }
            guard p.expiry - now <= policy.maxLifetimeMillis else {
                throw .paymesh(.expiryTooFar, "expiry is more than \(policy.maxLifetimeMillis) ms away")
            }
            let voucher = try c.checkVoucher(nonce: p.nonce, amount: p.voucherAmount.atomicUnits, ids: p.locks, new: entry,
                                             timestamp: p.timestamp, signature: p.signature, type: .htlcPropose, now: now)
            c.htlcs.append(entry)
            c.usedIDs.insert(p.htlcID)
            c.adopt(nonce: p.nonce, amount: p.voucherAmount.atomicUnits, voucher: voucher, signature: p.signature)
        } catch {
            return refuse(p, peer, error)
        }
        channels[p.channelID] = c
        return [.persist(c)] + route(p, entry: entry.ref, now: now, awaiting: awaiting)
    }

    /// The onion of an accepted HTLC: fulfil as the final hop, or forward.
    private mutating func route(_ p: HTLCPropose, entry ref: HTLCRef, now: UInt64, awaiting: Set<ChannelID>) -> [HTLCAction] {
        let peeled: PeeledOnion
        let payload: HopPayload
        do {
            peeled = try OnionPacket(bytes: p.onion).peel(nodeKey: key.privateKey, associatedData: p.paymentHash.bytes)
        } catch {
            return cancelReceived(ref, code: .invalidOnion, failure: [], now: now)
        }
        do { payload = try peeled.paymeshPayload() } catch {
            return fail(ref, peeled.sharedSecret, .invalidOnion, now: now)
        }
        switch payload {
        case .final(let f):
            guard f.amount == p.amount, f.amount == f.totalAmount else { return fail(ref, peeled.sharedSecret, .finalIncorrectAmount, now: now) }
            guard f.expiry == p.expiry else { return fail(ref, peeled.sharedSecret, .finalIncorrectExpiry, now: now) }
            guard p.expiry >= now + policy.minFinalExpiryMillis else { return fail(ref, peeled.sharedSecret, .expiryTooSoon, now: now) }
            guard f.paymentHash == p.paymentHash else { return fail(ref, peeled.sharedSecret, .unknownPaymentHash, now: now) }
            if let spontaneous = f.preimage.flatMap({ Self.hash($0) == p.paymentHash ? $0 : nil }) {
                return fulfillReceived(ref, preimage: spontaneous, now: now)
                    + [.notify(.paymentReceived(paymentHash: p.paymentHash, amount: p.amount.atomicUnits, channelID: p.channelID))]
            }
            // An invoice of ours: unknown, expired, of another asset or for more than arrived all
            // answer 1405 alike (a prober learns nothing about which term failed).
            guard let invoice = invoices[p.paymentHash], now < invoice.expiresAt,
                  invoice.asset.map({ $0 == channels[p.channelID]?.terms.asset }) ?? true,
                  p.amount.atomicUnits >= (invoice.amount ?? 0) else {
                return fail(ref, peeled.sharedSecret, .unknownPaymentHash, now: now)
            }
            invoices[p.paymentHash] = nil
            return [.invoicePaid(paymentHash: p.paymentHash, amount: p.amount.atomicUnits, channelID: p.channelID)]
                + fulfillReceived(ref, preimage: invoice.preimage, now: now)
                + [.notify(.paymentReceived(paymentHash: p.paymentHash, amount: p.amount.atomicUnits, channelID: p.channelID))]
        case .forward(let fwd):
            let parkedForward = ParkedForward(propose: p, payload: fwd, next: peeled.next, secret: peeled.sharedSecret)
            if channels[fwd.nextChannel] == nil, peeled.next != nil, awaiting.contains(fwd.nextChannel) { return park(ref, parkedForward) }
            return forward(ref, parkedForward, now: now)
        }
    }

    // MARK: Forwarding over a channel that waits for an acknowledgement (§12.10)

    /// Keeps an accepted HTLC until its next channel can be taken over. The secret shared with the
    /// origin is written with the HTLC (a failure relayed upstream later is wrapped with it).
    private mutating func park(_ ref: HTLCRef, _ f: ParkedForward) -> [HTLCAction] {
        parked[ref] = f
        let i = channels[ref.channelID]!.index(ref.htlcID)!
        // SharedSecret is 32 bytes (SHA-256 of the ECDH point).
        channels[ref.channelID]!.htlcs[i].sharedSecret = f.secret.withUnsafeBytes { try! Hash32(Array($0)) }
        return [.persist(channels[ref.channelID]!), .awaitTakeOver(f.payload.nextChannel, incoming: ref)]
    }

    /// The next channel of a parked HTLC was taken over (the driver added it): forwards it now,
    /// with every check of §12.6 made at this instant.
    public mutating func forwardParked(_ ref: HTLCRef, now: UInt64) -> [HTLCAction] {
        guard let f = parked.removeValue(forKey: ref), let i = channels[ref.channelID]?.index(ref.htlcID),
              channels[ref.channelID]!.htlcs[i].state == .pending else { return [] }
        return forward(ref, f, now: now)
    }

    /// The next channel of a parked HTLC could not be taken over in time (or at all): the HTLC is
    /// failed upstream with 1408 TEMPORARY_CHANNEL_FAILURE naming that channel.
    public mutating func abandonParked(_ ref: HTLCRef, now: UInt64) -> [HTLCAction] {
        guard let f = parked.removeValue(forKey: ref) else { return [] }
        return fail(ref, f.secret, .temporaryChannelFailure, data: f.payload.nextChannel.bytes, now: now)
    }

    /// Whether `ref` waits for its next channel.
    public func isParked(_ ref: HTLCRef) -> Bool { parked[ref] != nil }

    private mutating func forward(_ ref: HTLCRef, _ f: ParkedForward, now: UInt64) -> [HTLCAction] {
        let p = f.propose, fwd = f.payload, secret = f.secret
        guard let next = f.next, let out = channels[fwd.nextChannel], out.role == .payer else {
            return fail(ref, secret, .unknownNextPeer, now: now)
        }
        let incoming = p.amount.atomicUnits, outgoing = fwd.amountToForward.atomicUnits
        guard outgoing <= incoming, let fee = policy.fee(forwarding: outgoing), incoming - outgoing >= fee else {
            return fail(ref, secret, .feeInsufficient, now: now)
        }
        guard fwd.outgoingExpiry <= p.expiry, p.expiry - fwd.outgoingExpiry >= policy.expiryDeltaMillis,
              fwd.outgoingExpiry > now + policy.minFinalExpiryMillis else {
            return fail(ref, secret, .expiryTooSoon, now: now)
        }
        guard fwd.outgoingExpiry - now <= policy.maxLifetimeMillis else { return fail(ref, secret, .expiryTooFar, now: now) }
        do throws(NodeError) { try checkCapacity(out, adding: outgoing) } catch {
            return fail(ref, secret, .temporaryChannelFailure, data: fwd.nextChannel.bytes, now: now)
        }
        // The outgoing id is derived from the incoming HTLC (unique per incoming ref), so a
        // forwarder needs no randomness and a replay after restart names the same HTLC.
        let outID = try! HTLCID(Array(SHA256.hash(ref.channelID.bytes + ref.htlcID.bytes + Array("paymesh-forward".utf8)).prefix(16)))
        guard out.index(outID) == nil, !out.usedIDs.contains(outID) else { return fail(ref, secret, .temporaryChannelFailure, data: fwd.nextChannel.bytes, now: now) }
        var entry = HTLCEntry(channelID: fwd.nextChannel, htlcID: outID, paymentHash: p.paymentHash, amount: outgoing,
                              expiry: fwd.outgoingExpiry, side: .offered, state: .pending)
        entry.link = ref
        let propose: HTLCPropose
        do { propose = try channels[fwd.nextChannel]!.propose(entry, onion: next.bytes, key: key, now: now) } catch {
            return fail(ref, secret, .temporaryChannelFailure, data: fwd.nextChannel.bytes, now: now)
        }
        let i = channels[ref.channelID]!.index(ref.htlcID)!
        channels[ref.channelID]!.htlcs[i].link = entry.ref
        // SharedSecret is 32 bytes (SHA-256 of the ECDH point).
        channels[ref.channelID]!.htlcs[i].sharedSecret = secret.withUnsafeBytes { try! Hash32(Array($0)) }
        return [.persist(channels[ref.channelID]!), .persist(channels[fwd.nextChannel]!),
                .send(.htlcPropose(propose), to: channels[fwd.nextChannel]!.peer),
                .notify(.forwarded(paymentHash: p.paymentHash, incoming: ref, outgoing: entry.ref, fee: incoming - outgoing))]
    }

    /// This hop fails a received HTLC with a failure onion of its own (Specs/onion.md §5).
    private mutating func fail(_ ref: HTLCRef, _ secret: SharedSecret, _ code: PaymeshErrorCode, data: [UInt8] = [],
                               now: UInt64) -> [HTLCAction] {
        let packet = (try? RoutingFailure(code: code, data: data)).flatMap { try? FailurePacket.create(sharedSecret: secret, failure: $0) } ?? []
        return cancelReceived(ref, code: code, failure: packet, now: now)
    }

    private mutating func cancelReceived(_ ref: HTLCRef, code: PaymeshErrorCode, failure: [UInt8], now: UInt64) -> [HTLCAction] {
        parked[ref] = nil // cancelled while it waited (the sweeper at its expiry): never forwarded
        guard let i = channels[ref.channelID]?.index(ref.htlcID), channels[ref.channelID]!.htlcs[i].state == .pending,
              let cancel = try? HTLCCancel(channelID: ref.channelID, htlcID: ref.htlcID, reason: code, failure: failure, timestamp: now)
        else { return [] }
        channels[ref.channelID]!.htlcs[i].state = .cancelled
        channels[ref.channelID]!.htlcs[i].reason = code
        channels[ref.channelID]!.htlcs[i].sharedSecret = nil
        let c = channels[ref.channelID]!
        return [.persist(c), .send(.htlcCancel(cancel), to: c.peer)]
    }

    /// Fulfils a received HTLC: persisted, then HTLC_FULFILL to its payer (the final hop: persist
    /// before it reveals the preimage) — or, `ahead` (a forwarder, §12.4), HTLC_FULFILL first.
    private mutating func fulfillReceived(_ ref: HTLCRef, preimage: Hash32, now: UInt64, ahead: Bool = false) -> [HTLCAction] {
        guard let i = channels[ref.channelID]?.index(ref.htlcID), channels[ref.channelID]!.htlcs[i].state == .pending else { return [] }
        channels[ref.channelID]!.htlcs[i].state = .fulfilled
        channels[ref.channelID]!.htlcs[i].preimage = preimage
        channels[ref.channelID]!.htlcs[i].sharedSecret = nil
        let c = channels[ref.channelID]!
        let fulfil = HTLCAction.send(.htlcFulfill(HTLCFulfill(channelID: ref.channelID, htlcID: ref.htlcID, preimage: preimage, timestamp: now)), to: c.peer)
        return ahead ? [fulfil, .persist(c)] : [.persist(c), fulfil]
    }

    // MARK: The payer's side: answers to our HTLCs

    private mutating func offered(_ id: ChannelID, _ htlc: HTLCID, from peer: EthereumAddress) -> Int? {
        guard let c = channels[id], c.role == .payer, c.peer == peer, let i = c.index(htlc),
              c.htlcs[i].state == .pending else { return nil }
        return i
    }

    /// A fulfil or cancel of an HTLC this payer already answered (the payee missed the answer, e.g.
    /// across a restart): the latest voucher again, else a refusal.
    private func answered(_ id: ChannelID, _ htlc: HTLCID, from peer: EthereumAddress, _ what: String) -> [HTLCAction] {
        if let c = channels[id], c.role == .payer, c.peer == peer, c.index(htlc) == nil, let v = c.lastUpdate {
            return [.send(.paymentUpdate(v), to: peer)]
        }
        return [.notify(.refused(peer: peer, code: .channelNotFound, detail: "\(what) of no pending HTLC of ours"))]
    }

    private mutating func onFulfill(_ f: HTLCFulfill, from peer: EthereumAddress, now: UInt64) -> [HTLCAction] {
        guard let i = offered(f.channelID, f.htlcID, from: peer) else { return answered(f.channelID, f.htlcID, from: peer, "HTLC_FULFILL") }
        let entry = channels[f.channelID]!.htlcs[i]
        guard Self.hash(f.preimage) == entry.paymentHash else {
            return [.notify(.refused(peer: peer, code: .invalidProof, detail: "preimage does not match the payment hash"))]
        }
        var out: [HTLCAction] = []
        // A forwarder tells upstream first, ahead of this list's writes (Specs/channels.md §12.4):
        // the fulfil carries only the preimage the downstream node revealed, nothing this node
        // signs. The incoming HTLC's preimage is persisted in this list, with the voucher that pays
        // downstream (sent once both are durable): a restart before that write learns the preimage
        // again from the downstream node's repeated fulfil.
        if let up = entry.link { out += fulfillReceived(up, preimage: f.preimage, now: now, ahead: true) }
        channels[f.channelID]!.htlcs[i].state = .fulfilled
        channels[f.channelID]!.htlcs[i].preimage = f.preimage
        // The origin's outcome is durable with the voucher that pays the HTLC (also after a restart,
        // when the payment is no longer in memory).
        if entry.link == nil { out.append(.originResolved(.succeeded(entry.paymentHash, preimage: f.preimage, at: now), channelID: f.channelID)) }
        out += reissue(f.channelID, now: now)
        if entry.link == nil, let pay = payments.removeValue(forKey: entry.paymentHash) {
            out.append(.notify(.paymentSucceeded(paymentHash: entry.paymentHash, preimage: f.preimage, amount: pay.amount, fees: pay.fees)))
        }
        return out
    }

    private mutating func onCancel(_ m: HTLCCancel, from peer: EthereumAddress, now: UInt64) -> [HTLCAction] {
        guard let i = offered(m.channelID, m.htlcID, from: peer) else { return answered(m.channelID, m.htlcID, from: peer, "HTLC_CANCEL") }
        let entry = channels[m.channelID]!.htlcs[i]
        channels[m.channelID]!.htlcs[i].state = .cancelled
        channels[m.channelID]!.htlcs[i].reason = m.reason
        return resolveCancelled(entry, reason: m.reason, failure: m.failure, now: now)
    }

    /// An offered HTLC was cancelled (by the payee, or by the sweeper at its expiry): the voucher
    /// that drops it, then the failure upstream — or, at the origin, its outcome recorded with
    /// that voucher and the payment's failure reported.
    private mutating func resolveCancelled(_ entry: HTLCEntry, reason: PaymeshErrorCode, failure: [UInt8], now: UInt64) -> [HTLCAction] {
        guard entry.link == nil else { return reissue(entry.channelID, now: now) + failUpstream(entry, reason: reason, failure: failure, now: now) }
        let (outcome, event) = originFailure(entry, reason: reason, failure: failure, now: now)
        var out: [HTLCAction] = [.originResolved(outcome, channelID: entry.channelID)]
        out += reissue(entry.channelID, now: now)
        if let event { out.append(.notify(event)) }
        return out
    }

    /// The origin's reading of a failure: the hop and code a failure onion attributes (no onion,
    /// or one no hop's HMAC verifies: the first hop is blamed, onion.md §5.3), or — for a payment no
    /// longer in memory (after a restart) — the cancel's own reason, unattributed.
    private mutating func originFailure(_ entry: HTLCEntry, reason: PaymeshErrorCode, failure: [UInt8],
                                        now: UInt64) -> (RouteOutcome, HTLCEvent?) {
        guard let pay = payments.removeValue(forKey: entry.paymentHash) else {
            return (.failed(entry.paymentHash, code: reason, hopIndex: nil, node: nil, at: now), nil)
        }
        var hop = 0
        var code = reason
        if !failure.isEmpty, let attributed = try? FailurePacket.attribute(failure, sharedSecrets: pay.secrets) {
            hop = attributed.hopIndex
            code = attributed.failure.code
        }
        let node = pay.route[hop].node
        return (.failed(entry.paymentHash, code: code, hopIndex: hop, node: node, at: now),
                .paymentFailed(paymentHash: entry.paymentHash, hopIndex: hop, node: node, code: code))
    }

    /// A failed offered HTLC: relay the failure upstream (wrapped with our secret) or, at the
    /// origin, attribute it to a hop.
    private mutating func failUpstream(_ entry: HTLCEntry, reason: PaymeshErrorCode, failure: [UInt8], now: UInt64) -> [HTLCAction] {
        if let up = entry.link {
            guard let c = channels[up.channelID], let i = c.index(up.htlcID), let stored = c.htlcs[i].sharedSecret,
                  let secret = try? SharedSecret(copying: stored.bytes) else {
                return cancelReceived(up, code: reason, failure: failure, now: now)
            }
            if failure.isEmpty { return fail(up, secret, reason, now: now) }
            let wrapped = (try? FailurePacket.wrap(failure, sharedSecret: secret)) ?? failure
            return cancelReceived(up, code: reason, failure: wrapped, now: now)
        }
        guard let event = originFailure(entry, reason: reason, failure: failure, now: now).1 else { return [] }
        return [.notify(event)]
    }

    private mutating func reissue(_ id: ChannelID, now: UInt64) -> [HTLCAction] {
        let voucher: PaymentUpdate
        do { voucher = try channels[id]!.reissue(key: key, now: now) } catch {
            return [.notify(.refused(peer: channels[id]!.peer, code: error.paymeshCode ?? .internalError, detail: error.detail))]
        }
        return [.persist(channels[id]!), .send(.paymentUpdate(voucher), to: channels[id]!.peer)]
    }

    // MARK: The payee's side: the payer's vouchers

    private mutating func onVoucher(_ v: PaymentUpdate, from peer: EthereumAddress, now: UInt64) -> [HTLCAction] {
        guard var c = channels[v.channelID], c.role == .payee, c.peer == peer else { return [] }
        let answer: PaymentAck?
        do throws(NodeError) {
            let voucher = try c.checkVoucher(nonce: v.nonce, amount: v.amount.atomicUnits, ids: v.locks ?? [], new: nil,
                                             timestamp: v.timestamp, signature: v.signature, type: .paymentUpdate, now: now)
            if voucher == nil {
                do { try v.verify(expectedSigner: c.terms.payer, domain: c.terms.domain) } catch {
                    throw .paymesh(.invalidSignature, "\(error)")
                }
            }
            c.adopt(nonce: v.nonce, amount: v.amount.atomicUnits, voucher: voucher, signature: v.signature)
            channels[v.channelID] = c
            answer = try? PaymentAck(channelID: v.channelID, nonce: v.nonce, status: .accepted)
        } catch {
            let code = error.paymeshCode ?? .internalError
            let nack = try? PaymentAck(channelID: v.channelID, nonce: v.nonce, status: .rejected, reason: nil, errorCode: code)
            return (nack.map { [.send(.paymentAck($0), to: peer)] } ?? []) + [.notify(.refused(peer: peer, code: code, detail: error.detail))]
        }
        return [.persist(c)] + (answer.map { [.send(.paymentAck($0), to: peer)] } ?? [])
    }

    // MARK: Time and restarts

    /// The sweeper (a deadline of the driver's queue, on the injected clock): every pending HTLC
    /// at or past its expiry is cancelled (HTLC_TIMEOUT, 1401) — offered ones unlock our balance
    /// and fail upstream, received ones are released to the payer.
    public mutating func onTimer(now: UInt64) -> [HTLCAction] {
        var out: [HTLCAction] = []
        for id in channels.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
            for entry in channels[id]!.pending where entry.expiry <= now {
                switch entry.side {
                case .received:
                    out += cancelReceived(entry.ref, code: .htlcTimeout, failure: [], now: now)
                case .offered:
                    let i = channels[id]!.index(entry.htlcID)!
                    channels[id]!.htlcs[i].state = .cancelled
                    channels[id]!.htlcs[i].reason = .htlcTimeout
                    out += resolveCancelled(entry, reason: .htlcTimeout, failure: [], now: now)
                }
            }
        }
        return out
    }

    /// After a restart (or when `peer` is back): repeat what the peer may have missed — a
    /// fulfil we owe upstream (the claim of a forwarding node that learned the preimage
    /// downstream) and cancels not yet acknowledged by the payer's next voucher.
    public func resume(peer: EthereumAddress, now: UInt64) -> [HTLCAction] {
        var out: [HTLCAction] = []
        for c in channels.values where c.role == .payee && c.peer == peer {
            for e in c.htlcs {
                switch e.state {
                case .fulfilled:
                    if let p = e.preimage {
                        out.append(.send(.htlcFulfill(HTLCFulfill(channelID: e.channelID, htlcID: e.htlcID, preimage: p, timestamp: now)), to: peer))
                    }
                case .cancelled:
                    if let m = try? HTLCCancel(channelID: e.channelID, htlcID: e.htlcID, reason: e.reason ?? .htlcRoutingFailed, timestamp: now) {
                        out.append(.send(.htlcCancel(m), to: peer))
                    }
                case .pending: break
                }
            }
        }
        return out
    }
}
