public import PaymeshCrypto

/// EIP-712 `ChannelOpen` (Specs/messages.md §5.2), signed by `sender` (the payer). The open carries
/// its own domain: chainId = `chain_id`, verifyingContract = `verifying_contract`, so no domain
/// is passed in.
extension PaymentOpen {
    public static let eip712EncodeType = "ChannelOpen(bytes32 channelId,address payer,address payee,string asset,"
        + "uint8 decimals,uint256 deposit,uint64 challengePeriod,string settlement,uint64 nonce,uint64 timestamp)"
    public static let eip712TypeHash = Keccak256.hash(Array(eip712EncodeType.utf8))
    public static let eip712StructType = EIP712.StructType(name: "ChannelOpen", fields: [
        .init("channelId", .bytes32), .init("payer", .address), .init("payee", .address), .init("asset", .string),
        .init("decimals", .uint(bits: 8)), .init("deposit", .uint256), .init("challengePeriod", .uint(bits: 64)),
        .init("settlement", .string), .init("nonce", .uint(bits: 64)), .init("timestamp", .uint(bits: 64)),
    ])

    /// The domain of this open and of every later voucher and close of the channel (§4.1, §5.1).
    public var signingDomain: SigningDomain { SigningDomain(chainID: chainID, verifyingContract: verifyingContract) }

    /// The members for PaymeshCrypto's generic EIP-712 encoder.
    public var eip712Message: [String: EIP712.Value] {
        ["channelId": .fixedBytes(channelID.bytes), "payer": .address(sender),
         "payee": .address(receiver), "asset": .string(asset.id),
         "decimals": .uint(UInt128(asset.decimals)), "deposit": .uint(totalDeposit.atomicUnits),
         "challengePeriod": .uint(UInt128(challengePeriodSeconds)), "settlement": .string(settlement),
         "nonce": .uint(UInt128(nonce)), "timestamp": .uint(UInt128(timestamp))]
    }

    /// hashStruct(ChannelOpen).
    public func structHash() -> [UInt8] {
        var words = EIP712Words(typeHash: Self.eip712TypeHash, memberCount: 10)
        words.bytes32(channelID.bytes)
        words.address(sender)
        words.address(receiver)
        words.string(asset.id)
        words.uint(UInt64(asset.decimals))
        words.uint(totalDeposit.atomicUnits)
        words.uint(challengePeriodSeconds)
        words.string(settlement)
        words.uint(nonce)
        words.uint(timestamp)
        return words.hash()
    }

    /// The 32-byte EIP-712 digest the payer signs, in `signingDomain`.
    public func signingDigest() throws(MessageError) -> [UInt8] {
        signingDomain.digest(structHash: structHash())
    }

    /// A copy signed by `key`, which must be the key of `sender` (else 1502: a local misuse).
    public func signed(with key: IdentityKey) throws(MessageError) -> PaymentOpen {
        guard sender == key.address else {
            throw .wrongSigningKey("signing key is not the sender's", type: Self.messageType)
        }
        var copy = self
        copy.signature = try .sign(digest: signingDigest(), with: key, type: Self.messageType)
        return copy
    }

    /// The address that signed this open; 1101 when the signature recovers no key.
    public func recoverSigner() throws(MessageError) -> EthereumAddress {
        try signature.recoverSigner(digest: signingDigest(), type: Self.messageType, field: "signature")
    }

    /// Throws 1101 INVALID_SIGNATURE unless `sender` signed this open.
    public func verify() throws(MessageError) {
        try signature.verify(digest: signingDigest(), expected: sender, type: Self.messageType,
                             field: "signature", role: "sender")
    }
}
