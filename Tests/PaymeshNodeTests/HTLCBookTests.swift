import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import PaymeshOnion
import Testing

/// N HTLC books wired by a message queue, with a manual time: multi-hop payments, fees, failures
/// and their attribution, the sweeper, limits and hostile proposals, all sans-IO (microseconds).
/// Every HTLC_PROPOSE, HTLC_FULFILL and PAYMENT_UPDATE a book sends follows a `.persist` of its
/// channel in the same action list — except a forwarder's HTLC_FULFILL upstream, which goes ahead
/// of the persist of its preimage in that list (checked on every step).
struct HTLCNet {
    static let usdc = try! Asset(id: "USDC", decimals: 6)
    static let t0: UInt64 = 1_767_225_600_000

    var keys: [IdentityKey]
    var books: [HTLCBook]
    /// channels[i]: node i pays node i + 1.
    var channels: [ChannelTerms] = []
    var now = t0
    var events: [[HTLCEvent]]
    /// The last persisted state of each node's channels (what a restart restores).
    var durable: [[ChannelID: HTLCChannel]]
    /// Every state each node persisted, in order (what its store was asked to write).
    var persisted: [[HTLCChannel]]
    var queue: [(from: Int, to: Int, message: Message)] = []
    /// Messages to lose (a peer offline, a hop withholding its preimage).
    var drop: (Int, Int, Message) -> Bool = { _, _, _ in false }
    /// Per node, the payer channels its driver reports as waiting for acknowledgements (§12.10).
    var awaitingAcknowledgement: [Int: Set<ChannelID>] = [:]
    /// Every `.awaitTakeOver` asked: node, next channel, parked incoming HTLC.
    var parkedAt: [(node: Int, channel: ChannelID, incoming: HTLCRef)] = []

