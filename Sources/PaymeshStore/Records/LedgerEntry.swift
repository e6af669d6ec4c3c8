import PaymeshCrypto
import PaymeshMessages

/// Why a ledger entry exists.
public enum LedgerReason: String, Sendable, Hashable, CaseIterable {
    /// Money entering the local ledger from outside (a faucet, a deposit from a chain).
    case funding
    /// Money leaving the local ledger.
    case withdrawal
    /// The payer's deposit moved into a channel's escrow (a debit of the payer).
    case depositLock
    /// The payee's share of a settled channel (a credit of the payee).
    case payout
    /// The unspent rest of the deposit returned to the payer (a credit of the payer).
    case refund
}

/// One signed movement of one account, an (owner, asset) pair. Balances are sums of entries.
public struct LedgerEntry: Sendable, Hashable {
    public enum Direction: Int64, Sendable, Hashable {
        case credit = 1
        case debit = -1
    }

    public var owner: EthereumAddress
    public var asset: Asset
    public var direction: Direction
    /// The magnitude of the delta; the sign is `direction`.
    public var amount: Amount
    public var reason: LedgerReason
    public var channel: ChannelID?
    public var timestampMillis: Int64

    public init(owner: EthereumAddress, asset: Asset, direction: Direction, amount: Amount, reason: LedgerReason, channel: ChannelID?, timestampMillis: Int64) {
        self.owner = owner
        self.asset = asset
        self.direction = direction
        self.amount = amount
        self.reason = reason
        self.channel = channel
        self.timestampMillis = timestampMillis
    }
}

/// The balance of one account, derived from its entries.
public struct LedgerBalance: Sendable, Hashable {
    public var owner: EthereumAddress
    public var assetID: String
    public var amount: Amount

    public init(owner: EthereumAddress, assetID: String, amount: Amount) {
        self.owner = owner
        self.assetID = assetID
        self.amount = amount
    }
}
