import PaymeshCrypto

/// A hand-written EIP-712 `encodeData` for structs whose layout is known at compile time:
/// typeHash ‖ one 32-byte word per member, built in one preallocated buffer (Specs/crypto.md §6).
/// Tests prove each struct's result equal to PaymeshCrypto's generic `EIP712.StructType`.
struct EIP712Words {
    private static let word = EIP712.wordByteCount
    private(set) var bytes: [UInt8]

    init(typeHash: [UInt8], memberCount: Int) {
        precondition(typeHash.count == Self.word)
        bytes = []
        bytes.reserveCapacity(Self.word * (memberCount + 1))
        bytes += typeHash
    }

    /// A member that is already one word: a `bytes32` or the keccak256 of a `string`/`bytes`.
    mutating func hashedWord(_ word: [UInt8]) {
        precondition(word.count == Self.word)
        bytes += word
    }

    /// `bytes32`.
    mutating func bytes32(_ value: [UInt8]) { hashedWord(value) }

    /// `string`: keccak256 of its UTF-8 bytes, exactly as stored (no Unicode normalisation).
    mutating func string(_ value: String) { bytes += Keccak256.hash(Array(value.utf8)) }

    /// `address`: 12 zero bytes ‖ the 20 address bytes.
    mutating func address(_ value: EthereumAddress) {
        zeros(Self.word - EthereumAddress.byteCount)
        bytes += value.bytes
    }

    mutating func bool(_ value: Bool) {
        zeros(Self.word - 1)
        bytes.append(value ? 1 : 0)
    }

    /// Any `uintN` with N ≥ 64 (the caller checks that the value fits N bits).
    mutating func uint(_ value: UInt64) {
        zeros(Self.word - 8)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// `uint256` of a value below 2^128.
    mutating func uint(_ value: UInt128) {
        zeros(Self.word - 16)
        for shift in stride(from: 120, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> shift)) }
    }

    /// hashStruct = keccak256(encodeData).
    func hash() -> [UInt8] { Keccak256.hash(bytes) }

    private mutating func zeros(_ count: Int) {
        bytes.append(contentsOf: repeatElement(0, count: count))
    }
}
