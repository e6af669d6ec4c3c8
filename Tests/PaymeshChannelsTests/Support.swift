import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import Testing

enum K {
    static let payer = IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: 0x11, count: 32)))
    static let payee = IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: 0x22, count: 32)))
    static let outsider = IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: 0x33, count: 32)))
    static var payerAddress: EthereumAddress { payer.address }
    static var payeeAddress: EthereumAddress { payee.address }
    static let usdc = try! Asset(id: "USDC", decimals: 6)
    static let t0: UInt64 = 1_767_225_600_000
    static let salt = [UInt8](repeating: 0xab, count: 32)
}

extension Array where Element == ChannelAction {
    var sent: [Message] { compactMap { if case .send(let m) = $0 { m } else { nil } } }
    var persisted: [ChannelSnapshot] { compactMap { if case .persist(let s) = $0 { s } else { nil } } }
    var notes: [ChannelNotification] { compactMap { if case .notify(let n) = $0 { n } else { nil } } }
    var settlements: [SettlementRequest] { compactMap { if case .settle(let r) = $0 { r } else { nil } } }
    var acks: [PaymentAck] { sent.compactMap { if case .paymentAck(let a) = $0 { a } else { nil } } }
    var updates: [PaymentUpdate] { sent.compactMap { if case .paymentUpdate(let u) = $0 { u } else { nil } } }
    var closes: [PaymentClose] { sent.compactMap { if case .paymentClose(let c) = $0 { c } else { nil } } }

    /// True when every `.send` comes after the list's first `.persist` (if the list persists at all).
    var persistsBeforeSending: Bool {
        guard let p = firstIndex(where: { if case .persist = $0 { true } else { false } }) else { return true }
        guard let s = firstIndex(where: { if case .send = $0 { true } else { false } }) else { return true }
        return p < s
    }
}

/// A payer and a payee wired in memory over one shared local ledger: each side's `.send` is queued
/// for the other, `.persist` goes to its "disk", `.settle` to the ledger, whose events are fed back.
struct Pair {
    var payer: PayerChannel
    var payee: PayeeChannel?
    /// The payer's books; the payee keeps its own (`payeeBooks`), as nodes do. One rule code: `LedgerRules`.
    var ledger = MemoryLedger()
    var payeeBooks = MemoryLedger()
    var policy = SpendingGuard()
    var payeePolicy = PayeeOpenPolicy()
    var now = K.t0
    var toPayee: [Message] = []
    var toPayer: [Message] = []
    var payerDisk: ChannelSnapshot?
    var payeeDisk: ChannelSnapshot?
    var payerNotes: [ChannelNotification] = []
    var payeeNotes: [ChannelNotification] = []
    var receipts: [Receipt] = []
    var timers: [UInt64] = []

    /// Funds the payer with `funds`, proposes a channel with `deposit` and runs the open handshake.
    init(funds: UInt128 = 1_000_000, deposit: UInt128 = 100_000, challenge: UInt64 = 3_600, salt: [UInt8] = K.salt) throws {
        try ledger.fund(K.payerAddress, asset: "USDC", amount: funds)
        let (channel, actions) = try PayerChannel.open(key: K.payer, payee: K.payeeAddress, asset: K.usdc, deposit: deposit,
                                                       challengePeriodSeconds: challenge, salt: salt, now: K.t0)
        payer = channel
        runPayer(actions)
        pump()
    }

    mutating func runPayer(_ actions: [ChannelAction]) {
        #expect(actions.persistsBeforeSending)
        for action in actions {
            switch action {
            case .persist(let s): payerDisk = s
            case .send(let m): toPayee.append(m)
            case .settle(let r):
                for e in ledger.submitNow(r, side: .payer, now: now) { runPayer(payer.onSettlement(e, now: now, offChain: true)) }
            case .scheduleTimer(let d): timers.append(d)
            case .notify(let n): payerNotes.append(n)
            case .recordReceipt: Issue.record("payer never records receipts")
            }
        }
    }

    mutating func runPayee(_ actions: [ChannelAction]) {
        #expect(actions.persistsBeforeSending)
        for action in actions {
            switch action {
            case .persist(let s): payeeDisk = s
            case .send(let m): toPayer.append(m)
            case .settle(let r):
                for e in payeeBooks.submitNow(r, side: .payee, now: now) {
                    if var p = payee { let a = p.onSettlement(e, now: now, offChain: true); payee = p; runPayee(a) }
                }
            case .scheduleTimer(let d): timers.append(d)
            case .notify(let n): payeeNotes.append(n)
            case .recordReceipt(let r): receipts.append(r)
            }
        }
    }

    /// Delivers queued messages both ways until both queues are empty.
    mutating func pump() {
        while !toPayee.isEmpty || !toPayer.isEmpty {
            if !toPayee.isEmpty { deliverToPayee(toPayee.removeFirst()) }
            if !toPayer.isEmpty { runPayer(payer.receive(toPayer.removeFirst(), now: now)) }
        }
    }

    mutating func deliverToPayee(_ m: Message) {
        if payee == nil, case .paymentOpen(let open) = m {
            switch PayeeChannel.accept(open, key: K.payee, policy: payeePolicy, authenticatedPeer: K.payerAddress,
                                       backing: ledger.lockedDeposit(of: open.channelID), now: now) {
            case .accepted(let channel, let actions): payee = channel; runPayee(actions)
            case .rejected(_, let actions): runPayee(actions)
            }
            return
        }
        guard var p = payee else { Issue.record("message before the payee exists"); return }
        let actions = p.receive(m, now: now)
        payee = p
        runPayee(actions)
    }

    mutating func pay(_ amount: UInt128, task: String? = nil) throws {
        runPayer(try payer.pay(amount: amount, taskID: task, now: now, policy: &policy))
        pump()
    }

    mutating func payeeDo(_ body: (inout PayeeChannel, UInt64) throws -> [ChannelAction]) rethrows {
        var p = payee!
        let actions = try body(&p, now)
        payee = p
        runPayee(actions)
    }

    mutating func tick(_ at: UInt64) {
        now = at
        runPayer(payer.onTimerTick(now: at))
        payeeDo { p, now in p.onTimerTick(now: now) }
        pump()
    }
}

/// A voucher for `channel` signed by `key` (for forged and out-of-order inputs).
func voucher(_ terms: ChannelTerms, nonce: UInt64, amount: UInt128, key: IdentityKey = K.payer, task: String? = nil,
             at: UInt64 = K.t0) throws -> PaymentUpdate {
    try PaymentUpdate(channelID: terms.channelID, nonce: nonce, amount: Amount(amount), timestamp: at, taskID: task,
                      signature: .unsigned).signed(with: key, domain: terms.domain)
}
