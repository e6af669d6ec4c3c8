public import PaymeshCrypto

/// The EIP-712 domain of Paymesh signatures (Specs/messages.md §5.1), with its domain separator
/// computed once at construction: build one per channel and reuse it for every voucher.
///
/// - Channel messages (PAYMENT_OPEN, PAYMENT_UPDATE, PAYMENT_CLOSE) use
///   `EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)` with the
///   channel's `chain_id` and `verifying_contract` (zero address when none), both always present.
/// - CHANNEL_ANNOUNCE uses `EIP712Domain(string name,string version)`: `SigningDomain.announcement`.
public struct SigningDomain: Sendable, Hashable, CustomStringConvertible {
    public static let name = "Paymesh"    // §5.1
    public static let version = "1"       // §5.1

    /// The EIP-712 chainId; nil only for the announcement domain.
    public let chainID: UInt64?
    /// The EIP-712 verifyingContract (`EthereumAddress.zero` when there is none); nil only for the
    /// announcement domain.
    public let verifyingContract: EthereumAddress?
    /// hashStruct(EIP712Domain, domain): 32 bytes.
    public let separator: [UInt8]

    /// A channel's domain, as fixed by its PAYMENT_OPEN.
    public init(chainID: UInt64, verifyingContract: EthereumAddress = .zero) {
        self.chainID = chainID
        self.verifyingContract = verifyingContract
        var words = EIP712Words(typeHash: Self.channelDomainTypeHash, memberCount: 4)
        words.hashedWord(Self.nameHash)
        words.hashedWord(Self.versionHash)
        words.uint(chainID)
        words.address(verifyingContract)
        separator = words.hash()
    }

    /// The chainless domain of CHANNEL_ANNOUNCE (§5.5), verified by nodes that never saw the open.
    public static let announcement = SigningDomain()

    private init() {
        chainID = nil
        verifyingContract = nil
        var words = EIP712Words(typeHash: Self.announcementDomainTypeHash, memberCount: 2)
        words.hashedWord(Self.nameHash)
        words.hashedWord(Self.versionHash)
        separator = words.hash()
    }

    /// The same domain for PaymeshCrypto's generic EIP-712 code (interoperability and tests).
    public var eip712Domain: EIP712.Domain {
        EIP712.Domain(name: Self.name, version: Self.version, chainId: chainID,
                      verifyingContract: verifyingContract)
    }

    /// keccak256(0x19 ‖ 0x01 ‖ separator ‖ structHash).
    func digest(structHash: [UInt8]) -> [UInt8] {
        var hasher = Keccak256()
        hasher.update(EIP712.digestPrefix)
        hasher.update(separator)
        hasher.update(structHash)
        return hasher.finalize()
    }

    public var description: String {
        guard let chainID, let verifyingContract else { return "SigningDomain(Paymesh 1, announcement)" }
        return "SigningDomain(Paymesh 1, chain \(chainID), contract \(verifyingContract.lowercaseHex))"
    }

    static let channelDomainTypeHash = Keccak256.hash(Array(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)".utf8))
    static let announcementDomainTypeHash = Keccak256.hash(Array("EIP712Domain(string name,string version)".utf8))
    private static let nameHash = Keccak256.hash(Array(name.utf8))
    private static let versionHash = Keccak256.hash(Array(version.utf8))
}
