public import Foundation
internal import CSodium

/// HMAC-SHA256 (RFC 2104) over libsodium's `crypto_auth_hmacsha256_*`, keys of any length.
public struct HMACSHA256: Sendable {
    public static let macLength = 32

    private var state = crypto_auth_hmacsha256_state()
    private var finalized = false

    /// Starts a MAC under `key` (any length; keys longer than 64 bytes are hashed, RFC 2104 §2).
    public init(key: some ContiguousBytes) {
        Sodium.ensure()
        var empty: UInt8 = 0 // libsodium wants a non-null pointer even for an empty key
        let rc = key.withUnsafeBytes { k in
            if let base = k.baseAddress, k.count > 0 {
                return crypto_auth_hmacsha256_init(&state, base.assumingMemoryBound(to: UInt8.self), k.count)
            }
            return crypto_auth_hmacsha256_init(&state, &empty, 0)
        }
        precondition(rc == 0, "crypto_auth_hmacsha256_init cannot fail")
    }

    public mutating func update(_ data: some ContiguousBytes) {
        data.withUnsafeBytes { update(bufferPointer: $0) }
    }

    public mutating func update(bufferPointer data: UnsafeRawBufferPointer) {
        precondition(!finalized, "HMACSHA256.update after finalize")
        guard data.count > 0 else { return }
        let rc = crypto_auth_hmacsha256_update(&state, data.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                               UInt64(data.count))
        precondition(rc == 0, "crypto_auth_hmacsha256_update cannot fail")
    }

    /// Writes the 32-byte MAC into `out` (at least 32 bytes) and wipes the keyed state.
    public mutating func finalize(into out: UnsafeMutableRawBufferPointer) {
        precondition(!finalized, "HMACSHA256.finalize called twice")
        precondition(out.count >= HMACSHA256.macLength)
        finalized = true
        let rc = crypto_auth_hmacsha256_final(&state, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        precondition(rc == 0, "crypto_auth_hmacsha256_final cannot fail")
        withUnsafeMutableBytes(of: &state) { sodium_memzero($0.baseAddress!, $0.count) }
    }

    /// The MAC as public bytes (use `finalize(into:)` with `SecureBytes` when the output is a key).
    public mutating func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: HMACSHA256.macLength)
        out.withUnsafeMutableBytes { finalize(into: $0) }
        return out
    }

    /// One-shot MAC.
    public static func authenticationCode(for message: some ContiguousBytes, key: some ContiguousBytes) -> [UInt8] {
        var h = HMACSHA256(key: key)
        h.update(message)
        return h.finalize()
    }

    /// Recomputes the MAC and compares it with `mac` in constant time.
    public static func isValid(_ mac: some ContiguousBytes, for message: some ContiguousBytes,
                               key: some ContiguousBytes) -> Bool {
        ConstantTime.equals(authenticationCode(for: message, key: key), mac)
    }
}
