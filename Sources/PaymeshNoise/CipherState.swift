public import Foundation
public import PaymeshCrypto

/// Noise rev 34 §5.1 CipherState for ChaChaPoly: a key `k` (possibly empty) and a 64-bit counter
/// `n`. The nonce is 32 zero bits ‖ n little-endian (§12.3). A counter at or above `nonceLimit`
/// is refused with `NoiseError.nonceExhausted`; the default limit is the reserved 2^64 − 1.
/// A failed decryption does not advance the counter (§5.1).
public struct CipherState: Sendable {
    private var key: ChaChaPoly.Key?
    /// The next nonce to use.
    public private(set) var nonce: UInt64 = 0
    /// Counters `>= nonceLimit` are never used.
    public let nonceLimit: UInt64

    /// An empty CipherState (`InitializeKey(empty)`).
    public init(nonceLimit: UInt64 = NoiseLimits.reservedNonce) {
        precondition(nonceLimit <= NoiseLimits.reservedNonce)
        self.nonceLimit = nonceLimit
    }

    /// `InitializeKey(k)`: takes a 32-byte key, counter 0.
    public init(key: SecureBytes, nonceLimit: UInt64 = NoiseLimits.reservedNonce) throws {
        self.init(nonceLimit: nonceLimit)
        self.key = try ChaChaPoly.Key(secret: key)
    }

    /// The same key and counter under a different limit (used when a handshake hands its Split
    /// output to the transport).
    func withNonceLimit(_ limit: UInt64) -> CipherState {
        var c = CipherState(nonceLimit: limit)
        c.key = key
        c.nonce = nonce
        return c
    }

    public var hasKey: Bool { key != nil }

    /// True once the counter has reached the limit: nothing more can be sent or received.
    public var isExhausted: Bool { nonce >= nonceLimit }

    /// `SetNonce(n)` (§5.1), for tests and out-of-order transports.
    public mutating func setNonce(_ n: UInt64) { nonce = n }

    // MARK: array API (handshake, tests)

    /// `EncryptWithAd(ad, plaintext)`: ciphertext ‖ tag, or the plaintext itself when `k` is empty.
    public mutating func encryptWithAd(_ ad: some ContiguousBytes, plaintext: some ContiguousBytes) throws -> [UInt8] {
        guard hasKey else { return plaintext.withUnsafeBytes { Array($0) } }
        return try plaintext.withUnsafeBytes { p in
            try ad.withUnsafeBytes { a in
                var out = [UInt8](repeating: 0, count: p.count + NoiseLimits.tagLength)
                _ = try out.withUnsafeMutableBytes { try encrypt(p, into: $0, ad: a) }
                return out
            }
        }
    }

    /// `DecryptWithAd(ad, ciphertext)`: the plaintext, or the input itself when `k` is empty.
    public mutating func decryptWithAd(_ ad: some ContiguousBytes, ciphertext: some ContiguousBytes) throws -> [UInt8] {
        guard hasKey else { return ciphertext.withUnsafeBytes { Array($0) } }
        return try ciphertext.withUnsafeBytes { c in
            try ad.withUnsafeBytes { a in
                guard c.count >= NoiseLimits.tagLength else {
                    throw NoiseError.truncatedMessage(needed: NoiseLimits.tagLength, available: c.count)
                }
                var out = [UInt8](repeating: 0, count: c.count - NoiseLimits.tagLength)
                _ = try out.withUnsafeMutableBytes { try decrypt(c, into: $0, ad: a) }
                return out
            }
        }
    }

    // MARK: zero-allocation API (transport hot path)

    /// Encrypts `input` into `output` (may alias; needs `input.count + 16` bytes). Requires a key.
    /// Returns the bytes written. The counter advances only on success.
    @inline(__always)
    public mutating func encrypt(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                                 ad: UnsafeRawBufferPointer) throws -> Int {
        guard let key else { preconditionFailure("CipherState.encrypt(into:) needs a key") }
        guard nonce < nonceLimit else { throw NoiseError.nonceExhausted(limit: nonceLimit) }
        let written = try ChaChaPoly.seal(input, into: output, key: key,
                                          nonce: .init(noiseCounter: nonce), authenticating: ad)
        nonce += 1
        return written
    }

    /// Verifies and decrypts `input` (ciphertext ‖ tag) into `output` (may alias; needs
    /// `input.count − 16` bytes). Requires a key. Returns the plaintext length.
    @inline(__always)
    public mutating func decrypt(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                                 ad: UnsafeRawBufferPointer) throws -> Int {
        guard let key else { preconditionFailure("CipherState.decrypt(into:) needs a key") }
        guard nonce < nonceLimit else { throw NoiseError.nonceExhausted(limit: nonceLimit) }
        guard input.count >= NoiseLimits.tagLength else {
            throw NoiseError.truncatedMessage(needed: NoiseLimits.tagLength, available: input.count)
        }
        let count: Int
        do {
            count = try ChaChaPoly.open(input, into: output, key: key,
                                        nonce: .init(noiseCounter: nonce), authenticating: ad)
        } catch {
            throw NoiseError.decryptFailed()
        }
        nonce += 1
        return count
    }

    /// `Rekey()` (§4.2, §11.3): k = first 32 bytes of ENCRYPT(k, 2^64 − 1, empty, 32 zero bytes).
    /// The counter is unchanged. Not used by paymesh/1, provided for completeness.
    public mutating func rekey() throws {
        guard let key else { return }
        let zeros = [UInt8](repeating: 0, count: 32)
        let out = SecureBytes(count: 32 + NoiseLimits.tagLength)
        try zeros.withUnsafeBytes { z in
            try out.withUnsafeMutableBytes { o in
                _ = try ChaChaPoly.seal(z, into: o, key: key, nonce: .init(noiseCounter: NoiseLimits.reservedNonce),
                                        authenticating: UnsafeRawBufferPointer(start: nil, count: 0))
            }
        }
        let newKey = out.withUnsafeBytes { SecureBytes(copying: UnsafeRawBufferPointer(rebasing: $0[0..<32])) }
        self.key = try ChaChaPoly.Key(secret: newKey)
    }
}
