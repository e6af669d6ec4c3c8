/// Sizes and limits of the Sphinx onion (Specs/onion.md §2, §7), as in BOLT 4.
public enum OnionLimits {
    /// The only packet version (BOLT 4 "Packet Structure").
    public static let version: UInt8 = 0
    /// Compressed secp256k1 point (SEC 1 §2.3.3).
    public static let ephemeralKeyLength = 33
    /// The encrypted hop-payload area (BOLT 4: 1300 bytes).
    public static let hopPayloadsLength = 1_300
    /// HMAC-SHA256 tag.
    public static let hmacLength = 32
    /// version ‖ ephemeral key ‖ hop payloads ‖ HMAC = 1366 bytes.
    public static let packetLength = 1 + ephemeralKeyLength + hopPayloadsLength + hmacLength
    /// At most 20 hops per route (BOLT 4: 20 × 65-byte legacy frames = 1300).
    public static let maxHops = 20
    /// One hop's payload: a payload needs 1 length byte and its HMAC needs 32, so at most
    /// 1300 − 32 − 3 (BigSize prefix of a length ≥ 253) bytes.
    public static let maxPayloadLength = hopPayloadsLength - hmacLength - 3
    /// A failure message (failure_len + message + pad_len + pad) is padded to at least 256
    /// bytes (BOLT 4 "Returning Errors"), so every failure looks the same size on the wire.
    public static let failurePaddedLength = 256
    /// Longest failure message a hop may write (so that the failure packet ≤ 1024 bytes,
    /// the limit of HTLC_CANCEL.failure in messages.md §4.7): 1024 − 32 − 2 − 2.
    public static let maxFailureMessageLength = 1_024 - hmacLength - 4
    /// Longest failure packet accepted (HTLC_CANCEL.failure, messages.md §4.7).
    public static let maxFailurePacketLength = 1_024
}
