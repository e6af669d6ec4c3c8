public import PaymeshCrypto

/// EIP-712 `Voucher` (Specs/messages.md §5.3), signed by the channel's payer in the channel's domain.
///
/// Hot path: one keccak256 of the 6-word encoding (plus one of task_id when present), one of the
/// 66-byte digest input, and one secp256k1 sign or recovery. The domain separator comes cached in
/// `SigningDomain`; the type hash is a static constant.
///
/// Measured (release build, x86_64 Linux, 2 shared cores, 20,000-voucher loops): digest ≈ 2 µs,
/// `signed(with:domain:)` ≈ 24 µs (raw libsecp256k1 sign ≈ 21.5 µs), `verify(expectedSigner:domain:)`
/// ≈ 38.5 µs (raw recover + address ≈ 34 µs).
extension PaymentUpdate {
    public static let eip712EncodeType =
        "Voucher(bytes32 channelId,uint64 nonce,uint256 amount,uint64 timestamp,bytes32 taskIdHash)"
    public static let eip712TypeHash = Keccak256.hash(Array(eip712EncodeType.utf8))
    public static let eip712StructType = EIP712.StructType(name: "Voucher", fields: [
        .init("channelId", .bytes32), .init("nonce", .uint(bits: 64)), .init("amount", .uint256),
        .init("timestamp", .uint(bits: 64)), .init("taskIdHash", .bytes32),
    ])

    /// keccak256(UTF-8 bytes of `taskID`) when present, 32 zero bytes when absent (§5.3).
    public static func taskIDHash(_ taskID: String?) -> [UInt8] {
        guard let taskID else { return [UInt8](repeating: 0, count: EIP712.wordByteCount) }
        return Keccak256.hash(Array(taskID.utf8))
    }

    public var taskIDHash: [UInt8] { Self.taskIDHash(taskID) }

    /// The members for PaymeshCrypto's generic EIP-712 encoder.
    public var eip712Message: [String: EIP712.Value] {
        ["channelId": .fixedBytes(channelID.bytes), "nonce": .uint(UInt128(nonce)), "amount": .uint(amount.atomicUnits),
         "timestamp": .uint(UInt128(timestamp)), "taskIdHash": .fixedBytes(taskIDHash)]
    }

    /// hashStruct(Voucher).
    public func structHash() -> [UInt8] {
        var words = EIP712Words(typeHash: Self.eip712TypeHash, memberCount: 5)
        words.bytes32(channelID.bytes)
        words.uint(nonce)
        words.uint(amount.atomicUnits)
        words.uint(timestamp)
        words.hashedWord(taskIDHash)
        return words.hash()
    }

    /// The 32-byte EIP-712 digest the payer signs.
    public func signingDigest(domain: SigningDomain) throws(MessageError) -> [UInt8] {
        domain.digest(structHash: structHash())
    }

    /// A copy signed by `key`, the channel's payer.
    public func signed(with key: IdentityKey, domain: SigningDomain) throws(MessageError) -> PaymentUpdate {
        var copy = self
        copy.signature = try .sign(digest: signingDigest(domain: domain), with: key, type: Self.messageType)
        return copy
    }

    /// The address that signed this voucher; 1101 when the signature recovers no key.
    public func recoverSigner(domain: SigningDomain) throws(MessageError) -> EthereumAddress {
        try signature.recoverSigner(digest: signingDigest(domain: domain), type: Self.messageType, field: "signature")
    }

    /// Throws 1101 INVALID_SIGNATURE unless the voucher is signed by `payer` (the channel's
    /// PAYMENT_OPEN.sender) in `domain`.
    public func verify(expectedSigner payer: EthereumAddress, domain: SigningDomain) throws(MessageError) {
        try signature.verify(digest: signingDigest(domain: domain), expected: payer, type: Self.messageType,
                             field: "signature", role: "payer")
    }
}
