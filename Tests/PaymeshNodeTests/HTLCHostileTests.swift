import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import PaymeshOnion
import Testing

/// A payer that breaks the conditional-voucher rules (Specs/channels.md §12.2): each proposal is
/// refused with its code, answered by HTLC_CANCEL, and changes nothing the payee holds.
@Suite("HTLC book: hostile payers and restarts")
struct HTLCHostileTests {
    /// A well-formed HTLC_PROPOSE from node 0 to node 1 of `net`, paying node 1, signed by `signer`.
    static func propose(_ net: HTLCNet, id: UInt8, amount: UInt128, nonce: UInt64, voucherAmount: UInt128? = nil,
                        locks: [HTLCLock] = [], signer: IdentityKey? = nil) throws -> HTLCPropose {
        let p = HTLCNet.preimage(id), hash = HTLCNet.hash(p), expiry = net.now + 600_000
        let payload = HopPayload.final(.init(amount: Amount(amount), expiry: expiry, totalAmount: Amount(amount), paymentHash: hash, preimage: p))
        let onion = try OnionPacket.build(sessionKey: HTLCNet.sessionKey(id), hops: [OnionHop(nodeKey: net.keys[1].publicKey, payload: payload.encoded())],
                                          associatedData: hash.bytes)
        var m = try HTLCPropose(channelID: net.channels[0].channelID, htlcID: HTLCNet.htlcID(id), paymentHash: hash, amount: Amount(amount),
                                expiry: expiry, onion: onion.packet.bytes, nonce: nonce, voucherAmount: Amount(voucherAmount ?? amount),
                                locks: locks.map(\.htlcID), timestamp: net.now, signature: .unsigned)
        m.signature = try m.conditionalVoucher(otherLocks: locks).sign(with: signer ?? net.keys[0], domain: net.channels[0].domain, type: .htlcPropose)
        return m
    }

    static func refusal(_ actions: [HTLCAction]) -> PaymeshErrorCode? {
        for case .send(.htlcCancel(let c), _) in actions { return c.reason }
        return nil
    }

    @Test func aVoucherNotSignedByThePayerIsRefused() throws {
        var net = try HTLCNet(nodes: 2)
        let forged = try Self.propose(net, id: 1, amount: 10, nonce: 1, signer: net.keys[1])
        let actions = net.books[1].onReceived(.htlcPropose(forged), from: net.address(0), now: net.now)
        #expect(Self.refusal(actions) == .invalidSignature)
        #expect(!actions.contains { if case .persist = $0 { true } else { false } })
        #expect(net.channel(1, 0).htlcs.isEmpty && net.channel(1, 0).nonce == 0)
    }

    @Test func aVoucherAboveTheDepositIsRefused() throws {
        var net = try HTLCNet(nodes: 2, deposit: 1_000)
        let tooMuch = try Self.propose(net, id: 2, amount: 1_001, nonce: 1)
        #expect(Self.refusal(net.books[1].onReceived(.htlcPropose(tooMuch), from: net.address(0), now: net.now)) == .insufficientFunds)
        #expect(net.channel(1, 0).htlcs.isEmpty)
    }

    @Test func aReusedHTLCIDIsRefused() throws {
        var net = try HTLCNet(nodes: 2)
        try net.pay(to: 1, amount: 10, seed: 3) // htlc id 0x03…, fulfilled and paid (nonce 2)
        let again = try Self.propose(net, id: 3, amount: 10, nonce: 3, voucherAmount: 20)
        #expect(Self.refusal(net.books[1].onReceived(.htlcPropose(again), from: net.address(0), now: net.now)) == .duplicateNonce)
        #expect(net.channel(1, 0).settled == 10 && net.channel(1, 0).htlcs.isEmpty)
    }

