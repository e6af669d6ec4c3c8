/// Named limits of the HTTP 402 proofs (Specs/http402.md §8). Every input is checked against them
/// before it is decoded, so a hostile client costs at most these many bytes of work.
public enum Pay402Limits {
    /// Longest `X-PAYMENT`, `PAYMENT-SIGNATURE` or `Authorization` value accepted (characters).
    /// A channel-scheme proof is ≈ 1 KB of base64; hummingbird and nginx default to 8 KB header lines.
    public static let maxProofHeaderBytes = 8_192
    /// Longest decoded macaroon (libmacaroons v2 binary), in bytes.
    public static let maxMacaroonBytes = 4_096
    /// Most caveats a macaroon may carry (aperture mints 3 per service).
    public static let maxCaveats = 32
    /// Longest location, identifier or caveat field, in bytes.
    public static let maxMacaroonFieldBytes = 1_024
    /// Longest service name in `services=` and the `<service>_…` caveats (Specs/gossip.md service names).
    public static let maxServiceNameBytes = 64
    /// Most `accepts` entries in one challenge we build.
    public static let maxRequirements = 8
}
