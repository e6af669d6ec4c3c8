/// A 65-byte secp256k1 signature r ‖ s ‖ v in Ethereum form (Specs/README.md).
///
/// The decoder checks the form only: v ∈ {27, 28}, r ≠ 0, 0 < s ≤ n/2 (EIP-2 low s).
/// Whether it verifies is decided by the signing layer.
public struct Signature65: FixedBytes {
    public static let byteCount = 65
    public let bytes: [UInt8]

    /// secp256k1 group order n divided by 2 (floor), big-endian.
    static let halfOrder: [UInt8] = [
        0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0,
    ]

    public init(_ bytes: [UInt8]) throws(MessageError) {
        let bytes = try Self.checkedCount(bytes)
        let r = bytes[0..<32], s = bytes[32..<64], v = bytes[64]
        guard v == 27 || v == 28 else { throw .malformed("signature v must be 27 or 28") }
        guard r.contains(where: { $0 != 0 }) else { throw .malformed("signature r is zero") }
        guard s.contains(where: { $0 != 0 }) else { throw .malformed("signature s is zero") }
        guard !Self.halfOrder.lexicographicallyPrecedes(s) else {
            throw .malformed("signature s is in the upper half of the curve order (EIP-2)")
        }
        self.bytes = bytes
    }

    public var r: ArraySlice<UInt8> { bytes[0..<32] }
    public var s: ArraySlice<UInt8> { bytes[32..<64] }
    public var v: UInt8 { bytes[64] }
}