    @Test func aVoucherThatDropsAPendingHTLCOrUnderpaysIsRefused() throws {
        var net = try HTLCNet(nodes: 2)
        let first = try Self.propose(net, id: 4, amount: 10, nonce: 1)
        // Node 1 accepts and fulfils; keep the fulfil from reaching node 0.
        _ = net.books[1].onReceived(.htlcPropose(first), from: net.address(0), now: net.now)
        #expect(net.channel(1, 0).htlcs.first?.state == .fulfilled)
        // A second HTLC whose voucher no longer holds the fulfilled one and pays it nothing.
        let cheat = try Self.propose(net, id: 5, amount: 10, nonce: 2, voucherAmount: 10)
        #expect(Self.refusal(net.books[1].onReceived(.htlcPropose(cheat), from: net.address(0), now: net.now)) == .invalidAmount)
        // Holding the first one (or paying it unconditionally) is accepted.
        let fair = try Self.propose(net, id: 6, amount: 10, nonce: 2, voucherAmount: 20, locks: [first.lock])
        let ok = net.books[1].onReceived(.htlcPropose(fair), from: net.address(0), now: net.now)
        #expect(Self.refusal(ok) == nil)
        #expect(net.channel(1, 0).htlcs.count == 2 && net.channel(1, 0).nonce == 2)
    }

    @Test func aProposalFromAnotherPeerIsRefused() throws {
        var net = try HTLCNet(nodes: 3)
        let m = try Self.propose(net, id: 7, amount: 10, nonce: 1)
        #expect(Self.refusal(net.books[1].onReceived(.htlcPropose(m), from: net.address(2), now: net.now)) == .identityNotVerified)
    }

    /// A forwarding node that learned the preimage downstream and crashed before telling upstream
    /// claims upstream after its restart, from what it persisted.
    @Test func aForwarderRestartedAfterLearningThePreimageClaimsUpstream() throws {
        var net = try HTLCNet(nodes: 3, policies: [1: HTLCPolicy(feeBase: 3)])
        // Node 1 "crashes" right after handling the fulfil: its sends are lost.
        net.drop = { from, _, m in if from == 1, case .htlcFulfill = m { true } else { false } }
        try net.pay(to: 2, amount: 50, seed: 8)
        #expect(net.channel(0, 0).locked == 53, "upstream not yet paid")
        // Restart node 1 from its durable state only.
        var restarted = HTLCBook(key: net.keys[1], policy: net.books[1].policy)
        for c in net.durable[1].values { restarted.restore(c) }
        net.books[1] = restarted
        net.drop = { _, _, _ in false }
        net.perform(net.books[1].resume(peer: net.address(0), now: net.now), at: 1, resent: true)
        net.run()
        #expect(net.channel(0, 0).settled == 53 && net.channel(1, 1).settled == 50)
        net.expectSettledEverywhere()
    }
}

extension HTLCHostileTests {
    /// The payer's voucher answering a fulfil is lost and both ends restart: the payee repeats its
    /// fulfil, the payer (restored from its rows) repeats the same voucher, and the ends agree.
    @Test func aLostAnswerToAFulfilIsRepeatedAfterRestarts() throws {
        var net = try HTLCNet(nodes: 2)
        net.drop = { from, _, m in if from == 0, case .paymentUpdate = m { true } else { false } }
        try net.pay(to: 1, amount: 25, seed: 9)
        #expect(net.channel(0, 0).settled == 25 && net.channel(1, 0).settled == 0)
        net.drop = { _, _, _ in false }
        for node in 0..<2 {
            var restarted = HTLCBook(key: net.keys[node])
            for c in net.durable[node].values {
                restarted.restore(HTLCChannel(restoring: c.stored, terms: c.terms, role: c.role))
            }
            net.books[node] = restarted
        }
        net.perform(net.books[1].resume(peer: net.address(0), now: net.now), at: 1, resent: true)
        // The payer's answer comes from durable state too: check it by hand, then deliver.
        let (from, to, fulfil) = net.queue.removeFirst()
        let answer = net.books[to].onReceived(fulfil, from: net.address(from), now: net.now)
        guard case .send(.paymentUpdate(let v), _)? = answer.first else { Issue.record("no voucher: \(answer)"); return }
        #expect(v.amount == Amount(25) && v.locks == nil && v.nonce == 2)
        net.perform(answer, at: to, resent: true)
        net.run()
        #expect(net.channel(1, 0).settled == 25 && net.channel(1, 0).htlcs.isEmpty)
        net.expectSettledEverywhere()
    }
}