    init(nodes: Int, deposit: UInt128 = 10_000_000, policies: [Int: HTLCPolicy] = [:]) throws {
        let keys = (0..<nodes).map { IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: UInt8(0x41 + $0), count: 32))) }
        self.keys = keys
        books = keys.indices.map { HTLCBook(key: keys[$0], policy: policies[$0] ?? HTLCPolicy()) }
        events = Array(repeating: [], count: nodes)
        durable = Array(repeating: [:], count: nodes)
        persisted = Array(repeating: [], count: nodes)
        for i in 0..<(nodes - 1) {
            let (payer, _) = try PayerChannel.open(key: keys[i], payee: keys[i + 1].address, asset: Self.usdc, deposit: deposit,
                                                   salt: [UInt8](repeating: UInt8(i), count: 32), now: Self.t0)
            channels.append(payer.terms)
            books[i].add(terms: payer.terms, role: .payer, nonce: 0, settled: 0)
            books[i + 1].add(terms: payer.terms, role: .payee, nonce: 0, settled: 0)
        }
    }

    func address(_ i: Int) -> EthereumAddress { keys[i].address }
    func index(of a: EthereumAddress) -> Int { keys.firstIndex { $0.address == a }! }

    /// Hops from node `from + 1` to node `to`, with each forwarder's fee terms as its policy says.
    func route(from: Int = 0, to: Int) -> [RouteHop] {
        (from + 1...to).map { n in
            RouteHop(nodeKey: keys[n].publicKey, channelID: channels[n - 1].channelID, feeBase: books[n].policy.feeBase,
                     feePPM: books[n].policy.feePPM, expiryDeltaMillis: books[n].policy.expiryDeltaMillis)
        }
    }

    /// `resent`: messages repeated from durable state (`resume`), which need no new persist.
    mutating func perform(_ actions: [HTLCAction], at node: Int, resent: Bool = false) {
        var persisted: Set<ChannelID> = []
        for a in actions {
            switch a {
            case .persist(let c):
                persisted.insert(c.channelID)
                durable[node][c.channelID] = c
                self.persisted[node].append(c)
            case .send(let m, let to):
                if !resent { switch m {
                case .htlcPropose(let p): #expect(persisted.contains(p.channelID), "HTLC_PROPOSE before its persist")
                case .htlcFulfill(let f):
                    // A forwarder's fulfil upstream goes ahead of the list's writes, which record its
                    // preimage (Specs/channels.md §12.4); the final hop's follows its persist.
                    if books[node].channels[f.channelID]?.htlcs.first(where: { $0.htlcID == f.htlcID })?.link != nil {
                        #expect(actions.contains { if case .persist(let c) = $0 { c.htlcs.contains { $0.htlcID == f.htlcID && $0.preimage == f.preimage } } else { false } },
                                "a forwarder's HTLC_FULFILL without the persist of its preimage")
                    } else {
                        #expect(persisted.contains(f.channelID), "HTLC_FULFILL before its persist")
                    }
                case .paymentUpdate(let v): #expect(persisted.contains(v.channelID), "voucher before its persist")
                default: break
                } }
                queue.append((node, index(of: to), m))
            case .notify(let e): events[node].append(e)
            case .awaitTakeOver(let c, let incoming):
                #expect(persisted.contains(incoming.channelID), "a parked HTLC before its persist")
                parkedAt.append((node, c, incoming))
            case .invoicePaid, .originResolved: break
            }
        }
    }

    /// Delivers until no message is left.
    mutating func run() {
        while !queue.isEmpty {
            let (from, to, m) = queue.removeFirst()
            if drop(from, to, m) { continue }
            perform(books[to].onReceived(m, from: address(from), now: now, awaitingAcknowledgement: awaitingAcknowledgement[to] ?? []), at: to)
        }
    }

    static func preimage(_ b: UInt8) -> Hash32 { try! Hash32([UInt8](repeating: b, count: 32)) }
    static func hash(_ p: Hash32) -> Hash32 { try! Hash32(SHA256.hash(p.bytes)) }
    static func htlcID(_ b: UInt8) -> HTLCID { try! HTLCID([UInt8](repeating: b, count: 16)) }
    static func sessionKey(_ b: UInt8) -> Secp256k1.PrivateKey { try! .init(rawRepresentation: [UInt8](repeating: b, count: 32)) }

    /// Node 0 pays node `to` over the route (spontaneously: the preimage rides in the onion).
    mutating func pay(to: Int, amount: UInt128, seed: UInt8, route: [RouteHop]? = nil) throws {
        let p = Self.preimage(seed)
        let actions = try books[0].send(route: route ?? self.route(to: to), amount: amount, paymentHash: Self.hash(p), preimage: p,
                                        htlcID: Self.htlcID(seed), sessionKey: Self.sessionKey(seed), now: now)
        perform(actions, at: 0)
        run()
    }

    mutating func tick(to time: UInt64) {
        now = time
        for i in books.indices { perform(books[i].onTimer(now: now), at: i) }
        run()
    }

    func channel(_ node: Int, _ index: Int) -> HTLCChannel { books[node].channels[channels[index].channelID]! }

    /// Nothing locked anywhere, and both ends of every channel agree on what is paid.
    func expectSettledEverywhere(sourceLocation: SourceLocation = #_sourceLocation) {
        for i in channels.indices {
            let payer = channel(i, i), payee = channel(i + 1, i)
            #expect(payer.locked == 0 && payee.locked == 0, "channel \(i) still locks value", sourceLocation: sourceLocation)
            #expect(payer.settled == payee.settled && payer.nonce == payee.nonce, "channel \(i) ends disagree", sourceLocation: sourceLocation)
        }
    }
}

