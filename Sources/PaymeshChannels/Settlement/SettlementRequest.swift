public import PaymeshCrypto
public import PaymeshMessages

/// The backend's id of one operation (a transaction hash on a chain, `LedgerRules.settlementID` on the local ledger).
public typealias SettlementID = String

/// A deposit held for a channel.
public struct DepositLock: Sendable, Hashable {
    public var channelID: ChannelID
    public var payer: EthereumAddress
    public var asset: String
    public var amount: UInt128

    public init(channelID: ChannelID, payer: EthereumAddress, asset: String, amount: UInt128) {
        self.channelID = channelID
        self.payer = payer
        self.asset = asset
        self.amount = amount
    }
}

/// The final division of a channel's deposit.
public struct Payout: Sendable, Hashable {
    public var channelID: ChannelID
    public var payer: EthereumAddress
    public var payee: EthereumAddress
    public var asset: String
    public var deposit: UInt128
    /// Cumulative amount of the final voucher; the payer is refunded deposit − payeeAmount.
    public var payeeAmount: UInt128
    public var finalNonce: UInt64
    public var cooperative: Bool
    /// Set when the final voucher is conditional (messages.md §5.8): `payeeAmount` is then the
    /// voucher's amount (the most it pays) and the backend pays what the claim shows when it
    /// registers it (`LedgerRules.claimed`).
    public var claim: ConditionalClaim?

    public init(channelID: ChannelID, payer: EthereumAddress, payee: EthereumAddress, asset: String, deposit: UInt128, payeeAmount: UInt128,
                finalNonce: UInt64, cooperative: Bool, claim: ConditionalClaim? = nil) {
        precondition(payeeAmount <= deposit, "a payout never exceeds its deposit")
        self.channelID = channelID
        self.payer = payer
        self.payee = payee
        self.asset = asset
        self.deposit = deposit
        self.payeeAmount = payeeAmount
        self.finalNonce = finalNonce
        self.cooperative = cooperative
        self.claim = claim
    }

    public var refund: UInt128 { LedgerRules.refund(deposit: deposit, payeeAmount: payeeAmount) ?? 0 }
}

/// Money movement a channel asks for (`ChannelAction.settle`).
public enum SettlementRequest: Sendable, Hashable {
    /// Payer, before sending PAYMENT_OPEN: hold the deposit.
    case lockDeposit(DepositLock)
    /// Payer, when the open was rejected: give the deposit back.
    case releaseDeposit(DepositLock)
    /// Either side, at the end of a close: pay out and refund. Idempotent per channel.
    case payout(Payout)

    public var channelID: ChannelID {
        switch self {
        case .lockDeposit(let l), .releaseDeposit(let l): l.channelID
        case .payout(let p): p.channelID
        }
    }

    public var kind: SettlementKind {
        switch self {
        case .lockDeposit: .lockDeposit
        case .releaseDeposit: .releaseDeposit
        case .payout: .payout
        }
    }
}

public enum SettlementKind: String, Sendable, Hashable { case lockDeposit, releaseDeposit, payout }

/// What the backend reports, asynchronously for a chain, at once for the local ledger. Fed back
/// into the channel with `onSettlement(_:now:)`.
public enum SettlementEvent: Sendable, Hashable {
    /// Accepted for processing (a transaction was broadcast); not final.
    case submitted(SettlementID, ChannelID, SettlementKind)
    /// Final: the money moved (enough confirmations).
    case confirmed(SettlementID, ChannelID, SettlementKind)
    /// Did not happen (rejected, reverted, insufficient balance, …). Nothing moved.
    case failed(SettlementID?, ChannelID, SettlementKind, reason: String)
}

/// The money movement behind channels: the one settlement interface. The node's ledger
/// (`local-ledger` over its store, the embedded default) implements it, as does `MemoryLedger`
/// for machine-level tests; both decide with `LedgerRules`. An implementation must be honest:
/// `.confirmed` only when the money moved irrevocably, `.failed` whenever it did not; never both
/// for one operation. Other implementations (e.g. an escrow contract) live outside this module.
public protocol SettlementBackend: Sendable {
    /// The id carried in PAYMENT_OPEN.settlement (1–32 bytes).
    var backendID: String { get }
    /// True when money moves only in this node's books (reported as off-chain everywhere).
    var isOffChain: Bool { get }
    /// Starts an operation for the `side` of the channel that asks (each node keeps its own books).
    /// Returns what is already known: `.submitted`, then `.confirmed` or `.failed` when the backend
    /// decides at once (the local ledger does; a chain does not).
    func submit(_ request: SettlementRequest, asset: Asset, side: ChannelRole, now: UInt64) async -> [SettlementEvent]
    /// Results that became known since the last call (confirmations, failures); call on timer ticks.
    func poll(now: UInt64) async -> [SettlementEvent]
}
