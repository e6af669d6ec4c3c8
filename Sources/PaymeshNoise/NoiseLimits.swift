/// Size and counter limits of Noise as used by paymesh/1.
public enum NoiseLimits {
    /// Noise rev 34 §3: every Noise message is at most 65535 bytes.
    public static let maxMessageLength = 65_535
    /// ChaChaPoly tag (Noise rev 34 §5.1, RFC 8439).
    public static let tagLength = 16
    /// Largest transport plaintext: 65535 − 16 (rev 34 §3 and §5).
    public static let maxPlaintextLength = maxMessageLength - tagLength
    /// DHLEN for 25519 (rev 34 §12.1).
    public static let dhLength = 32
    /// HASHLEN for SHA256 (rev 34 §12.5).
    public static let hashLength = 32
    /// rev 34 §5.1: 2^64 − 1 is reserved; a CipherState must never use it.
    public static let reservedNonce = UInt64.max
    /// paymesh/1 transport nonce limit: a node stops sending (and accepting) at 2^62 messages per
    /// direction, far below the reserved 2^64 − 1 (rev 34 §5.1) so that no counter arithmetic is
    /// ever near overflow and the node still has headroom to close cleanly (yamux GoAway).
    /// At 10^7 messages/s this is ~14,600 years: it is a safety rail, not a rekey schedule.
    public static let transportNonceLimit: UInt64 = 1 << 62
}
