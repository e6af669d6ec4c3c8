// A payer and a payee channel machine driven through close, dispute and settlement sequences
// with a hostile network: drops, duplicates, reorderings, replays, forged messages, crashes that
// restart a side from its last persisted snapshot, timer ticks and settlement backend outages.
// Shared by FuzzCloseSequence (libFuzzer) and PaymeshChannelsTests (seeded property test, crash
// points, regressions): symlinked into Tests/PaymeshChannelsTests/FuzzHarness/.
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages

/// Two channel machines, each with its own "disk" (the last `.persist`) and its own books (a
/// `MemoryLedger` deciding with `LedgerRules`, as each node keeps its own), wired by two message queues.
public struct CloseSim {
    public enum Side: Sendable, Hashable { case payer, payee }

    public static let payerKey = IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: 0x11, count: 32)))
    public static let payeeKey = IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: 0x22, count: 32)))
    public static let outsiderKey = IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: 0x33, count: 32)))
    public static let asset = try! Asset(id: "USDC", decimals: 6)
    public static let t0: UInt64 = 1_767_225_600_000
    /// Challenge period of the simulated channel (the payee's policy minimum).
    public static let challengeSeconds: UInt64 = 60
    /// Bounds the replay history (a replay picks one of the last messages).
    static let historyLimit = 64

    public var payer: PayerChannel
    public var payee: PayeeChannel
    public var payerDisk: ChannelSnapshot
    public var payeeDisk: ChannelSnapshot
    public var payerBooks = MemoryLedger()
    public var payeeBooks = MemoryLedger()
    public var toPayee: [Message] = []
    public var toPayer: [Message] = []
    /// Backend results not yet fed back to the machine (dropped by a crash of that side).
    public var payerResults: [SettlementEvent] = []
    public var payeeResults: [SettlementEvent] = []
    public var payerBackendDown = false
    public var payeeBackendDown = false
    public var now = t0
    public let deposit: UInt128
    public let funds: UInt128
    var policy = SpendingGuard()
    /// The highest cumulative amount carried by anything the payer's key signed.
    public private(set) var payerSignedMax: UInt128 = 0
    /// Messages sent so far, with their destination (for replays).
    var history: [(Side, Message)] = []
    /// Snapshot of each machine when it first reached SETTLED.
    var settledAt: [Side: ChannelSnapshot] = [:]
    /// Crash-point tests: crash the acting side after this many performed actions.
    public var crashAfterActions: Int?
    public private(set) var actionCount = 0
    public private(set) var crashed: Side?
    /// A close was started by either machine (payee forgeries aside).
    public private(set) var closeStarted = false
    /// The payee's key forged a close (the payee is then hostile; convergence is not expected).
    public private(set) var payeeForged = false

    public var channelID: ChannelID { payer.channelID }

    /// Opens a channel with `deposit` (payer funded with `funds`) through the real open handshake.
    public init(deposit: UInt128 = 1_000, funds: UInt128 = 10_000) throws(FuzzViolation) {
        self.deposit = deposit
        self.funds = funds
        do {
            try payerBooks.fund(Self.payerKey.address, asset: Self.asset.id, amount: funds)
            let (channel, actions) = try PayerChannel.open(key: Self.payerKey, payee: Self.payeeKey.address, asset: Self.asset,
                                                           deposit: deposit, challengePeriodSeconds: Self.challengeSeconds,
                                                           salt: [UInt8](repeating: 0xab, count: 32), now: Self.t0)
            payer = channel
            payerDisk = channel.snapshot
            // A placeholder payee until the open arrives (replaced below).
            payee = try PayeeChannel(restoring: ChannelSnapshot(role: .payee, terms: channel.terms, state: .proposed, latestVoucher: nil,
                                                                ackedNonce: 0, lockedAmount: 0, close: nil, receiptSeq: 0,
                                                                receiptHead: [UInt8](repeating: 0, count: 32), depositLocked: false,
                                                                updatedAt: Self.t0), key: Self.payeeKey)
            payeeDisk = payee.snapshot
            try run(.payer, actions)
            try deliverResults(.payer)
            guard case .paymentOpen(let open)? = toPayee.first else { throw FuzzViolation("no PAYMENT_OPEN after the lock") }
            toPayee.removeFirst()
            // The payee writes nothing to its books for an accepted open (Specs/channels.md §6.3).
            guard case .accepted(let p, let a) = PayeeChannel.accept(open, key: Self.payeeKey, policy: PayeeOpenPolicy(),
                                                                      authenticatedPeer: open.sender, backing: deposit, now: now) else {
                throw FuzzViolation("the payee refused a valid open")
            }
            payee = p
            try run(.payee, a)
            try pump()
            guard payer.state == .open, payee.state == .open else { throw FuzzViolation("open handshake did not complete") }
        } catch let v as FuzzViolation {
            throw v
        } catch {
            throw FuzzViolation("setup: \(error)")
        }
    }

    // MARK: Performing actions

    /// Performs one machine's actions in order, like a node: persist, send, settle.
    public mutating func run(_ side: Side, _ actions: [ChannelAction]) throws(FuzzViolation) {
        for action in actions {
            if crashed == side { return }
            switch action {
            case .persist(let s):
                if side == .payer { payerDisk = s } else { payeeDisk = s }
                if side == .payer { payerSignedMax = max(payerSignedMax, s.paidAmount) }
            case .send(let m):
                if side == .payer { notePayerSigned(m) }
                if side == .payer { toPayee.append(m) } else { toPayer.append(m) }
                history.append((side == .payer ? .payee : .payer, m))
                if history.count > Self.historyLimit { history.removeFirst() }
            case .settle(let r):
                let down = side == .payer ? payerBackendDown : payeeBackendDown
                let events: [SettlementEvent]
                if down {
                    events = [.failed(nil, r.channelID, r.kind, reason: "backend unavailable")]
                } else if side == .payer {
                    events = payerBooks.submitNow(r, side: .payer, now: now)
                } else {
                    events = payeeBooks.submitNow(r, side: .payee, now: now)
                }
                if side == .payer { payerResults += events } else { payeeResults += events }
            case .scheduleTimer, .notify, .recordReceipt:
                break
            }
            actionCount += 1
            if let limit = crashAfterActions, actionCount >= limit, crashed == nil {
                crash(side)
                return
            }
        }
        try check()
    }

    private mutating func notePayerSigned(_ m: Message) {
        switch m {
        case .paymentUpdate(let v): payerSignedMax = max(payerSignedMax, v.amount.atomicUnits)
        case .paymentClose(let c): payerSignedMax = max(payerSignedMax, c.finalAmount.atomicUnits)
        default: break
        }
    }

    /// Stops `side` at once: its memory is rebuilt from its disk, its pending backend results and
    /// both message queues (the connection) are lost. The books (durable) stay.
    public mutating func crash(_ side: Side) {
        crashed = side
        toPayee.removeAll()
        toPayer.removeAll()
        switch side {
        case .payer:
            payerResults.removeAll()
            payer = try! PayerChannel(restoring: payerDisk, key: Self.payerKey)
        case .payee:
            payeeResults.removeAll()
            payee = try! PayeeChannel(restoring: payeeDisk, key: Self.payeeKey)
        }
    }

    /// After a crash: the restarted side resumes from its snapshot.
    public mutating func restart(_ side: Side) throws(FuzzViolation) {
        crashed = nil
        crashAfterActions = nil
        switch side {
        case .payer: try run(.payer, payer.resume(now: now))
        case .payee: try run(.payee, payee.resume(now: now))
        }
    }

    /// Both sides re-establish (a new connection).
    public mutating func reconnect() throws(FuzzViolation) {
        try run(.payer, payer.reestablish(now: now))
        try run(.payee, payee.reestablish(now: now))
    }

    // MARK: Delivering

    public mutating func deliverToPayee() throws(FuzzViolation) {
        guard !toPayee.isEmpty else { return }
        let m = toPayee.removeFirst()
        try run(.payee, payee.receive(m, now: now))
    }

    public mutating func deliverToPayer() throws(FuzzViolation) {
        guard !toPayer.isEmpty else { return }
        let m = toPayer.removeFirst()
        try run(.payer, payer.receive(m, now: now))
    }

    public mutating func deliverResults(_ side: Side) throws(FuzzViolation) {
        switch side {
        case .payer:
            let events = payerResults
            payerResults.removeAll()
            for e in events where crashed != .payer { try run(.payer, payer.onSettlement(e, now: now, offChain: true)) }
        case .payee:
            let events = payeeResults
            payeeResults.removeAll()
            for e in events where crashed != .payee { try run(.payee, payee.onSettlement(e, now: now, offChain: true)) }
        }
    }

    /// Delivers messages and backend results until nothing is left (bounded).
    public mutating func pump() throws(FuzzViolation) {
        var rounds = 0
        while !toPayee.isEmpty || !toPayer.isEmpty || !payerResults.isEmpty || !payeeResults.isEmpty {
            rounds += 1
            guard rounds < 10_000 else { throw FuzzViolation("messages never stop (ping-pong)") }
            try deliverResults(.payer)
            try deliverResults(.payee)
            try deliverToPayee()
            try deliverToPayer()
        }
    }

    public mutating func tick(advance: UInt64) throws(FuzzViolation) {
        now += advance
        try run(.payer, payer.onTimerTick(now: now))
        try run(.payee, payee.onTimerTick(now: now))
    }

    // MARK: Local calls

    public mutating func pay(_ amount: UInt128) throws(FuzzViolation) {
        guard let actions = try? payer.pay(amount: amount, now: now, policy: &policy) else { return }
        try run(.payer, actions)
    }

    public mutating func close(_ side: Side, cooperative: Bool) throws(FuzzViolation) {
        switch side {
        case .payer:
            guard let a = try? (cooperative ? payer.closeCooperatively(now: now) : payer.closeUnilaterally(now: now)) else { return }
            closeStarted = true
            try run(.payer, a)
        case .payee:
            guard let a = try? (cooperative ? payee.closeCooperatively(now: now) : payee.closeUnilaterally(now: now)) else { return }
            closeStarted = true
            try run(.payee, a)
        }
    }

    // MARK: Hostile inputs

    /// A close signed by `key` delivered to `to` (bypassing the queues, like an injected frame).
    public mutating func forgeClose(by key: IdentityKey, to: Side, nonce: UInt64, amount: UInt128,
                                    cooperative: Bool) throws(FuzzViolation) {
        let terms = payer.terms
        guard let c = try? PaymentClose(channelID: terms.channelID, finalNonce: nonce, finalAmount: Amount(min(amount, deposit)),
                                        cooperative: cooperative, timestamp: now, signature: .unsigned)
            .signed(with: key, domain: terms.domain) else { return }
        if key.address == Self.payeeKey.address { payeeForged = true }
        if key.address == Self.payerKey.address { payerSignedMax = max(payerSignedMax, c.finalAmount.atomicUnits) }
        switch to {
        case .payer: try run(.payer, payer.receive(.paymentClose(c), now: now))
        case .payee: try run(.payee, payee.receive(.paymentClose(c), now: now))
        }
    }

    /// A voucher signed by a key that is not the payer's.
    public mutating func forgeVoucher(to: Side, nonce: UInt64, amount: UInt128) throws(FuzzViolation) {
        let terms = payer.terms
        guard let v = try? PaymentUpdate(channelID: terms.channelID, nonce: max(1, nonce), amount: Amount(max(1, min(amount, deposit))),
                                         timestamp: now, taskID: nil, signature: .unsigned)
            .signed(with: Self.outsiderKey, domain: terms.domain) else { return }
        switch to {
        case .payer: try run(.payer, payer.receive(.paymentUpdate(v), now: now))
        case .payee: try run(.payee, payee.receive(.paymentUpdate(v), now: now))
        }
    }

    /// Delivers an earlier message again to its original destination.
    public mutating func replay(_ index: Int) throws(FuzzViolation) {
        guard !history.isEmpty else { return }
        let (to, m) = history[index % history.count]
        switch to {
        case .payer: try run(.payer, payer.receive(m, now: now))
        case .payee: try run(.payee, payee.receive(m, now: now))
        }
    }

    public mutating func dropFront(_ side: Side) {
        if side == .payer, !toPayer.isEmpty { toPayer.removeFirst() }
        if side == .payee, !toPayee.isEmpty { toPayee.removeFirst() }
    }

    public mutating func duplicateFront(_ side: Side) {
        if side == .payer, let m = toPayer.first { toPayer.insert(m, at: 0) }
        if side == .payee, let m = toPayee.first { toPayee.insert(m, at: 0) }
    }

    public mutating func swapFront(_ side: Side) {
        if side == .payer, toPayer.count >= 2 { toPayer.swapAt(0, 1) }
        if side == .payee, toPayee.count >= 2 { toPayee.swapAt(0, 1) }
    }

    // MARK: Invariants

    /// What one side's books moved for the channel: (paid to the payee, refunded, operations).
    /// The payee's books hold only its payout credit; its refund is the rest of the deposit term.
    /// Operations: the most lines of one reason (a payout applied twice writes its lines twice).
    public func payout(in side: Side) -> (paid: UInt128, refund: UInt128, operations: Int)? {
        let books = side == .payer ? payerBooks : payeeBooks
        let payee = Self.payeeKey.address, payerAddress = Self.payerKey.address
        var paid: UInt128 = 0, refund: UInt128 = 0
        var payoutLines = 0, refundLines = 0
        for e in books.journal where e.channel == channelID && (e.posting.reason == .payout || e.posting.reason == .refund) {
            guard e.posting.direction == .credit else { continue }
            if e.posting.reason == .payout, e.posting.owner == payee { paid += e.posting.amount; payoutLines += 1 }
            if e.posting.reason == .refund, e.posting.owner == payerAddress { refund += e.posting.amount; refundLines += 1 }
        }
        guard payoutLines + refundLines > 0 else { return nil }
        if side == .payee { refund = deposit >= paid ? deposit - paid : 0 }
        return (paid, refund, max(payoutLines, refundLines))
    }

    /// Checked after every step: nobody is paid more than the payer signed, payee + refund =
    /// deposit, one payout per channel per book, a SETTLED machine never changes again.
    public mutating func check() throws(FuzzViolation) {
        for side in [Side.payer, .payee] {
            let books = side == .payer ? payerBooks : payeeBooks
            if let p = payout(in: side) {
                try fuzzRequire(p.operations == 1, "\(side) books: \(p.operations) payouts of one channel")
                try fuzzRequire(p.paid <= payerSignedMax, "\(side) books paid \(p.paid), the payer signed at most \(payerSignedMax)")
                try fuzzRequire(p.paid + p.refund == deposit, "\(side) books: paid \(p.paid) + refund \(p.refund) ≠ deposit \(deposit)")
                try fuzzRequire(books.escrow(of: channelID) == 0, "\(side) books: escrow left after the payout")
            }
            var snapshot = side == .payer ? payer.snapshot : payee.snapshot
            // Only persisted copies carry the write time; a restored machine has the disk's.
            snapshot.updatedAt = 0
            if snapshot.state == .settled {
                if let first = settledAt[side] {
                    try fuzzRequire(first == snapshot, "\(side): a SETTLED channel changed: \(Self.diff(first, snapshot))")
                } else {
                    settledAt[side] = snapshot
                }
                guard let p = payout(in: side) else { throw FuzzViolation("\(side) SETTLED without a payout in its books") }
                try fuzzRequire(p.paid == snapshot.close?.finalAmount, "\(side) SETTLED at \(snapshot.close?.finalAmount ?? 0), books paid \(p.paid)")
            }
            if side == .payer, let c = snapshot.close {
                try fuzzRequire(c.finalAmount <= payerSignedMax, "payer's close final amount \(c.finalAmount) above what it signed")
            }
        }
        if payer.state != .open && payer.state != .active && payer.state != .proposed { closeStarted = true }
        if payee.state != .open && payee.state != .active && payee.state != .proposed && !payeeForged { closeStarted = true }
    }

    static func diff(_ a: ChannelSnapshot, _ b: ChannelSnapshot) -> String {
        var out: [String] = []
        if a.state != b.state { out.append("state \(a.state) → \(b.state)") }
        if a.latestVoucher != b.latestVoucher { out.append("latest voucher \(a.paidAmount) → \(b.paidAmount)") }
        if a.ackedNonce != b.ackedNonce { out.append("acked \(a.ackedNonce) → \(b.ackedNonce)") }
        if a.close != b.close { out.append("close \(String(describing: a.close)) → \(String(describing: b.close))") }
        if a.updatedAt != b.updatedAt { out.append("updatedAt \(a.updatedAt) → \(b.updatedAt)") }
        return out.joined(separator: "; ")
    }

    /// Ends a sequence: the network heals (no more drops, backends up, a reconnect), time passes;
    /// a close started by honest sides must end SETTLED on both.
    public mutating func heal() throws(FuzzViolation) {
        if let side = crashed { try restart(side) }
        payerBackendDown = false
        payeeBackendDown = false
        try reconnect()
        for _ in 0..<6 {
            try pump()
            try tick(advance: Self.challengeSeconds * 1_000 + 20_000)
            try pump()
        }
        if closeStarted, !payeeForged {
            try fuzzRequire(payer.state == .settled && payee.state == .settled,
                            "close never finished: payer \(payer.state), payee \(payee.state)")
        }
    }
}

