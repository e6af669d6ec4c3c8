public import PaymeshMessages

/// The embedded settlement backend: an in-memory, OFF-CHAIN ledger of wallets and channel escrows.
/// Every change is a `LedgerEntry` in `journal`; the node persists new entries and rebuilds the
/// ledger with `init(replaying:)`. It decides at once, so `submit` returns `.submitted` followed by
/// `.confirmed` or `.failed`. A payout is applied once per channel: repeating the same payout
/// is confirmed again without new entries; a different one fails (Specs/channels.md §6.3).
public struct LocalLedger: SettlementBackend, Sendable, Hashable {
    public static let id = "local-ledger"
    public var backendID: String { Self.id }
    public var isOffChain: Bool { true }

    public private(set) var journal: [LedgerEntry] = []
    private var balances: [LedgerAccount: UInt128] = [:]
    private var locks: [ChannelID: DepositLock] = [:]
    /// Channels paid out, with what was paid (enough to answer a repeated payout idempotently).
    private var settled: [ChannelID: SettledPayout] = [:]
    private var operationCount: UInt64 = 0

    public init() {}

    /// Rebuilds a ledger from its journal. Throws when the entries are not a valid history.
    public init(replaying entries: [LedgerEntry]) throws(LedgerError) {
        var lockPayers: [ChannelID: Address] = [:]
        for entry in entries {
            guard entry.seq == UInt64(journal.count) + 1 else { throw LedgerError("entry \(entry.seq) out of sequence") }
            try apply(entry)
            journal.append(entry)
            if let id = entry.settlementID, id.hasPrefix("local-"), let n = UInt64(id.dropFirst("local-".count)) {
                operationCount = max(operationCount, n)
            }
            guard let channel = entry.channel else { continue }
            switch (entry.reason, entry.account, entry.delta) {
            case (.lockDeposit, .wallet(let payer, _), _): lockPayers[channel] = payer
            case (.lockDeposit, .escrow(_, let asset), .credit(let amount)):
                guard let payer = lockPayers[channel] else { throw LedgerError("lock of \(channel) has no payer entry") }
                locks[channel] = DepositLock(channelID: channel, payer: payer, asset: asset, amount: amount)
            case (.releaseDeposit, _, _): locks[channel] = nil
            case (.payout, .wallet(let payee, _), .credit(let amount)):
                locks[channel] = nil
                settled[channel, default: SettledPayout(id: entry.settlementID ?? "")].payee = payee
                settled[channel]?.payeeAmount = amount
            case (.payout, _, _), (.refund, .escrow, _):
                locks[channel] = nil
                _ = settled[channel, default: SettledPayout(id: entry.settlementID ?? "")]
            case (.refund, .wallet, .credit(let amount)):
                settled[channel, default: SettledPayout(id: entry.settlementID ?? "")].refund = amount
            default: break
            }
        }
    }

    // MARK: Queries

    public func balance(of owner: Address, asset: String) -> UInt128 { balances[.wallet(owner: owner, asset: asset)] ?? 0 }
    public func escrow(of channel: ChannelID, asset: String) -> UInt128 { balances[.escrow(channel: channel, asset: asset)] ?? 0 }
    public func lockedDeposit(of channel: ChannelID) -> UInt128? { locks[channel]?.amount }
    public func isSettled(_ channel: ChannelID) -> Bool { settled[channel] != nil }

    // MARK: Operations

    /// Credits off-chain funds to a wallet (tests, meshes, a local faucet). Returns the entry.
    @discardableResult
    public mutating func fund(_ owner: Address, asset: String, amount: UInt128) throws(LedgerError) -> LedgerEntry {
        try commit([(.wallet(owner: owner, asset: asset), .credit(amount))], reason: .faucet, channel: nil, id: nil)[0]
    }

    public mutating func submit(_ request: SettlementRequest, now: UInt64) -> [SettlementEvent] {
        operationCount += 1
        let id = "local-\(operationCount)"
        let channel = request.channelID, kind = request.kind
        do {
            switch request {
            case .lockDeposit(let lock): try lockDeposit(lock, id: id)
            case .releaseDeposit(let lock): try releaseDeposit(lock, id: id)
            case .payout(let payout):
                if let done = settled[channel] {
                    operationCount -= 1
                    guard done.matches(payout) else {
                        return [.failed(nil, channel, kind, reason: "channel already settled with another final state")]
                    }
                    return [.submitted(done.id, channel, kind), .confirmed(done.id, channel, kind)]
                }
                try pay(payout, id: id)
            }
        } catch {
            return [.failed(id, channel, kind, reason: error.reason)]
        }
        return [.submitted(id, channel, kind), .confirmed(id, channel, kind)]
    }

