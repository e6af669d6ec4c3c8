public import PaymeshMessages

/// An account of the local ledger: a wallet per (owner, asset), or the escrow holding one channel's
/// deposit.
public enum LedgerAccount: Sendable, Hashable, CustomStringConvertible {
    case wallet(owner: Address, asset: String)
    case escrow(channel: ChannelID, asset: String)

    public var description: String {
        switch self {
        case .wallet(let owner, let asset): "wallet:\(owner):\(asset)"
        case .escrow(let channel, let asset): "escrow:\(channel):\(asset)"
        }
    }
}

/// Why an entry was written.
public enum LedgerReason: String, Sendable, Hashable, CaseIterable {
    /// Off-chain test or mesh funds created by the operator (`fund`); the only entry that is not
    /// half of a balanced pair.
    case faucet
    case lockDeposit
    case releaseDeposit
    case payout
    case refund
}

/// A signed change of one account's balance (integers only).
public enum LedgerDelta: Sendable, Hashable {
    case credit(UInt128)
    case debit(UInt128)
}

/// One line of the local ledger's append-only journal. Replaying every entry in `seq` order
/// rebuilds the ledger exactly (`LocalLedger(replaying:)`); this is what PaymeshStore persists.
public struct LedgerEntry: Sendable, Hashable {
    /// 1, 2, 3, … without gaps.
    public var seq: UInt64
    public var account: LedgerAccount
    public var delta: LedgerDelta
    public var reason: LedgerReason
    public var channel: ChannelID?
    /// The operation this entry belongs to ("local-<n>"); both halves of a transfer share it.
    public var settlementID: SettlementID?

    public init(seq: UInt64, account: LedgerAccount, delta: LedgerDelta, reason: LedgerReason,
                channel: ChannelID?, settlementID: SettlementID?) {
        self.seq = seq
        self.account = account
        self.delta = delta
        self.reason = reason
        self.channel = channel
        self.settlementID = settlementID
    }
}