/// Interprets fuzzer bytes as a close sequence (two bytes per step: operation, argument).
public enum CloseSequenceHarness {
    public struct Outcome: Sendable {
        public var steps = 0
        public var payerState: ChannelState = .open
        public var payeeState: ChannelState = .open
        public var payerPaid: UInt128?
        public var payeePaid: UInt128?
    }

    /// At most this many steps per input (keeps one input fast).
    static let maxSteps = 96

    public static func run(_ bytes: [UInt8]) throws(FuzzViolation) -> Outcome {
        var sim = try CloseSim()
        var outcome = Outcome()
        var i = 0
        while i + 1 < bytes.count, outcome.steps < maxSteps {
            let op = bytes[i] & 0x0f, arg = bytes[i + 1]
            i += 2
            outcome.steps += 1
            try step(&sim, op: op, arg: arg)
        }
        try sim.heal()
        outcome.payerState = sim.payer.state
        outcome.payeeState = sim.payee.state
        outcome.payerPaid = sim.payout(in: .payer)?.paid
        outcome.payeePaid = sim.payout(in: .payee)?.paid
        return outcome
    }

    public static func step(_ sim: inout CloseSim, op: UInt8, arg: UInt8) throws(FuzzViolation) {
        let side: CloseSim.Side = arg & 1 == 0 ? .payer : .payee
        if let down = sim.crashed, op != 7 { try sim.restart(down) } // a crashed side comes back first
        switch op {
        case 0: try sim.pay(UInt128(arg % 40) + 1)
        case 1: try sim.deliverToPayee()
        case 2: try sim.deliverToPayer()
        case 3: sim.dropFront(side)
        case 4: sim.duplicateFront(side)
        case 5: sim.swapFront(side)
        case 6: try sim.tick(advance: UInt64(arg) * 1_000)
        case 7:
            if sim.crashed == nil { sim.crash(side) }
            try sim.restart(side)
        case 8: try sim.reconnect()
        case 9: try sim.close(arg & 2 == 0 ? .payer : .payee, cooperative: arg & 1 == 0)
        case 10: try sim.deliverResults(side)
        case 11:
            if side == .payer { sim.payerBackendDown.toggle() } else { sim.payeeBackendDown.toggle() }
        case 12:
            // A third party (not the channel's parties) forges a close or a voucher.
            if arg & 2 == 0 {
                try sim.forgeClose(by: CloseSim.outsiderKey, to: side, nonce: UInt64(arg), amount: sim.deposit, cooperative: arg & 4 != 0)
            } else {
                try sim.forgeVoucher(to: side, nonce: UInt64(arg) + 1, amount: UInt128(arg) * 4)
            }
        case 13:
            // The payee forges a close the payer never signed (issue 7 item 1).
            try sim.forgeClose(by: CloseSim.payeeKey, to: .payer, nonce: UInt64(arg) * 7, amount: UInt128(arg) * sim.deposit / 255,
                               cooperative: arg & 1 == 0)
        case 14: try sim.replay(Int(arg))
        default: try sim.pump()
        }
    }
}
