import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshStore

/// The node's settlement backend: the local, OFF-CHAIN ledger (`local-ledger`, Specs/channels.md
/// §6.3) kept in the node's own SQLite file through `LedgerStore`. What a request writes is decided
/// by `LedgerRules` (the one copy of the settlement rules, shared with `MemoryLedger`); the store is
/// the source of truth: every operation is one atomic `appendLedger` that SQL refuses when it would
/// overdraw a wallet or an escrow or pass 2^128 − 1, so a crash can never apply half an operation.
/// Each node keeps its own books, with only what it can vouch for:
/// - the payer locks its own deposit (wallet → escrow) before sending PAYMENT_OPEN, and at the
///   payout moves the escrow to the payee (`payout`) and back to itself (`refund`);
/// - the payee records NOTHING for an accepted open: the payer's deposit is a claim it cannot
///   verify on an off-chain ledger, so it stays a channel term (the `channels` row), never money in
///   these books. At the payout the payee credits itself what the payer's latest signed voucher
///   pays (`payout`, bounded by the deposit term), and nothing else.
struct NodeLedger: SettlementBackend {
    let store: ChannelStore
    var books: LedgerStore { store.ledger }

    var backendID: String { LedgerRules.localLedgerID }
    var isOffChain: Bool { true }

    static func millis(_ now: UInt64) -> Int64 { Int64(clamping: now) }

    func fund(owner: EthereumAddress, asset: Asset, amount: UInt128, now: UInt64) async throws(StoreError) {
        try await books.fund(owner: owner, asset: asset, amount: Amount(amount), timestampMillis: Self.millis(now))
    }

    /// Performs `request` durably; returns `.submitted` then `.confirmed`, or `.failed`.
    func submit(_ request: SettlementRequest, asset: Asset, side: PaymeshChannels.ChannelRole, now: UInt64) async -> [SettlementEvent] {
        let channel = request.channelID, kind = request.kind
        let id = LedgerRules.settlementID(request)
        do throws(StoreError) {
            let prior = try books.entries(channel: channel).compactMap(Self.posting)
            switch LedgerRules.plan(request, side: side, prior: prior, at: now) {
            case .refuse(let why): return [.failed(nil, channel, kind, reason: why)]
            case .alreadyApplied: break
            case .post(let postings):
                let ts = Self.millis(now)
                try await store.appendLedger(postings.map { p in
                    PaymeshStore.LedgerEntry(owner: p.owner, asset: asset, direction: p.direction == .credit ? .credit : .debit,
                                             amount: Amount(p.amount), reason: Self.reason(p.reason), channel: channel, timestampMillis: ts)
                })
            }
        } catch {
            return [.failed(nil, channel, kind, reason: error.description)]
        }
        return [.submitted(id, channel, kind), .confirmed(id, channel, kind)]
    }

    func poll(now: UInt64) async -> [SettlementEvent] { [] }

    /// A stored entry as the rules see it (funding and withdrawals are not channel settlements).
    static func posting(_ e: PaymeshStore.LedgerEntry) -> LedgerPosting? {
        let reason: LedgerPosting.Reason
        switch e.reason {
        case .depositLock: reason = .depositLock
        case .payout: reason = .payout
        case .refund: reason = .refund
        case .funding: reason = .funding
        case .withdrawal: return nil
        }
        return LedgerPosting(owner: e.owner, direction: e.direction == .credit ? .credit : .debit, amount: e.amount.atomicUnits, reason: reason)
    }

    static func reason(_ r: LedgerPosting.Reason) -> LedgerReason {
        switch r {
        case .depositLock: .depositLock
        case .payout: .payout
        case .refund: .refund
        case .funding: .funding
        }
    }
}
