public import PaymeshCrypto

/// EIP-712 `ChannelAnnouncement` (Specs/messages.md §5.5), signed by both ends in the chainless
/// `SigningDomain.announcement` (nodes that never saw the open verify it), so no domain is passed in.
extension ChannelAnnounce {
    public static let eip712EncodeType = "ChannelAnnouncement(bytes32 channelId,address peerA,address peerB,"
        + "uint256 capacity,string asset,uint8 decimals,uint256 feeBase,uint32 feePpm,uint64 expiryDelta,uint64 timestamp)"
    public static let eip712TypeHash = Keccak256.hash(Array(eip712EncodeType.utf8))
    public static let eip712StructType = EIP712.StructType(name: "ChannelAnnouncement", fields: [
        .init("channelId", .bytes32), .init("peerA", .address), .init("peerB", .address), .init("capacity", .uint256),
        .init("asset", .string), .init("decimals", .uint(bits: 8)), .init("feeBase", .uint256),
        .init("feePpm", .uint(bits: 32)), .init("expiryDelta", .uint(bits: 64)), .init("timestamp", .uint(bits: 64)),
    ])

    /// Which end signs.
    public enum Peer: Sendable, Hashable { case a, b }

    /// The members for PaymeshCrypto's generic EIP-712 encoder.
    public var eip712Message: [String: EIP712.Value] {
        ["channelId": .fixedBytes(channelID.bytes), "peerA": .address(peerA),
         "peerB": .address(peerB), "capacity": .uint(capacity.atomicUnits),
         "asset": .string(asset.id), "decimals": .uint(UInt128(asset.decimals)), "feeBase": .uint(feeBase.atomicUnits),
         "feePpm": .uint(UInt128(feePPM)), "expiryDelta": .uint(UInt128(expiryDeltaMillis)),
         "timestamp": .uint(UInt128(timestamp))]
    }

    /// hashStruct(ChannelAnnouncement). 1501 when `feePPM` does not fit the struct's uint32.
    public func structHash() throws(MessageError) -> [UInt8] {
        try require(feePPM <= UInt64(UInt32.max), Self.messageType, "fee_ppm does not fit uint32")
        var words = EIP712Words(typeHash: Self.eip712TypeHash, memberCount: 10)
        words.bytes32(channelID.bytes)
        words.address(peerA)
        words.address(peerB)
        words.uint(capacity.atomicUnits)
        words.string(asset.id)
        words.uint(UInt64(asset.decimals))
        words.uint(feeBase.atomicUnits)
        words.uint(feePPM)
        words.uint(expiryDeltaMillis)
        words.uint(timestamp)
        return words.hash()
    }

    /// The 32-byte EIP-712 digest both ends sign, in `SigningDomain.announcement`.
    public func signingDigest() throws(MessageError) -> [UInt8] {
        SigningDomain.announcement.digest(structHash: try structHash())
    }

    /// The end `key` belongs to, or nil when it is neither.
    public func peer(of key: IdentityKey) -> Peer? {
        if peerA == key.address { return .a }
        if peerB == key.address { return .b }
        return nil
    }

    /// A copy with `signature_a` or `signature_b` set, whichever end `key` is (else 1502: a local misuse).
    public func signed(with key: IdentityKey) throws(MessageError) -> ChannelAnnounce {
        guard let peer = peer(of: key) else {
            throw .wrongSigningKey("signing key is neither peer_a nor peer_b", type: Self.messageType)
        }
        let signature = try Signature65.sign(digest: signingDigest(), with: key, type: Self.messageType)
        var copy = self
        switch peer {
        case .a: copy.signatureA = signature
        case .b: copy.signatureB = signature
        }
        return copy
    }

    /// The addresses that made `signature_a` and `signature_b`; 1101 when either recovers no key.
    public func recoverSigners() throws(MessageError) -> (a: EthereumAddress, b: EthereumAddress) {
        let digest = try signingDigest()
        return (try signatureA.recoverSigner(digest: digest, type: Self.messageType, field: "signature_a"),
                try signatureB.recoverSigner(digest: digest, type: Self.messageType, field: "signature_b"))
    }

    /// Throws 1101 INVALID_SIGNATURE unless `signature_a` is by `peer_a` and `signature_b` by `peer_b`.
    public func verify() throws(MessageError) {
        let digest = try signingDigest()
        try signatureA.verify(digest: digest, expected: peerA, type: Self.messageType, field: "signature_a", role: "peer_a")
        try signatureB.verify(digest: digest, expected: peerB, type: Self.messageType, field: "signature_b", role: "peer_b")
    }
}