@Suite("HTLC book: multi-hop payments (sans-IO)")
struct HTLCBookTests {
    @Test func oneHopPaysTheAmountWithNoFee() throws {
        var net = try HTLCNet(nodes: 2)
        try net.pay(to: 1, amount: 1_000, seed: 1)
        #expect(net.events[1] == [.paymentReceived(paymentHash: HTLCNet.hash(HTLCNet.preimage(1)), amount: 1_000, channelID: net.channels[0].channelID)])
        #expect(net.events[0] == [.paymentSucceeded(paymentHash: HTLCNet.hash(HTLCNet.preimage(1)), preimage: HTLCNet.preimage(1), amount: 1_000, fees: 0)])
        #expect(net.channel(0, 0).settled == 1_000)
        // The propose (nonce 1) and the unconditional voucher answering the fulfil (nonce 2).
        #expect(net.channel(1, 0).nonce == 2 && net.channel(1, 0).latestVoucher == nil)
        net.expectSettledEverywhere()
    }

    @Test func twoHopsPayTheForwarderItsExactFee() throws {
        var net = try HTLCNet(nodes: 3, policies: [1: HTLCPolicy(feeBase: 10, feePPM: 1_000)])
        try net.pay(to: 2, amount: 100_000, seed: 2)
        // fee = 10 + 100,000 · 1,000 / 10^6 = 110.
        #expect(net.channel(0, 0).settled == 100_110)
        #expect(net.channel(1, 1).settled == 100_000)
        #expect(net.events[0].last == .paymentSucceeded(paymentHash: HTLCNet.hash(HTLCNet.preimage(2)), preimage: HTLCNet.preimage(2), amount: 100_000, fees: 110))
        #expect(net.events[1].contains { if case .forwarded(_, _, _, fee: 110) = $0 { true } else { false } })
        net.expectSettledEverywhere()
    }

    @Test func threeHopsPayEveryHopItsFeeRoundedDown() throws {
        var net = try HTLCNet(nodes: 4, policies: [1: HTLCPolicy(feeBase: 5, feePPM: 2_000), 2: HTLCPolicy(feeBase: 7, feePPM: 500)])
        try net.pay(to: 3, amount: 1_000_000, seed: 3)
        // C keeps 7 + 500 = 507; B keeps 5 + ⌊1,000,507 · 2,000 / 10^6⌋ = 5 + 2,001 = 2,006.
        #expect(net.channel(2, 2).settled == 1_000_000)
        #expect(net.channel(1, 1).settled == 1_000_507)
        #expect(net.channel(0, 0).settled == 1_002_513)
        #expect(net.events[3].count == 1)
        net.expectSettledEverywhere()
        // A second payment over the same channels uses the next nonces and adds up.
        try net.pay(to: 3, amount: 10, seed: 4)
        #expect(net.channel(2, 2).settled == 1_000_010)
        #expect(net.channel(0, 0).settled == 1_002_513 + 10 + 7 + 5)
        net.expectSettledEverywhere()
    }

    @Test func concurrentHTLCsStayLockedUntilEachResolves() throws {
        var net = try HTLCNet(nodes: 3)
        // Hold the fulfils of node 2 so that three HTLCs are pending at once.
        var held: [(Int, Int, Message)] = []
        net.drop = { from, to, m in
            if from == 2, case .htlcFulfill = m { held.append((from, to, m)); return true }
            return false
        }
        for seed in UInt8(10)...12 { try net.pay(to: 2, amount: 100, seed: seed) }
        #expect(net.channel(0, 0).locked == 300 && net.channel(1, 0).locked == 300)
        #expect(net.channel(1, 0).latestVoucher?.locks.count == 3)
        net.drop = { _, _, _ in false }
        for (from, to, m) in held { net.queue.append((from, to, m)) }
        net.run()
        #expect(net.channel(0, 0).settled == 300 && net.channel(2, 1).settled == 300)
        net.expectSettledEverywhere()
    }

    // MARK: Failures and attribution

    static func failure(_ net: HTLCNet) -> (Int?, EthereumAddress?, PaymeshErrorCode)? {
        for e in net.events[0] { if case .paymentFailed(_, let hop, let node, let code) = e { return (hop, node, code) } }
        return nil
    }

