import PaymeshChannels
import PaymeshMessages
import PaymeshStore

/// The node's settlement backend: the local, OFF-CHAIN ledger (`local-ledger`, Specs/channels.md
/// §6.3) kept in the node's own SQLite file through `LedgerStore`. The store is the source of truth:
/// every operation is one atomic `appendLedger` that SQL refuses when it would overdraw a wallet or
/// an escrow or pass 2^128 − 1, so a crash can never apply half an operation, and a second payout
/// of a channel finds an empty escrow. Each node keeps its own books, with only what it can vouch for:
/// - the payer locks its own deposit (wallet → escrow) before sending PAYMENT_OPEN, and at the
///   payout moves the escrow to the payee (`payout`) and back to itself (`refund`);
/// - the payee records NOTHING for an accepted open: the payer's deposit is a claim it cannot
///   verify on an off-chain ledger, so it stays a channel term (the `channels` row), never money in
///   these books. At the payout the payee credits itself what the payer's latest signed voucher
///   pays (`payout`, bounded by the deposit term), and nothing else.
struct NodeLedger: Sendable {
    let store: ChannelStore
    var books: LedgerStore { store.ledger }

    static func millis(_ now: UInt64) -> Int64 { Int64(clamping: now) }

    func fund(owner: Address, asset: Asset, amount: UInt128, now: UInt64) async throws(StoreError) {
        try await books.fund(owner: owner, asset: asset, amount: Amount(amount), timestampMillis: Self.millis(now))
    }

    /// Performs `request` durably; returns `.submitted` then `.confirmed`, or `.failed`.
    /// `asPayee`: the request comes from this node's payee side of the channel.
    func submit(_ request: SettlementRequest, asset: Asset, asPayee: Bool, now: UInt64) async -> [SettlementEvent] {
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
                if let done = try previousPayout(channel, asPayee: asPayee, deposit: p.deposit) {
                    // Idempotent per channel: the same division is confirmed again, another one fails.
                    guard done.paid == p.payeeAmount, done.refund == p.refund else {
                        return [.failed(nil, channel, kind, reason: "channel already settled with another final state")]
                    }
                    return [.submitted(id, channel, kind), .confirmed(id, channel, kind)]
                }
                if asPayee {
                    // One entry even for zero: it marks the channel settled on these books.
                    try await store.appendLedger([PaymeshStore.LedgerEntry(owner: p.payee, asset: asset, direction: .credit,
                                                                           amount: Amount(p.payeeAmount), reason: .payout,
                                                                           channel: channel, timestampMillis: ts)])
                } else {
                    try await books.settle(ChannelSettlement(channel: channel, payer: p.payer, payee: p.payee, asset: asset,
                                                             paid: Amount(p.payeeAmount), refund: Amount(p.refund), timestampMillis: ts))
                }
            }
        } catch {
            return [.failed(nil, channel, kind, reason: error.description)]
        }
        return [.submitted(id, channel, kind), .confirmed(id, channel, kind)]
    }

    /// What an earlier payout of `channel` moved, if there was one. A payee's books hold only its
    /// payout; the refund is the rest of the deposit term.
    func previousPayout(_ channel: ChannelID, asPayee: Bool, deposit: UInt128) throws(StoreError) -> (paid: UInt128, refund: UInt128)? {
        let entries = try books.entries(channel: channel)
        let payouts = entries.filter { $0.reason == .payout }
        let refunds = entries.filter { $0.reason == .refund }
        // Within one channel the sums are bounded by its deposit (the store refuses more).
        let paid = payouts.reduce(UInt128(0)) { $0 + $1.amount.atomicUnits }
        if asPayee {
            guard !payouts.isEmpty, paid <= deposit else { return nil }
            return (paid, deposit - paid)
        }
        let locked = entries.contains { $0.reason == .depositLock }
        guard locked, !payouts.isEmpty || !refunds.isEmpty else { return nil }
        return (paid, refunds.reduce(0) { $0 + $1.amount.atomicUnits })
    }
}
