import PaymeshCrypto
public import PaymeshMessages

/// The fixed terms of a channel, read from its accepted PAYMENT_OPEN, with the signing domain
/// built once (Specs/messages.md §5.1) and reused for every voucher and close.
public struct ChannelTerms: Sendable, Hashable {
    public let open: PaymentOpen
    public let domain: SigningDomain

    public init(open: PaymentOpen) {
        self.open = open
        domain = open.signingDomain
    }

    public var channelID: ChannelID { open.channelID }
    public var payer: EthereumAddress { open.sender }
    public var payee: EthereumAddress { open.receiver }
    public var asset: Asset { open.asset }
    public var deposit: UInt128 { open.totalDeposit.atomicUnits }
    public var challengePeriodMillis: UInt64 { open.challengePeriodSeconds * 1_000 }

    /// channel_id = keccak256("paymesh/channel/v1" ‖ payer(20) ‖ payee(20) ‖ u64be(openNonce) ‖ salt(32))
    /// (Specs/channels.md §3.1). `salt` is 32 bytes of fresh randomness from the caller: two opens
    /// between the same parties never collide, even after the payer restored an old database.
    public static func deriveChannelID(payer: EthereumAddress, payee: EthereumAddress, openNonce: UInt64,
                                       salt: [UInt8]) throws(ChannelError) -> ChannelID {
        guard salt.count == 32 else { throw .malformed("channel id salt must be 32 bytes") }
        var hasher = Keccak256()
        hasher.update(Array("paymesh/channel/v1".utf8))
        hasher.update(payer.bytes)
        hasher.update(payee.bytes)
        hasher.update(withUnsafeBytes(of: openNonce.bigEndian) { Array($0) })
        hasher.update(salt)
        do { return try ChannelID(hasher.finalize()) } catch { throw .internalError("keccak256 is 32 bytes") }
    }
}
