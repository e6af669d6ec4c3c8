public import PaymeshCrypto
public import PaymeshMessages
import Synchronization

/// The local ledger's books kept in memory, for machine-level tests and simulations: the same
/// `LedgerRules` as the node's ledger over its store, over an in-memory journal. Wallets per
/// (owner, asset id) and, for channels with a deposit lock, the escrow. Every operation appends
/// all its postings or none; a debit past a balance or a credit past 2^128 − 1 is refused.
public final class MemoryLedger: SettlementBackend {
    /// One line of the journal.
    public struct Line: Sendable, Hashable {
        public var posting: LedgerPosting
        public var asset: String
        public var channel: ChannelID?
    }

    fileprivate struct Books {
        var journal: [Line] = []
        var wallets: [String: [EthereumAddress: UInt128]] = [:]
        var escrows: [ChannelID: UInt128] = [:]
    }

    private let books = Mutex(Books())

    public init() {}

    public var backendID: String { LedgerRules.localLedgerID }
    public var isOffChain: Bool { true }

    // MARK: Queries

    public var journal: [Line] { books.withLock { $0.journal } }
    public func balance(of owner: EthereumAddress, asset: String) -> UInt128 { books.withLock { $0.wallets[asset]?[owner] ?? 0 } }
    public func escrow(of channel: ChannelID) -> UInt128 { books.withLock { $0.escrows[channel] ?? 0 } }
    /// The deposit locked for `channel` and still held (not released, not paid out).
    public func lockedDeposit(of channel: ChannelID) -> UInt128? {
        books.withLock { b in
            let lines = b.journal.filter { $0.channel == channel }.map(\.posting.reason)
            guard lines.contains(.depositLock), !lines.contains(.payout), !lines.contains(.refund) else { return nil }
            return b.escrows[channel]
        }
    }

    // MARK: Operations

    /// Credits off-chain funds to a wallet (tests, a local faucet).
    public func fund(_ owner: EthereumAddress, asset: String, amount: UInt128) throws(LedgerError) {
        let refused = books.withLock { b -> String? in
            let current = b.wallets[asset]?[owner] ?? 0
            let (sum, overflow) = current.addingReportingOverflow(amount)
            if overflow { return "balance of \(owner) in \(asset) would exceed 2^128 − 1" }
            b.wallets[asset, default: [:]][owner] = sum
            b.journal.append(Line(posting: LedgerPosting(owner: owner, direction: .credit, amount: amount, reason: .funding),
                                  asset: asset, channel: nil))
            return nil
        }
        if let refused { throw LedgerError(refused) }
    }

    public func submit(_ request: SettlementRequest, asset: Asset, side: ChannelRole, now: UInt64) async -> [SettlementEvent] {
        submitNow(request, side: side, now: now)
    }

    /// `submit`, synchronously (the books decide at once).
    public func submitNow(_ request: SettlementRequest, side: ChannelRole, now: UInt64) -> [SettlementEvent] {
        let channel = request.channelID, kind = request.kind
        let asset = switch request {
        case .lockDeposit(let l), .releaseDeposit(let l): l.asset
        case .payout(let p): p.asset
        }
        let id = LedgerRules.settlementID(request)
        let refused = books.withLock { b -> String? in
            let prior = b.journal.filter { $0.channel == channel }.map(\.posting)
            switch LedgerRules.plan(request, side: side, prior: prior, at: now) {
            case .refuse(let why): return why
            case .alreadyApplied: return nil
            case .post(let postings):
                var scratch = b
                for p in postings {
                    if let why = scratch.apply(p, asset: asset, channel: channel) { return why }
                    scratch.journal.append(Line(posting: p, asset: asset, channel: channel))
                }
                b = scratch
                return nil
            }
        }
        if let refused { return [.failed(nil, channel, kind, reason: refused)] }
        return [.submitted(id, channel, kind), .confirmed(id, channel, kind)]
    }

    public func poll(now: UInt64) async -> [SettlementEvent] { [] }
}

extension MemoryLedger.Books {
    /// Applies one posting to the wallet and, for a channel with a lock, its escrow; nil when applied.
    mutating func apply(_ p: LedgerPosting, asset: String, channel: ChannelID) -> String? {
        let current = wallets[asset]?[p.owner] ?? 0
        switch p.direction {
        case .credit:
            let (sum, overflow) = current.addingReportingOverflow(p.amount)
            if overflow { return "balance of \(p.owner) in \(asset) would exceed 2^128 − 1" }
            wallets[asset, default: [:]][p.owner] = sum
        case .debit:
            guard p.amount <= current else { return "insufficient balance of \(p.owner) in \(asset)" }
            wallets[asset, default: [:]][p.owner] = current - p.amount
        }
        switch p.reason {
        case .depositLock:
            let (sum, overflow) = (escrows[channel] ?? 0).addingReportingOverflow(p.amount)
            if overflow { return "escrow of \(channel) would exceed 2^128 − 1" }
            escrows[channel] = sum
        case .funding: break
        case .payout, .refund:
            guard let held = escrows[channel] else { return nil } // the payee's books hold no escrow
            guard p.amount <= held else { return "insufficient escrow in \(channel)" }
            escrows[channel] = held - p.amount
        }
        return nil
    }
}

/// Why the in-memory books refused an operation.
public struct LedgerError: Error, Sendable, Hashable, CustomStringConvertible {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}
