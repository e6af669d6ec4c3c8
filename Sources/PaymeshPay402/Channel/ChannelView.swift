public import PaymeshChannels
public import PaymeshCrypto
public import PaymeshMessages

/// What the gateway knows of the client's channel to this node when a proof arrives: its terms and
/// the latest accepted voucher, read from the payee channel (the channel engine's state).
public struct ChannelView: Sendable, Hashable {
    public var channelID: ChannelID
    public var payer: EthereumAddress
    public var payee: EthereumAddress
    public var asset: Asset
    public var domain: SigningDomain
    /// Whether the channel takes vouchers now (OPEN or ACTIVE).
    public var acceptsPayments: Bool
    public var latestNonce: UInt64
    public var latestAmount: UInt128
    /// The highest cumulative amount a voucher may carry: deposit minus what pending HTLCs lock.
    public var limit: UInt128

    public init(channelID: ChannelID, payer: EthereumAddress, payee: EthereumAddress, asset: Asset, domain: SigningDomain,
                acceptsPayments: Bool, latestNonce: UInt64, latestAmount: UInt128, limit: UInt128) {
        self.channelID = channelID
        self.payer = payer
        self.payee = payee
        self.asset = asset
        self.domain = domain
        self.acceptsPayments = acceptsPayments
        self.latestNonce = latestNonce
        self.latestAmount = latestAmount
        self.limit = limit
    }

    /// The view of a payee channel: the same limit its `receive` applies (deposit − locked).
    public init(_ channel: PayeeChannel) {
        let latest = channel.latestVoucher
        self.init(channelID: channel.channelID, payer: channel.terms.payer, payee: channel.terms.payee,
                  asset: channel.terms.asset, domain: channel.terms.domain, acceptsPayments: channel.state.acceptsPayments,
                  latestNonce: latest?.nonce ?? 0, latestAmount: latest?.amount.atomicUnits ?? 0,
                  limit: channel.available + (latest?.amount.atomicUnits ?? 0))
    }
}

/// A voucher the verifier accepted (§4.3): hand `voucher` to the payee channel, which persists it
/// before the upstream is called; `increment` is what this request paid.
public struct AcceptedVoucher: Sendable, Hashable {
    public var voucher: PaymentUpdate
    public var payer: EthereumAddress
    public var increment: UInt128
    public var network: String
    /// The voucher's EIP-712 digest: the `transaction` of the receipt header.
    public var digest: [UInt8]

    public init(voucher: PaymentUpdate, payer: EthereumAddress, increment: UInt128, network: String, digest: [UInt8]) {
        self.voucher = voucher
        self.payer = payer
        self.increment = increment
        self.network = network
        self.digest = digest
    }
}