    @Test func unknownNextChannelIsAttributedToTheForwarder() throws {
        var net = try HTLCNet(nodes: 3)
        var route = net.route(to: 2)
        route[1] = RouteHop(nodeKey: net.keys[2].publicKey, channelID: try ChannelID([UInt8](repeating: 0xee, count: 32)))
        try net.pay(to: 2, amount: 500, seed: 20, route: route)
        let f = try #require(Self.failure(net))
        #expect(f.0 == 0 && f.1 == net.address(1) && f.2 == .unknownNextPeer)
        net.expectSettledEverywhere()
        #expect(net.channel(0, 0).settled == 0)
    }

    @Test func insufficientFeeIsRefusedByTheHopThatWantsMore() throws {
        var net = try HTLCNet(nodes: 4, policies: [2: HTLCPolicy(feeBase: 50)])
        var route = net.route(to: 3)
        route[1] = RouteHop(nodeKey: net.keys[2].publicKey, channelID: net.channels[1].channelID, feeBase: 49)
        try net.pay(to: 3, amount: 1_000, seed: 21, route: route)
        let f = try #require(Self.failure(net))
        #expect(f.0 == 1 && f.1 == net.address(2) && f.2 == .feeInsufficient)
        net.expectSettledEverywhere()
    }

    @Test func expiryTooSoonIsRefusedByTheHopWhoseDeltaIsShort() throws {
        var net = try HTLCNet(nodes: 4)
        var route = net.route(to: 3)
        route[1] = RouteHop(nodeKey: net.keys[2].publicKey, channelID: net.channels[1].channelID, expiryDeltaMillis: 1_000)
        try net.pay(to: 3, amount: 1_000, seed: 22, route: route)
        let f = try #require(Self.failure(net))
        #expect(f.0 == 1 && f.1 == net.address(2) && f.2 == .expiryTooSoon)
        net.expectSettledEverywhere()
    }

    @Test func finalHopChecksTheAmountAgainstItsPayload() throws {
        var net = try HTLCNet(nodes: 2)
        // A payer that locks 999 where the final payload says 1,000.
        let p = HTLCNet.preimage(23), hash = HTLCNet.hash(p)
        let expiry = net.now + 600_000
        let payload = HopPayload.final(.init(amount: Amount(1_000), expiry: expiry, totalAmount: Amount(1_000), paymentHash: hash, preimage: p))
        let onion = try OnionPacket.build(sessionKey: HTLCNet.sessionKey(23), hops: [OnionHop(nodeKey: net.keys[1].publicKey, payload: payload.encoded())],
                                          associatedData: hash.bytes)
        var payer = net.books[0].channels[net.channels[0].channelID]!
        let entry = HTLCEntry(channelID: payer.channelID, htlcID: HTLCNet.htlcID(23), paymentHash: hash, amount: 999, expiry: expiry,
                              side: .offered, state: .pending)
        let propose = try payer.propose(entry, onion: onion.packet.bytes, key: net.keys[0], now: net.now)
        let actions = net.books[1].onReceived(.htlcPropose(propose), from: net.address(0), now: net.now)
        guard case .send(.htlcCancel(let cancel), _)? = actions.last else { Issue.record("no cancel: \(actions)"); return }
        #expect(cancel.reason == .finalIncorrectAmount)
        let attributed = try FailurePacket.attribute(cancel.failure, sharedSecrets: onion.sharedSecrets)
        #expect(attributed.hopIndex == 0 && attributed.failure.code == .finalIncorrectAmount)
    }

    @Test func theNextChannelLackingBalanceIsATemporaryFailureNamingIt() throws {
        var net2 = try HTLCNet(nodes: 3, deposit: 1_000)
        // B→C already paid 200 unconditionally: 900 more does not fit its 1,000 deposit.
        net2.books[1] = HTLCBook(key: net2.keys[1])
        net2.books[1].add(terms: net2.channels[0], role: .payee, nonce: 0, settled: 0)
        net2.books[1].add(terms: net2.channels[1], role: .payer, nonce: 0, settled: 200)
        try net2.pay(to: 2, amount: 900, seed: 25)
        let f = try #require(Self.failure(net2))
        #expect(f.0 == 0 && f.2 == .temporaryChannelFailure)
        #expect(net2.channel(0, 0).locked == 0)
    }

