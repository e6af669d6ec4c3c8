import PaymeshCrypto
import PaymeshMessages

/// Which end of a one-way channel this node is.
public enum ChannelRole: String, Sendable, Hashable, CaseIterable {
    case payer
    case payee
}

/// The stored lifecycle state. The channel engine owns the transitions; the store records them.
/// Paymesh nodes write `opening` (PROPOSED), `open` (OPEN or ACTIVE), `closing`, `disputed` (v4;
/// before v4 a DISPUTED channel was written as `closed`) and `settled`; `closed` is kept for files
/// and tools that wrote it (Specs/storage.md).
public enum ChannelStatus: String, Sendable, Hashable, CaseIterable {
    case opening
    case open
    case closing
    case disputed
    case closed
    case settled
}

/// How a channel ended, once it has.
public struct ChannelCloseInfo: Sendable, Hashable {
    public var reason: String
    public var closedAtMillis: Int64
    /// The voucher the close was based on (0 and zero when none).
    public var finalNonce: UInt64
    public var finalAmount: Amount
    /// A settlement transaction hash or ledger reference, when there is one.
    public var settlementReference: String?

    public init(reason: String, closedAtMillis: Int64, finalNonce: UInt64, finalAmount: Amount, settlementReference: String? = nil) {
        self.reason = reason
        self.closedAtMillis = closedAtMillis
        self.finalNonce = finalNonce
        self.finalAmount = finalAmount
        self.settlementReference = settlementReference
    }
}

/// One channel row: its terms, its state and its latest voucher. This is all a restart reads.
public struct ChannelRecord: Sendable, Hashable {
    public var id: ChannelID
    public var role: ChannelRole
    public var localAddress: EthereumAddress
    public var remoteAddress: EthereumAddress
    public var asset: Asset
    public var deposit: Amount
    public var challengePeriodSeconds: UInt64
    /// e.g. "local-ledger" or "evm".
    public var settlementBackend: String
    public var chainID: UInt64
    public var verifyingContract: EthereumAddress
    public var status: ChannelStatus
    /// The counterparty's signature over the open, when received.
    public var openSignature: Signature65?
    public var openedAtMillis: Int64
    /// The latest voucher, nil before the first payment. Enough to claim the channel.
    public var latestVoucher: StoredVoucher?
    /// Amount reserved by payments in flight (not yet covered by a voucher).
    public var lockedAmount: Amount
    public var closeInfo: ChannelCloseInfo?

    public init(
        id: ChannelID, role: ChannelRole, localAddress: EthereumAddress, remoteAddress: EthereumAddress, asset: Asset,
        deposit: Amount, challengePeriodSeconds: UInt64, settlementBackend: String, chainID: UInt64,
        verifyingContract: EthereumAddress, status: ChannelStatus, openSignature: Signature65?, openedAtMillis: Int64,
        latestVoucher: StoredVoucher? = nil, lockedAmount: Amount = .zero, closeInfo: ChannelCloseInfo? = nil
    ) {
        self.id = id
        self.role = role
        self.localAddress = localAddress
        self.remoteAddress = remoteAddress
        self.asset = asset
        self.deposit = deposit
        self.challengePeriodSeconds = challengePeriodSeconds
        self.settlementBackend = settlementBackend
        self.chainID = chainID
        self.verifyingContract = verifyingContract
        self.status = status
        self.openSignature = openSignature
        self.openedAtMillis = openedAtMillis
        self.latestVoucher = latestVoucher
        self.lockedAmount = lockedAmount
        self.closeInfo = closeInfo
    }
}
