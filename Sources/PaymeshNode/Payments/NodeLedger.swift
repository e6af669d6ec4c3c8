import PaymeshChannels
import PaymeshMessages
import PaymeshStore

/// The node's settlement backend: the local, OFF-CHAIN ledger (`local-ledger`, Specs/channels.md
/// §6.3) kept in the node's own SQLite file through `LedgerStore`. The store is the source of truth:
/// every operation is one atomic `appendLedger` that SQL refuses when it would overdraw a wallet or
/// an escrow, so a crash can never apply half an operation, and a second payout of a channel finds
/// an empty escrow. Each node keeps its own books:
/// - the payer locks its deposit (wallet → escrow) before sending PAYMENT_OPEN;
/// - the payee, when it accepts an open, mirrors that deposit into its books (a `funding` credit
///   of the payer's wallet and the `depositLock` debit, in one request), so that both books settle
///   the channel with the same payout and refund.
struct NodeLedger: Sendable {
    let store: ChannelStore
    var books: LedgerStore { store.ledger }

    static func millis(_ now: UInt64) -> Int64 { Int64(clamping: now) }

    func fund(owner: Address, asset: Asset, amount: UInt128, now: UInt64) async throws(StoreError) {
        try await books.fund(owner: owner, asset: asset, amount: Amount(amount), timestampMillis: Self.millis(now))
    }

    /// The payee's mirror of the payer's deposit (see the type's documentation).
    func mirrorDeposit(_ open: PaymentOpen, now: UInt64) async throws(StoreError) {
        let ts = Self.millis(now)
        try await store.appendLedger([
            PaymeshStore.LedgerEntry(owner: open.sender, asset: open.asset, direction: .credit, amount: open.totalDeposit,
                                     reason: .funding, channel: nil, timestampMillis: ts),
            PaymeshStore.LedgerEntry(owner: open.sender, asset: open.asset, direction: .debit, amount: open.totalDeposit,
                                     reason: .depositLock, channel: open.channelID, timestampMillis: ts),
        ])
    }

    /// Performs `request` durably; returns `.submitted` then `.confirmed`, or `.failed`.
    func submit(_ request: SettlementRequest, asset: Asset, now: UInt64) async -> [SettlementEvent] {
        let channel = request.channelID, kind = request.kind
        let id = "local-\(kind.rawValue)-\(channel.bytes.prefix(6).hexString)"
        let ts = Self.millis(now)
        do throws(StoreError) {
            switch request {
            case .lockDeposit(let lock):
                try await store.appendLedger([PaymeshStore.LedgerEntry(owner: lock.payer, asset: asset, direction: .debit,
                                                                       amount: Amount(lock.amount), reason: .depositLock,
                                                                       channel: channel, timestampMillis: ts)])
            case .releaseDeposit(let lock):
                try await store.appendLedger([PaymeshStore.LedgerEntry(owner: lock.payer, asset: asset, direction: .credit,
                                                                       amount: Amount(lock.amount), reason: .refund,
                                                                       channel: channel, timestampMillis: ts)])
            case .payout(let p):
                if let done = try previousPayout(channel) {
                    // Idempotent per channel: the same division is confirmed again, another one fails.
                    guard done.paid == p.payeeAmount, done.refund == p.refund else {
                        return [.failed(nil, channel, kind, reason: "channel already settled with another final state")]
                    }
                    return [.submitted(id, channel, kind), .confirmed(id, channel, kind)]
                }
                try await books.settle(ChannelSettlement(channel: channel, payer: p.payer, payee: p.payee, asset: asset,
                                                         paid: Amount(p.payeeAmount), refund: Amount(p.refund), timestampMillis: ts))
            }
        } catch {
            return [.failed(nil, channel, kind, reason: error.description)]
        }
        return [.submitted(id, channel, kind), .confirmed(id, channel, kind)]
    }

    /// What an earlier payout of `channel` moved, if there was one.
    func previousPayout(_ channel: ChannelID) throws(StoreError) -> (paid: UInt128, refund: UInt128)? {
        let entries = try books.entries(channel: channel)
        let payouts = entries.filter { $0.reason == .payout }
        let refunds = entries.filter { $0.reason == .refund }
        let locked = entries.contains { $0.reason == .depositLock }
        guard locked, !payouts.isEmpty || !refunds.isEmpty else { return nil }
        return (payouts.reduce(0) { $0 + $1.amount.atomicUnits }, refunds.reduce(0) { $0 + $1.amount.atomicUnits })
    }
}
