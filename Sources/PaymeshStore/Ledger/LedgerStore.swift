import PaymeshCrypto
import PaymeshMessages

/// The local ledger over a `ChannelStore`: accounts are (owner, asset) pairs whose balances are
/// the sums of their entries (UInt128, checked, never float), kept as one row per account that each
/// request updates (never re-summed). Channel deposits move into escrow with a `depositLock` entry
/// and leave it as a `payout` to the payee and a `refund` to the payer; a payee's escrow is its
/// channel's deposit term (no entry), which its one payout settles. The writer refuses any request
/// that would make an account or an escrow negative or pass 2^128 − 1 (`StoreError.balanceOverflow`).
public struct LedgerStore: Sendable {
    public let store: ChannelStore

    public init(store: ChannelStore) { self.store = store }

    /// Credits money from outside the ledger.
    public func fund(owner: EthereumAddress, asset: Asset, amount: Amount, timestampMillis: Int64) async throws(StoreError) {
        try await store.appendLedger([LedgerEntry(owner: owner, asset: asset, direction: .credit, amount: amount,
                                                  reason: .funding, channel: nil, timestampMillis: timestampMillis)])
    }

    /// Moves `amount` of the payer's balance into the channel's escrow; refused if the balance is short.
    public func lockDeposit(channel: ChannelID, payer: EthereumAddress, asset: Asset, amount: Amount, timestampMillis: Int64) async throws(StoreError) {
        try await store.appendLedger([LedgerEntry(owner: payer, asset: asset, direction: .debit, amount: amount,
                                                  reason: .depositLock, channel: channel, timestampMillis: timestampMillis)])
    }

    /// Settles a channel from escrow: `paid` to the payee, `refund` back to the payer, atomically.
    /// Refused if escrow holds less than `paid + refund` (which also stops a second settlement).
    ///
    /// Takes one struct rather than seven arguments: Swift 6.3.1 miscompiles some async calls whose
    /// long argument lists include several UInt128-backed values (a jump to address 0 on resume).
    public func settle(_ settlement: ChannelSettlement) async throws(StoreError) {
        let entries = settlement.entries
        if !entries.isEmpty { try await store.appendLedger(entries) }
    }

    /// The balance of one account (zero when it has no entries).
    public func balance(owner: EthereumAddress, assetID: String) throws(StoreError) -> Amount {
        try store.read { db throws(StoreError) in try LedgerQueries.balance(owner: owner, assetID: assetID, db) }
    }

    /// Every account's balance, by owner then asset.
    public func balances() throws(StoreError) -> [LedgerBalance] {
        try store.read { db throws(StoreError) in try LedgerQueries.balances(db) }
    }

    /// What a channel still holds in escrow (zero for an unknown channel).
    public func escrow(channel: ChannelID) throws(StoreError) -> Amount {
        try store.read { db throws(StoreError) in try LedgerQueries.escrow(channel: channel, db) ?? .zero }
    }

    /// Each (asset id, decimals) the entries name, in the order of its first entry (the asset
    /// registry's uses at start, Specs/README.md "Money").
    public func assetsByFirstUse() throws(StoreError) -> [Asset] {
        try store.read { db throws(StoreError) in try LedgerQueries.assetsByFirstUse(db) }
    }

    /// A channel's entries in order.
    public func entries(channel: ChannelID) throws(StoreError) -> [LedgerEntry] {
        try store.read { db throws(StoreError) in
            try LedgerQueries.entries(where: "channel = ?1", bind: { s throws(StoreError) in try s.bind(1, channel.bytes) }, db)
        }
    }

    /// An account's entries in order.
    public func entries(owner: EthereumAddress, assetID: String) throws(StoreError) -> [LedgerEntry] {
        try store.read { db throws(StoreError) in
            try LedgerQueries.entries(where: "owner = ?1 AND asset_id = ?2", bind: { s throws(StoreError) in
                try s.bind(1, owner.bytes)
                try s.bind(2, assetID)
            }, db)
        }
    }
}

/// What settling a channel on the local ledger moves out of its escrow.
public struct ChannelSettlement: Sendable, Hashable {
    public var channel: ChannelID
    public var payer: EthereumAddress
    public var payee: EthereumAddress
    public var asset: Asset
    /// The latest voucher's cumulative amount: the payee's payout.
    public var paid: Amount
    /// The rest of the deposit, back to the payer.
    public var refund: Amount
    public var timestampMillis: Int64

    public init(channel: ChannelID, payer: EthereumAddress, payee: EthereumAddress, asset: Asset, paid: Amount, refund: Amount, timestampMillis: Int64) {
        self.channel = channel
        self.payer = payer
        self.payee = payee
        self.asset = asset
        self.paid = paid
        self.refund = refund
        self.timestampMillis = timestampMillis
    }

    /// A payout entry (if `paid` > 0) and a refund entry (if `refund` > 0).
    public var entries: [LedgerEntry] {
        var entries: [LedgerEntry] = []
        if paid > .zero {
            entries.append(LedgerEntry(owner: payee, asset: asset, direction: .credit, amount: paid,
                                       reason: .payout, channel: channel, timestampMillis: timestampMillis))
        }
        if refund > .zero {
            entries.append(LedgerEntry(owner: payer, asset: asset, direction: .credit, amount: refund,
                                       reason: .refund, channel: channel, timestampMillis: timestampMillis))
        }
        return entries
    }
}
