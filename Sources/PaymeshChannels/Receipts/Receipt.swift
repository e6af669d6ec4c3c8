public import PaymeshCrypto
public import PaymeshMessages

/// A payee-signed receipt: "voucher `nonce` of `channelID`, cumulative `amount`, was accepted for
/// `taskID` / `usage`". Receipts of a channel form a hash chain (Specs/channels.md §10):
/// `prevHash` is the `hash` of receipt `seq − 1` (32 zero bytes for seq 1).
///
/// hash = EIP-712 hashStruct of
/// `Receipt(bytes32 channelId,uint64 seq,uint64 nonce,uint256 amount,string taskId,string usageUnit,uint64 usageQuantity,bytes32 prevHash,uint64 timestamp)`
/// (absent task id and usage: empty strings and 0), and `signature` is the payee's secp256k1
/// signature over keccak256(0x19 0x01 ‖ channel domain separator ‖ hash), so standard EIP-712
/// tooling recovers the payee.
public struct Receipt: Sendable, Hashable {
    public static let encodeType = "Receipt(bytes32 channelId,uint64 seq,uint64 nonce,uint256 amount,string taskId,"
        + "string usageUnit,uint64 usageQuantity,bytes32 prevHash,uint64 timestamp)"
    public static let typeHash = Keccak256.hash(Array(encodeType.utf8))
    public static let zeroHash = [UInt8](repeating: 0, count: 32)

    public var channelID: ChannelID
    public var seq: UInt64
    public var nonce: UInt64
    public var amount: UInt128
    public var taskID: String?
    public var usage: Usage?
    public var prevHash: [UInt8]
    public var timestamp: UInt64
    /// `computeHash()` at signing time; a verifier recomputes it.
    public var hash: [UInt8]
    public var signature: Signature65

    /// hashStruct(Receipt) of the fields (not of the stored `hash`).
    public func computeHash() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32 * 10)
        bytes += Self.typeHash
        bytes += channelID.bytes
        Self.word(UInt128(seq), into: &bytes)
        Self.word(UInt128(nonce), into: &bytes)
        Self.word(amount, into: &bytes)
        bytes += Keccak256.hash(Array((taskID ?? "").utf8))
        bytes += Keccak256.hash(Array((usage?.unit.rawValue ?? "").utf8))
        Self.word(UInt128(usage?.quantity ?? 0), into: &bytes)
        bytes += prevHash.count == 32 ? prevHash : Keccak256.hash(prevHash) // a malformed link still hashes
        Self.word(UInt128(timestamp), into: &bytes)
        return Keccak256.hash(bytes)
    }

    /// The digest the payee signs: EIP-712 in the channel's domain.
    public static func signingDigest(hash: [UInt8], domain: SigningDomain) -> [UInt8] {
        var hasher = Keccak256()
        hasher.update(EIP712.digestPrefix)
        hasher.update(domain.separator)
        hasher.update(hash)
        return hasher.finalize()
    }

    /// Builds and signs the receipt that follows `prevHash`/`seq − 1`.
    public static func issue(channelID: ChannelID, seq: UInt64, nonce: UInt64, amount: UInt128, taskID: String?,
                             usage: Usage?, prevHash: [UInt8], timestamp: UInt64, payeeKey: IdentityKey,
                             domain: SigningDomain) throws(ChannelError) -> Receipt {
        guard prevHash.count == 32 else { throw .internalError("receipt prev_hash must be 32 bytes") }
        var receipt = Receipt(channelID: channelID, seq: seq, nonce: nonce, amount: amount, taskID: taskID, usage: usage,
                              prevHash: prevHash, timestamp: timestamp, hash: [], signature: .unsigned)
        receipt.hash = receipt.computeHash()
        do {
            receipt.signature = try Signature65(payeeKey.sign(digest32: signingDigest(hash: receipt.hash, domain: domain)))
        } catch {
            throw .internalError("receipt signing failed")
        }
        return receipt
    }

    /// The address that signed this receipt's stored hash, nil when the signature recovers none.
    public func recoverSigner(domain: SigningDomain) -> EthereumAddress? {
        let digest = Self.signingDigest(hash: hash, domain: domain)
        guard let address = try? EthereumAddress.recover(digest32: digest, signature65: signature.bytes) else { return nil }
        return address
    }

    private static func word(_ value: UInt128, into bytes: inout [UInt8]) {
        bytes.append(contentsOf: repeatElement(0, count: 16))
        for shift in stride(from: 120, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }
}