    public mutating func poll(now: UInt64) -> [SettlementEvent] { [] }

    private mutating func lockDeposit(_ lock: DepositLock, id: SettlementID) throws(LedgerError) {
        guard lock.amount > 0 else { throw LedgerError("deposit must be positive") }
        guard locks[lock.channelID] == nil, settled[lock.channelID] == nil else { throw LedgerError("channel already has a deposit") }
        try commit([(.wallet(owner: lock.payer, asset: lock.asset), .debit(lock.amount)),
                    (.escrow(channel: lock.channelID, asset: lock.asset), .credit(lock.amount))],
                   reason: .lockDeposit, channel: lock.channelID, id: id)
        locks[lock.channelID] = lock
    }

    private mutating func releaseDeposit(_ lock: DepositLock, id: SettlementID) throws(LedgerError) {
        guard let held = locks[lock.channelID], held == lock else { throw LedgerError("no such deposit") }
        try commit([(.escrow(channel: lock.channelID, asset: lock.asset), .debit(lock.amount)),
                    (.wallet(owner: lock.payer, asset: lock.asset), .credit(lock.amount))],
                   reason: .releaseDeposit, channel: lock.channelID, id: id)
        locks[lock.channelID] = nil
    }

    private mutating func pay(_ payout: Payout, id: SettlementID) throws(LedgerError) {
        guard let lock = locks[payout.channelID] else { throw LedgerError("no deposit locked for the channel") }
        guard lock.payer == payout.payer, lock.asset == payout.asset, lock.amount == payout.deposit else {
            throw LedgerError("payout does not match the locked deposit")
        }
        guard payout.payeeAmount <= lock.amount else { throw LedgerError("payout exceeds the deposit") }
        let escrow = LedgerAccount.escrow(channel: payout.channelID, asset: payout.asset)
        var changes: [(LedgerAccount, LedgerDelta)] = []
        if payout.payeeAmount > 0 {
            changes += [(escrow, .debit(payout.payeeAmount)),
                        (.wallet(owner: payout.payee, asset: payout.asset), .credit(payout.payeeAmount))]
        }
        try commit(changes, reason: .payout, channel: payout.channelID, id: id)
        if payout.refund > 0 {
            try commit([(escrow, .debit(payout.refund)), (.wallet(owner: payout.payer, asset: payout.asset), .credit(payout.refund))],
                       reason: .refund, channel: payout.channelID, id: id)
        }
        locks[payout.channelID] = nil
        settled[payout.channelID] = SettledPayout(id: id, payee: payout.payeeAmount > 0 ? payout.payee : nil,
                                                  payeeAmount: payout.payeeAmount, refund: payout.refund)
    }

    /// Applies all changes or none.
    @discardableResult
    private mutating func commit(_ changes: [(LedgerAccount, LedgerDelta)], reason: LedgerReason, channel: ChannelID?,
                                 id: SettlementID?) throws(LedgerError) -> [LedgerEntry] {
        var scratch = self
        var entries: [LedgerEntry] = []
        for (account, delta) in changes {
            let entry = LedgerEntry(seq: UInt64(scratch.journal.count) + 1, account: account, delta: delta,
                                    reason: reason, channel: channel, settlementID: id)
            try scratch.apply(entry)
            scratch.journal.append(entry)
            entries.append(entry)
        }
        self = scratch
        return entries
    }

    private mutating func apply(_ entry: LedgerEntry) throws(LedgerError) {
        let current = balances[entry.account] ?? 0
        switch entry.delta {
        case .credit(let amount):
            let (sum, overflow) = current.addingReportingOverflow(amount)
            guard !overflow else { throw LedgerError("balance of \(entry.account) would exceed 2^128 − 1") }
            balances[entry.account] = sum
        case .debit(let amount):
            guard amount <= current else { throw LedgerError("insufficient balance in \(entry.account)") }
            balances[entry.account] = current - amount
        }
    }

    public static func == (a: LocalLedger, b: LocalLedger) -> Bool { a.journal == b.journal }
    public func hash(into h: inout Hasher) { h.combine(journal) }
}

/// A completed payout as the journal records it.
struct SettledPayout: Sendable, Hashable {
    var id: SettlementID
    var payee: Address?
    var payeeAmount: UInt128 = 0
    var refund: UInt128 = 0

    func matches(_ p: Payout) -> Bool {
        payeeAmount == p.payeeAmount && refund == p.refund && (payeeAmount == 0 || payee == p.payee)
    }
}

/// Why the local ledger refused an operation.
public struct LedgerError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