    @Test func finalHopRefusesAnUnknownPaymentHashAndAWrongExpiry() throws {
        var net = try HTLCNet(nodes: 3)
        // No preimage in the onion and no invoice at the payee: 1405 from the final hop (index 1).
        let p = HTLCNet.preimage(26)
        net.perform(try net.books[0].send(route: net.route(to: 2), amount: 10, paymentHash: HTLCNet.hash(p), preimage: nil,
                                          htlcID: HTLCNet.htlcID(26), sessionKey: HTLCNet.sessionKey(26), now: net.now), at: 0)
        net.run()
        var f = try #require(Self.failure(net))
        #expect(f.0 == 1 && f.1 == net.address(2) && f.2 == .unknownPaymentHash)
        // With an invoice for it, the same payment succeeds.
        net.books[2].addInvoice(preimage: p)
        net.events[0] = []
        net.perform(try net.books[0].send(route: net.route(to: 2), amount: 10, paymentHash: HTLCNet.hash(p), preimage: nil,
                                          htlcID: HTLCNet.htlcID(27), sessionKey: HTLCNet.sessionKey(27), now: net.now), at: 0)
        net.run()
        #expect(net.events[0] == [.paymentSucceeded(paymentHash: HTLCNet.hash(p), preimage: p, amount: 10, fees: 0)])
        // A final hop too close to its expiry: 1404 from the final hop.
        net.events[0] = []
        net.books[2].policy.minFinalExpiryMillis = 10 * 60_000
        try net.pay(to: 2, amount: 10, seed: 28)
        f = try #require(Self.failure(net))
        #expect(f.0 == 1 && f.2 == .expiryTooSoon)
        net.expectSettledEverywhere()
    }

    @Test func aTamperedOnionIsInvalidAndNothingIsForwarded() throws {
        var net = try HTLCNet(nodes: 3)
        let p = HTLCNet.preimage(29)
        var actions = try net.books[0].send(route: net.route(to: 2), amount: 10, paymentHash: HTLCNet.hash(p), preimage: p,
                                            htlcID: HTLCNet.htlcID(29), sessionKey: HTLCNet.sessionKey(29), now: net.now)
        // Flip one onion byte in flight (the payer's signature does not cover the onion).
        for (i, a) in actions.enumerated() {
            if case .send(.htlcPropose(var m), let to) = a { m.onion[100] ^= 1; actions[i] = .send(.htlcPropose(m), to: to) }
        }
        net.perform(actions, at: 0)
        net.run()
        let f = try #require(Self.failure(net))
        #expect(f.2 == .invalidOnion)
        #expect(!net.events[1].contains { if case .forwarded = $0 { true } else { false } })
        net.expectSettledEverywhere()
    }

    @Test func anExpiryBeyondTheHopsMaximumLifetimeIsRefused() throws {
        var net = try HTLCNet(nodes: 3, policies: [1: HTLCPolicy(maxLifetimeMillis: 60 * 60_000)])
        let p = HTLCNet.preimage(31)
        net.perform(try net.books[0].send(route: net.route(to: 2), amount: 10, paymentHash: HTLCNet.hash(p), preimage: p,
                                          htlcID: HTLCNet.htlcID(31), sessionKey: HTLCNet.sessionKey(31), now: net.now,
                                          finalExpiryMillis: 2 * 60 * 60_000), at: 0)
        net.run()
        // Node 1 refuses the incoming HTLC itself (before any onion): HTLC_CANCEL 1411, no failure onion.
        let f = try #require(Self.failure(net))
        #expect(f.0 == 0 && f.2 == .expiryTooFar)
        net.expectSettledEverywhere()
    }

    // MARK: Time

