import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import Testing

/// The channel book on its own: messages in, actions out. No sockets, store, actor or clock.
@Suite("Channel book (sans-IO dispatch of payment-stream messages)")
struct ChannelBookTests {
    static func key(_ byte: UInt8) -> IdentityKey {
        IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: byte, count: 32)))
    }
    static let node = key(0x22), payer = key(0x11), outsider = key(0x33)
    static var nodeAddress: EthereumAddress { node.address }
    static var payerAddress: EthereumAddress { payer.address }
    static var outsiderAddress: EthereumAddress { outsider.address }
    static let usdc = try! Asset(id: "USDC", decimals: 6)
    static let t0: UInt64 = 1_767_225_600_000

    /// A payer's channel to the node, its deposit locked on the payer's own ledger: the machine and
    /// its PAYMENT_OPEN.
    static func payerChannel(salt: UInt8, deposit: UInt128 = 1_000) throws -> (PayerChannel, PaymentOpen) {
        let ledger = MemoryLedger()
        try ledger.fund(payerAddress, asset: "USDC", amount: deposit)
        var (channel, actions) = try PayerChannel.open(key: payer, payee: nodeAddress, asset: usdc, deposit: deposit,
                                                       challengePeriodSeconds: 3_600, salt: [UInt8](repeating: salt, count: 32), now: t0)
        var open: PaymentOpen?
        while !actions.isEmpty {
            var next: [ChannelAction] = []
            for a in actions {
                switch a {
                case .settle(let r): for e in ledger.submitNow(r, side: .payer, now: t0) { next += channel.onSettlement(e, now: t0, offChain: true) }
                case .send(.paymentOpen(let o)): open = o
                default: break
                }
            }
            actions = next
        }
        return (channel, try #require(open))
    }

    static func book(maxChannelsPerPeer: Int = 8) -> ChannelBook {
        var policy = PayeeOpenPolicy()
        policy.maxChannelsPerPeer = maxChannelsPerPeer
        return ChannelBook(key: node, openPolicy: policy)
    }

    /// Channel actions of `actions` addressed to `id`, flattened.
    static func channelActions(_ actions: [BookAction], _ id: ChannelID?) -> [ChannelAction] {
        actions.flatMap { (a: BookAction) -> [ChannelAction] in
            if case .channel(let channel, _, let list) = a, channel == id { return list }
            return []
        }
    }

    /// One payer channel opened in `book`, OPEN on both sides.
    static func openOne(in book: inout ChannelBook, salt: UInt8) throws -> PayerChannel {
        let (channel, open) = try payerChannel(salt: salt)
        var payers = [channel]
        answer(book.onReceived([.paymentOpen(open)], from: payerAddress, now: t0, balances: ["USDC": 0]), to: &payers)
        return payers[0]
    }

    /// Feeds the book's answers to the payers (their opens become OPEN).
    static func answer(_ actions: [BookAction], to payers: inout [PayerChannel]) {
        for i in payers.indices {
            for ack in acks(channelActions(actions, payers[i].channelID)) { _ = payers[i].receive(.paymentAck(ack), now: t0) }
        }
    }

    static func acks(_ list: [ChannelAction]) -> [PaymentAck] {
        list.compactMap { if case .send(.paymentAck(let a)) = $0 { a } else { nil } }
    }

    @Test func oneChunkOverSeveralChannelsReachesEachChannelPersistBeforeAck() throws {
        var book = Self.book()
        var payers: [PayerChannel] = []
        var opens: [Message] = []
        for salt in UInt8(1)...3 {
            let (p, open) = try Self.payerChannel(salt: salt)
            payers.append(p)
            opens.append(.paymentOpen(open))
        }
        let opened = book.onReceived(opens, from: Self.payerAddress, now: Self.t0, balances: ["USDC": 0])
        #expect(opened.contains(.protectPeer(Self.payerAddress)))
        for p in payers { #expect(Self.acks(Self.channelActions(opened, p.channelID)).first?.status == .accepted) }
        #expect(book.payees.count == 3)
        Self.answer(opened, to: &payers)

        // One chunk: two vouchers for each of the three channels, interleaved.
        var guardrail = SpendingGuard()
        var chunk: [Message] = []
        for round in 0..<2 {
            for i in payers.indices {
                for case .send(let m) in try payers[i].pay(amount: UInt128(10 * (round + 1)), now: Self.t0, policy: &guardrail) { chunk.append(m) }
            }
        }
        let actions = book.onReceived(chunk, from: Self.payerAddress, now: Self.t0, balances: [:])
        for p in payers {
            let list = Self.channelActions(actions, p.channelID)
            let persist = list.firstIndex { if case .persist = $0 { true } else { false } }
            let ack = list.firstIndex { if case .send(.paymentAck) = $0 { true } else { false } }
            #expect(persist != nil && ack != nil && persist! < ack!)
            #expect(Self.acks(list).map(\.nonce) == [1, 2] && Self.acks(list).allSatisfy { $0.status == .accepted })
            #expect(book.payees[p.channelID]?.receivedAmount == 30)
        }
        #expect(!actions.contains { if case .misbehaved = $0 { true } else { false } })
    }

    @Test func openBeyondThePerPeerLimitIsRefusedQuietly() throws {
        var book = Self.book(maxChannelsPerPeer: 2)
        var opens: [Message] = []
        var ids: [ChannelID] = []
        for salt in UInt8(1)...3 {
            let (p, open) = try Self.payerChannel(salt: salt)
            ids.append(p.channelID)
            opens.append(.paymentOpen(open))
        }
        let actions = book.onReceived(opens, from: Self.payerAddress, now: Self.t0, balances: ["USDC": 0])
        #expect(book.payees.count == 2 && book.payees[ids[2]] == nil)
        let refused = Self.channelActions(actions, ids[2])
        #expect(Self.acks(refused).map(\.status) == [.rejected])
        #expect(Self.acks(refused).first?.errorCode == .channelLimitExceeded)
        // A flood is answered, not published open by open, and is no misbehaviour.
        #expect(!refused.contains { if case .notify = $0 { true } else { false } })
        #expect(!actions.contains { if case .misbehaved = $0 { true } else { false } })
        #expect(actions.contains { if case .log(.debug, "channel refused", _) = $0 { true } else { false } })
    }

    @Test func aMessageOnAnotherPeersChannelIsRejectedAndReported() throws {
        var book = Self.book()
        var payer = try Self.openOne(in: &book, salt: 9)
        var guardrail = SpendingGuard()
        let voucher = try payer.pay(amount: 5, now: Self.t0, policy: &guardrail).compactMap { if case .send(let m) = $0 { m } else { nil } }
        // The payer's genuine voucher, relayed by someone else: not theirs to send.
        let actions = book.onReceived(voucher, from: Self.outsiderAddress, now: Self.t0, balances: [:])
        let rejected = Self.acks(Self.channelActions(actions, nil))
        #expect(rejected.map(\.status) == [.rejected] && rejected.first?.errorCode == .identityNotVerified)
        #expect(rejected.first?.channelID == payer.channelID)
        #expect(actions.contains { if case .misbehaved(Self.outsiderAddress, 1, _) = $0 { true } else { false } })
        #expect(book.payees[payer.channelID]?.receivedAmount == 0)

        // An unknown channel is answered 1000, not reported.
        let (stranger, _) = try Self.payerChannel(salt: 10)
        let unknown = try PaymentUpdate(channelID: stranger.channelID, nonce: 1, amount: Amount(1), timestamp: Self.t0, taskID: nil,
                                        signature: .unsigned).signed(with: Self.payer, domain: stranger.terms.domain)
        let answer = book.onReceived([.paymentUpdate(unknown)], from: Self.payerAddress, now: Self.t0, balances: [:])
        #expect(Self.acks(Self.channelActions(answer, nil)).first?.errorCode == .channelNotFound)
        #expect(!answer.contains { if case .misbehaved = $0 { true } else { false } })
    }

    @Test func peerUpReestablishesItsChannelsOnly() throws {
        var book = Self.book()
        var payer = try Self.openOne(in: &book, salt: 4)
        var guardrail = SpendingGuard()
        let sent = try payer.pay(amount: 7, now: Self.t0, policy: &guardrail).compactMap { if case .send(let m) = $0 { m } else { nil } }
        _ = book.onReceived(sent, from: Self.payerAddress, now: Self.t0, balances: [:])

        let actions = book.onPeerUp(Self.payerAddress, now: Self.t0 + 1)
        let resent = Self.channelActions(actions, payer.channelID).compactMap { if case .send(.paymentUpdate(let v)) = $0 { v } else { nil } }
        #expect(resent.map(\.nonce) == [1] && resent.first?.amount.atomicUnits == 7)
        #expect(actions.contains { if case .log(.info, "re-establishing channels", _) = $0 { true } else { false } })
        #expect(book.onPeerUp(Self.outsiderAddress, now: Self.t0 + 1).isEmpty)
    }
}