@Suite("HTLC book: persisted state")
struct HTLCPersistenceTests {
    /// Every channel state a 3-hop payment persists survives the store's rows unchanged.
    @Test func channelStateSurvivesTheStoreRows() throws {
        var net = try HTLCNet(nodes: 3, policies: [1: HTLCPolicy(feeBase: 2)])
        net.drop = { from, _, m in if from == 2, case .htlcFulfill = m { true } else { false } }
        try net.pay(to: 2, amount: 90, seed: 50)
        var seen = 0
        for node in net.durable.indices {
            for c in net.durable[node].values {
                let back = HTLCChannel(restoring: c.stored, terms: c.terms, role: c.role)
                #expect(back.stored == c.stored && back.htlcs == c.htlcs && back.latestVoucher == c.latestVoucher
                        && back.latestSignature == c.latestSignature && back.lastUpdate == c.lastUpdate && back.nonce == c.nonce && back.settled == c.settled)
                seen += 1
            }
        }
        #expect(seen == 4)
    }
}

/// A forwarder sends HTLC_FULFILL upstream before the write that records the preimage (Specs/
/// channels.md §12.4) and may crash before that write: restarted from what was durable, its incoming
/// HTLC is pending again, without the preimage, while the upstream payer already settled it.
extension HTLCHostileTests {
    enum FirstAfterRestart { case upstreamVoucher, downstreamFulfil }

    /// Node 1 of 0 → 1 → 2 takes node 2's fulfil and "crashes" before its writes: only its fulfil
    /// upstream went out. Returns node 0's voucher answering that fulfil (not delivered yet).
    static func forwarderCrashedAfterItsFulfilUpstream(_ net: inout HTLCNet) throws -> PaymentUpdate {
        var fulfils: [Message] = []
        net.drop = { from, _, m in
            guard from == 2, case .htlcFulfill = m else { return false }
            fulfils.append(m)
            return true
        }
        try net.pay(to: 2, amount: 50, seed: 31)
        let before = net.durable[1]
        let fulfil = try #require(fulfils.first)
        let actions = net.books[1].onReceived(fulfil, from: net.address(2), now: net.now)
        // The fulfil upstream comes first, before any write; the preimage is persisted in the same
        // list, and the voucher paying node 2 only after the write of its channel.
        guard case .send(.htlcFulfill(let up), let to)? = actions.first else { throw Unexpected(what: "first action \(String(describing: actions.first))") }
        #expect(to == net.address(0) && up.channelID == net.channels[0].channelID)
        let writes = actions.enumerated().compactMap { i, a -> (Int, HTLCChannel)? in if case .persist(let c) = a { (i, c) } else { nil } }
        let voucher = actions.firstIndex { if case .send(.paymentUpdate, _) = $0 { true } else { false } }
        #expect(writes.contains { $0.1.channelID == net.channels[0].channelID && $0.1.htlcs.first?.preimage == up.preimage })
        let paidDownstream = writes.first { $0.1.channelID == net.channels[1].channelID }?.0
        #expect(paidDownstream != nil && voucher != nil && paidDownstream! < voucher!)
        // Crash: nothing of the list but the fulfil upstream happened.
        var answers: [PaymentUpdate] = []
        net.drop = { from, _, m in
            guard from == 0, case .paymentUpdate(let v) = m else { return false }
            answers.append(v)
            return true
        }
        net.queue.append((1, 0, .htlcFulfill(up)))
        net.run()
        #expect(net.events[0].contains { if case .paymentSucceeded = $0 { true } else { false } })
        var restarted = HTLCBook(key: net.keys[1], policy: net.books[1].policy)
        for c in before.values { restarted.restore(HTLCChannel(restoring: c.stored, terms: c.terms, role: c.role)) }
        net.books[1] = restarted
        net.durable[1] = before
        net.drop = { _, _, _ in false }
        #expect(net.channel(1, 0).htlcs.first?.state == .pending && net.channel(1, 0).htlcs.first?.preimage == nil)
        return try #require(answers.first)
    }