    @Test func aHopThatWithholdsThePreimageUnlocksEverythingAtExpiry() throws {
        var net = try HTLCNet(nodes: 3)
        net.drop = { from, _, m in if from == 2, case .htlcFulfill = m { true } else { false } }
        try net.pay(to: 2, amount: 700, seed: 30)
        #expect(net.channel(0, 0).locked == 700 && net.channel(1, 1).locked == 700)
        let downstreamExpiry = try #require(net.books[1].channels[net.channels[1].channelID]!.pending.first?.expiry)
        net.tick(to: downstreamExpiry - 1)
        #expect(net.channel(1, 1).locked == 700, "nothing is swept before the expiry")
        net.tick(to: downstreamExpiry)
        // B cancelled its HTLC to C and failed upstream; A's HTLC is unlocked; nobody paid.
        let f = try #require(Self.failure(net))
        #expect(f.0 == 0 && f.2 == .htlcTimeout)
        #expect(net.channel(0, 0).locked == 0 && net.channel(1, 0).locked == 0 && net.channel(1, 1).locked == 0)
        #expect(net.channel(0, 0).settled == 0 && net.channel(1, 1).settled == 0)
        // C claims it fulfilled and refuses the voucher that drops its HTLC: after the expiry its
        // conditional voucher pays nothing for that lock (messages.md §5.8), so B loses nothing.
        let held = try #require(net.channel(2, 1).latestVoucher)
        #expect(held.claimable(preimages: [HTLCNet.preimage(30)], at: downstreamExpiry) == 0)
        #expect(net.events[2].contains { if case .refused(_, .invalidAmount, _) = $0 { true } else { false } })
    }

    @Test func theSweeperCancelsAnHTLCWhosePeerNeverAnswers() throws {
        var net = try HTLCNet(nodes: 2)
        net.drop = { _, to, _ in to == 1 } // node 1 is offline
        try net.pay(to: 1, amount: 400, seed: 31)
        let expiry = try #require(net.books[0].nextDeadline)
        #expect(net.channel(0, 0).locked == 400)
        net.tick(to: expiry)
        #expect(net.channel(0, 0).locked == 0 && net.channel(0, 0).settled == 0)
        let f = try #require(Self.failure(net))
        #expect(f.0 == 0 && f.2 == .htlcTimeout)
        #expect(net.books[0].nextDeadline == nil)
    }

    // MARK: A next channel waiting for its acknowledgement (§12.10)

    enum ParkedEnd { case forwarded, abandoned, swept }

