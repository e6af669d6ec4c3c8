public import Foundation
internal import CSodium

/// SHA-256 (FIPS 180-4) over libsodium's `crypto_hash_sha256`: one-shot and incremental.
public struct SHA256: Sendable {
    public static let digestLength = 32
    public static let blockLength = 64

    private var state = crypto_hash_sha256_state()
    private var finalized = false

    public init() {
        Sodium.ensure()
        let rc = crypto_hash_sha256_init(&state)
        precondition(rc == 0, "crypto_hash_sha256_init cannot fail")
    }

    public mutating func update(_ data: some ContiguousBytes) {
        data.withUnsafeBytes { update(bufferPointer: $0) }
    }

    public mutating func update(bufferPointer data: UnsafeRawBufferPointer) {
        precondition(!finalized, "SHA256.update after finalize")
        guard data.count > 0 else { return }
        let rc = crypto_hash_sha256_update(&state, data.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                           UInt64(data.count))
        precondition(rc == 0, "crypto_hash_sha256_update cannot fail")
    }

    /// The digest; the hasher cannot be updated afterwards.
    public mutating func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: SHA256.digestLength)
        out.withUnsafeMutableBytes { finalize(into: $0) }
        return out
    }

    /// Writes the 32-byte digest into `out` (which must hold at least 32 bytes).
    public mutating func finalize(into out: UnsafeMutableRawBufferPointer) {
        precondition(!finalized, "SHA256.finalize called twice")
        precondition(out.count >= SHA256.digestLength)
        finalized = true
        let rc = crypto_hash_sha256_final(&state, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        precondition(rc == 0, "crypto_hash_sha256_final cannot fail")
        withUnsafeMutableBytes(of: &state) { sodium_memzero($0.baseAddress!, $0.count) }
    }

    /// One-shot digest.
    public static func hash(_ data: some ContiguousBytes) -> [UInt8] {
        var h = SHA256()
        h.update(data)
        return h.finalize()
    }
}
