public import PaymeshCrypto

/// EIP-712 `ChannelClose` (Specs/messages.md §5.4) in the channel's domain. `signature` is by the
/// party that sends this PAYMENT_CLOSE (the closer); `counter_signature`, cooperative closes only,
/// by the other party of the channel. Both cover the identical struct.
extension PaymentClose {
    public static let eip712EncodeType =
        "ChannelClose(bytes32 channelId,uint64 finalNonce,uint256 finalAmount,bool cooperative,uint64 timestamp)"
    public static let eip712TypeHash = Keccak256.hash(Array(eip712EncodeType.utf8))
    public static let eip712StructType = EIP712.StructType(name: "ChannelClose", fields: [
        .init("channelId", .bytes32), .init("finalNonce", .uint(bits: 64)), .init("finalAmount", .uint256),
        .init("cooperative", .bool), .init("timestamp", .uint(bits: 64)),
    ])

    /// The members for PaymeshCrypto's generic EIP-712 encoder.
    public var eip712Message: [String: EIP712.Value] {
        ["channelId": .fixedBytes(channelID.bytes), "finalNonce": .uint(UInt128(finalNonce)),
         "finalAmount": .uint(finalAmount.atomicUnits), "cooperative": .bool(cooperative),
         "timestamp": .uint(UInt128(timestamp))]
    }

    /// hashStruct(ChannelClose).
    public func structHash() -> [UInt8] {
        var words = EIP712Words(typeHash: Self.eip712TypeHash, memberCount: 5)
        words.bytes32(channelID.bytes)
        words.uint(finalNonce)
        words.uint(finalAmount.atomicUnits)
        words.bool(cooperative)
        words.uint(timestamp)
        return words.hash()
    }

    /// The 32-byte EIP-712 digest both parties sign.
    public func signingDigest(domain: SigningDomain) throws(MessageError) -> [UInt8] {
        domain.digest(structHash: structHash())
    }

    /// A copy whose `signature` is the closer's (`key`), as the party that sends it.
    public func signed(with key: IdentityKey, domain: SigningDomain) throws(MessageError) -> PaymentClose {
        var copy = self
        copy.signature = try .sign(digest: signingDigest(domain: domain), with: key, type: Self.messageType)
        return copy
    }

    /// The cooperative answer (§4.3): the same fields, `signature` = `key`'s (the answering party)
    /// and `counter_signature` = this message's `signature`. Verify this message first; it must be
    /// cooperative and not counter-signed yet (else 1501).
    public func countersigned(with key: IdentityKey, domain: SigningDomain) throws(MessageError) -> PaymentClose {
        try require(cooperative, Self.messageType, "only a cooperative close is counter-signed")
        try require(counterSignature == nil, Self.messageType, "close is already counter-signed")
        var copy = self
        copy.counterSignature = signature
        copy.signature = try .sign(digest: signingDigest(domain: domain), with: key, type: Self.messageType)
        return copy
    }

    /// The address that made `signature`; 1101 when it recovers no key.
    public func recoverSigner(domain: SigningDomain) throws(MessageError) -> EthereumAddress {
        try signature.recoverSigner(digest: signingDigest(domain: domain), type: Self.messageType, field: "signature")
    }

    /// The address that made `counter_signature`, nil when absent; 1101 when it recovers no key.
    public func recoverCounterSigner(domain: SigningDomain) throws(MessageError) -> EthereumAddress? {
        guard let counterSignature else { return nil }
        return try counterSignature.recoverSigner(digest: signingDigest(domain: domain), type: Self.messageType,
                                                  field: "counter_signature")
    }

    /// Throws 1101 INVALID_SIGNATURE unless `signature` is by `closer` (the party that sent this
    /// message) and, when present, `counter_signature` is by `counterparty` (the channel's other
    /// party). A completed cooperative close also needs `counterSignature != nil`: check it apart.
    public func verify(closer: EthereumAddress, counterparty: EthereumAddress, domain: SigningDomain) throws(MessageError) {
        let digest = try signingDigest(domain: domain)
        try signature.verify(digest: digest, expected: closer, type: Self.messageType, field: "signature", role: "closer")
        if let counterSignature {
            try counterSignature.verify(digest: digest, expected: counterparty, type: Self.messageType,
                                        field: "counter_signature", role: "counterparty")
        }
    }
}