    /// Node 1's outgoing channel is not in its book (its plain voucher awaits the payee's ack): the
    /// HTLC is accepted, persisted with its shared secret and parked, then forwarded once the channel
    /// is taken over, or failed upstream with 1408 naming the channel, or swept at its expiry.
    @Test(arguments: [ParkedEnd.forwarded, .abandoned, .swept])
    func aForwardOverAChannelAwaitingItsAcknowledgementIsParked(end: ParkedEnd) throws {
        var net = try HTLCNet(nodes: 3, policies: [1: HTLCPolicy(feeBase: 10, feePPM: 1_000)])
        let out = net.channels[1]
        net.books[1].releaseUnused(out.channelID)
        net.awaitingAcknowledgement[1] = [out.channelID]
        try net.pay(to: 2, amount: 100_000, seed: 40)
        let incoming = net.channel(1, 0).htlcs
        #expect(incoming.count == 1 && incoming.first?.state == .pending && incoming.first?.link == nil)
        #expect(incoming.first?.sharedSecret != nil && net.durable[1][net.channels[0].channelID]?.htlcs.first?.sharedSecret != nil)
        let ref = try #require(incoming.first?.ref)
        #expect(net.parkedAt.count == 1 && net.parkedAt.first?.node == 1 && net.parkedAt.first?.channel == out.channelID
                && net.parkedAt.first?.incoming == ref)
        #expect(net.books[1].isParked(ref) && net.events[0].isEmpty && net.queue.isEmpty)
        switch end {
        case .forwarded:
            net.books[1].add(terms: out, role: .payer, nonce: 0, settled: 0)
            net.perform(net.books[1].forwardParked(ref, now: net.now), at: 1)
            net.run()
            // fee = 10 + 100,000 · 1,000 / 10^6 = 110.
            #expect(net.events[0].last == .paymentSucceeded(paymentHash: HTLCNet.hash(HTLCNet.preimage(40)), preimage: HTLCNet.preimage(40),
                                                             amount: 100_000, fees: 110))
            #expect(net.channel(0, 0).settled == 100_110 && net.channel(1, 1).settled == 100_000)
            net.expectSettledEverywhere()
        case .abandoned:
            net.perform(net.books[1].abandonParked(ref, now: net.now), at: 1)
            net.run()
            let f = try #require(Self.failure(net))
            #expect(f.0 == 0 && f.1 == net.address(1) && f.2 == .temporaryChannelFailure)
            #expect(net.channel(0, 0).locked == 0 && net.channel(1, 0).locked == 0 && net.channel(0, 0).settled == 0)
        case .swept:
            // Node 1's sweeper alone (the payer's own sweeper would answer its cancel with a resent voucher).
            net.now = try #require(net.books[1].nextDeadline)
            net.perform(net.books[1].onTimer(now: net.now), at: 1)
            #expect(net.channel(1, 0).htlcs.first?.state == .cancelled && net.channel(1, 0).htlcs.first?.reason == .htlcTimeout)
            // Cancelled while parked: never forwarded afterwards.
            net.books[1].add(terms: out, role: .payer, nonce: 0, settled: 0)
            #expect(net.books[1].forwardParked(ref, now: net.now).isEmpty)
        }
        // Parked no more: a late answer of the driver does nothing.
        #expect(!net.books[1].isParked(ref))
        #expect(net.books[1].forwardParked(ref, now: net.now).isEmpty && net.books[1].abandonParked(ref, now: net.now).isEmpty)
    }

    /// Without the driver's report the next channel is unknown to the book: failed at once (1407).
    @Test func aForwardOverAChannelTheBookDoesNotHoldFailsWithoutTheReport() throws {
        var net = try HTLCNet(nodes: 3)
        net.books[1].releaseUnused(net.channels[1].channelID)
        try net.pay(to: 2, amount: 500, seed: 41)
        #expect(net.parkedAt.isEmpty)
        #expect(Self.failure(net)?.2 == .unknownNextPeer)
    }

    // MARK: Limits

    @Test func inFlightAndLockedValueLimits() throws {
        var net = try HTLCNet(nodes: 2, policies: [0: HTLCPolicy(maxInFlight: 2, maxLockedValue: 1_000)])
        net.drop = { from, _, m in if from == 1, case .htlcFulfill = m { true } else { false } }
        try net.pay(to: 1, amount: 100, seed: 40)
        try net.pay(to: 1, amount: 100, seed: 41)
        do { try net.pay(to: 1, amount: 100, seed: 42); Issue.record("a third HTLC in flight") } catch {
            #expect((error as? NodeError)?.paymeshCode == .temporaryChannelFailure)
        }
        var net2 = try HTLCNet(nodes: 2, policies: [0: HTLCPolicy(maxLockedValue: 1_000)])
        net2.drop = net.drop
        try net2.pay(to: 1, amount: 900, seed: 43)
        do { try net2.pay(to: 1, amount: 101, seed: 44); Issue.record("over the locked-value limit") } catch {
            #expect((error as? NodeError)?.paymeshCode == .temporaryChannelFailure)
        }
        // The payee's own limit: a payer allowing more HTLCs than the payee accepts is refused (1005).
        var net3 = try HTLCNet(nodes: 2, policies: [1: HTLCPolicy(maxInFlight: 1)])
        net3.drop = net.drop
        try net3.pay(to: 1, amount: 5, seed: 45)
        try net3.pay(to: 1, amount: 5, seed: 46)
        #expect(net3.events[1].contains { if case .refused(_, .channelLimitExceeded, _) = $0 { true } else { false } })
        #expect(net3.channel(0, 0).locked == 5, "the refused HTLC is unlocked again by the cancel")
    }
}
