public import PaymeshCrypto

/// One HTLC held by a conditional voucher: the `Lock` member struct of `ConditionalVoucher`
/// (Specs/messages.md §5.7).
public struct HTLCLock: Sendable, Hashable {
    public var htlcID: HTLCID
    public var paymentHash: Hash32
    public var amount: Amount
    /// Absolute expiry, ms since the Unix epoch: a claim must show the preimage before it.
    public var expiry: UInt64

    public init(htlcID: HTLCID, paymentHash: Hash32, amount: Amount, expiry: UInt64) {
        self.htlcID = htlcID
        self.paymentHash = paymentHash
        self.amount = amount
        self.expiry = expiry
    }

    public static let eip712EncodeType = "Lock(bytes16 htlcId,bytes32 paymentHash,uint256 amount,uint64 expiry)"
    public static let eip712TypeHash = Keccak256.hash(Array(eip712EncodeType.utf8))

    /// hashStruct(Lock); `bytes16` is left-aligned in its word (EIP-712 `bytesN`).
    public func structHash() -> [UInt8] {
        var words = EIP712Words(typeHash: Self.eip712TypeHash, memberCount: 4)
        words.hashedWord(htlcID.bytes + [UInt8](repeating: 0, count: EIP712.wordByteCount - HTLCID.byteCount))
        words.bytes32(paymentHash.bytes)
        words.uint(amount.atomicUnits)
        words.uint(expiry)
        return words.hash()
    }
}

/// EIP-712 `ConditionalVoucher` (Specs/messages.md §5.7): a cumulative voucher of the channel's
/// payer whose `amount` includes every HTLC in `locks`. It shares the channel's nonce sequence with
/// `Voucher`; a claim subtracts each lock whose preimage is not shown before its expiry.
public struct ConditionalVoucher: Sendable, Hashable {
    public var channelID: ChannelID
    public var nonce: UInt64
    /// Cumulative amount: what is paid unconditionally plus the sum of `locks`.
    public var amount: Amount
    public var timestamp: UInt64
    /// In the order of the wire's `locks` (a proposed HTLC last).
    public var locks: [HTLCLock]

    public init(channelID: ChannelID, nonce: UInt64, amount: Amount, timestamp: UInt64, locks: [HTLCLock]) {
        self.channelID = channelID
        self.nonce = nonce
        self.amount = amount
        self.timestamp = timestamp
        self.locks = locks
    }

    public static let eip712EncodeType =
        "ConditionalVoucher(bytes32 channelId,uint64 nonce,uint256 amount,uint64 timestamp,Lock[] locks)" + HTLCLock.eip712EncodeType
    public static let eip712TypeHash = Keccak256.hash(Array(eip712EncodeType.utf8))

    /// The part paid whatever happens to the locks: amount − Σ locks; nil when the locks exceed it.
    public var unconditionalAmount: UInt128? {
        var rest = amount.atomicUnits
        for lock in locks {
            guard lock.amount.atomicUnits <= rest else { return nil }
            rest -= lock.amount.atomicUnits
        }
        return rest
    }

    /// hashStruct(ConditionalVoucher); `locks` is keccak256 of the concatenated hashStruct(Lock)s.
    public func structHash() -> [UInt8] {
        var words = EIP712Words(typeHash: Self.eip712TypeHash, memberCount: 5)
        words.bytes32(channelID.bytes)
        words.uint(nonce)
        words.uint(amount.atomicUnits)
        words.uint(timestamp)
        var hasher = Keccak256()
        for lock in locks { hasher.update(lock.structHash()) }
        words.hashedWord(hasher.finalize())
        return words.hash()
    }

    public func signingDigest(domain: SigningDomain) -> [UInt8] { domain.digest(structHash: structHash()) }

    /// Signs as the channel's payer; `type` names the message that carries the signature.
    public func sign(with key: IdentityKey, domain: SigningDomain, type: MessageType) throws(MessageError) -> Signature65 {
        try .sign(digest: signingDigest(domain: domain), with: key, type: type)
    }

    /// Throws 1101 INVALID_SIGNATURE unless `signature` is the payer's over this voucher.
    public func verify(_ signature: Signature65, payer: EthereumAddress, domain: SigningDomain,
                       type: MessageType) throws(MessageError) {
        try signature.verify(digest: signingDigest(domain: domain), expected: payer, type: type,
                             field: "signature", role: "payer")
    }
}

extension HTLCLock {
    /// True when SHA-256(`preimage`) is this lock's payment hash.
    public func isOpened(by preimage: Hash32) -> Bool {
        var h = SHA256()
        h.update(preimage.bytes)
        return ConstantTime.equals(h.finalize(), paymentHash.bytes)
    }
}

extension ConditionalVoucher {
    /// The claim rule of Specs/messages.md §5.8: what the settlement backend pays the payee for this
    /// voucher at time `at` (ms), given the preimage shown for each lock (same order, nil for none):
    /// `amount` minus every lock whose preimage is missing, wrong, or shown at or after its expiry.
    /// Nil when the locks exceed `amount` (a voucher no payee may accept).
    public func claimable(preimages: [Hash32?], at: UInt64) -> UInt128? {
        guard var total = unconditionalAmount else { return nil }
        for (i, lock) in locks.enumerated() {
            if i < preimages.count, let p = preimages[i], at < lock.expiry, lock.isOpened(by: p) {
                total += lock.amount.atomicUnits
            }
        }
        return total
    }
}