    /// Whichever reaches the restarted forwarder first — the upstream's voucher that settles the
    /// HTLC it still holds as pending, or the downstream's repeated fulfil — every hop ends paid
    /// exactly once and nothing stays locked.
    @Test(arguments: [FirstAfterRestart.upstreamVoucher, .downstreamFulfil])
    func aForwarderCrashedAfterItsFulfilUpstreamIsPaidOnceByEveryHop(first: FirstAfterRestart) throws {
        var net = try HTLCNet(nodes: 3, policies: [1: HTLCPolicy(feeBase: 3)])
        let voucher = try Self.forwarderCrashedAfterItsFulfilUpstream(&net)
        #expect(voucher.locks == nil && voucher.amount == Amount(53))
        switch first {
        case .upstreamVoucher:
            let answer = net.books[1].onReceived(.paymentUpdate(voucher), from: net.address(0), now: net.now)
            guard case .send(.paymentAck(let ack), _)? = answer.last else { Issue.record("answer: \(answer)"); return }
            #expect(ack.status == .accepted)
            net.perform(answer, at: 1)
            #expect(net.channel(1, 0).settled == 53 && net.channel(1, 0).htlcs.isEmpty)
            // The downstream repeats its fulfil: node 1 pays it and owes upstream nothing more.
            net.perform(net.books[2].resume(peer: net.address(1), now: net.now), at: 2, resent: true)
            net.run()
        case .downstreamFulfil:
            // Node 1 learns the preimage again, tells node 0 again, which answers with the voucher it
            // already signed and persisted (a resend).
            net.perform(net.books[2].resume(peer: net.address(1), now: net.now), at: 2, resent: true)
            while !net.queue.isEmpty {
                let (from, to, m) = net.queue.removeFirst()
                net.perform(net.books[to].onReceived(m, from: net.address(from), now: net.now), at: to, resent: to == 0)
            }
        }
        #expect(net.channel(0, 0).settled == 53 && net.channel(1, 0).settled == 53)
        #expect(net.channel(1, 1).settled == 50 && net.channel(2, 1).settled == 50)
        net.expectSettledEverywhere()
    }

    /// After that restart a payer's voucher may leave the pending HTLC out only by paying it: one
    /// that drops it for less is refused (1104) and changes nothing.
    @Test func aVoucherThatDropsAPendingHTLCWithoutPayingItIsRefusedAfterTheRestart() throws {
        var net = try HTLCNet(nodes: 3, policies: [1: HTLCPolicy(feeBase: 3)])
        let honest = try Self.forwarderCrashedAfterItsFulfilUpstream(&net)
        for amount: UInt128 in [1, 52] {
            let cheat = try PaymentUpdate(channelID: net.channels[0].channelID, nonce: honest.nonce, amount: Amount(amount), timestamp: net.now,
                                          signature: .unsigned).signed(with: net.keys[0], domain: net.channels[0].domain)
            let answer = net.books[1].onReceived(.paymentUpdate(cheat), from: net.address(0), now: net.now)
            #expect(answer.contains { if case .send(.paymentAck(let a), _) = $0 { a.status == .rejected && a.errorCode == .invalidAmount } else { false } })
            #expect(!answer.contains { if case .persist = $0 { true } else { false } })
            #expect(net.channel(1, 0).htlcs.first?.state == .pending && net.channel(1, 0).settled == 0)
        }
        let answer = net.books[1].onReceived(.paymentUpdate(honest), from: net.address(0), now: net.now)
        #expect(answer.contains { if case .send(.paymentAck(let a), _) = $0 { a.status == .accepted } else { false } })
    }
}

struct Unexpected: Error { let what: String }
