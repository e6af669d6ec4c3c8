public import Foundation
internal import CSodium

/// ChaCha20-Poly1305 IETF (RFC 8439 §2.8) over libsodium's
/// `crypto_aead_chacha20poly1305_ietf_*`. The in-place and out-of-place pointer variants allocate
/// nothing, for transport hot paths; the array variants are for handshakes and tests.
public enum ChaChaPoly {
    public static let keyLength = 32
    public static let nonceLength = 12
    public static let tagLength = 16

    /// A 32-byte key in wiping storage.
    public struct Key: Sendable {
        fileprivate let secret: SecureBytes

        public init(copying bytes: some ContiguousBytes) throws {
            let count = bytes.withUnsafeBytes { $0.count }
            guard count == ChaChaPoly.keyLength else {
                throw CryptoError.invalidKeyLength(expected: ChaChaPoly.keyLength, actual: count)
            }
            secret = SecureBytes(copying: bytes)
        }

        /// Takes ownership of `secret` (must be 32 bytes) without copying.
        public init(secret: SecureBytes) throws {
            guard secret.count == ChaChaPoly.keyLength else {
                throw CryptoError.invalidKeyLength(expected: ChaChaPoly.keyLength, actual: secret.count)
            }
            self.secret = secret
        }

        public static func random() -> Key {
            // 32 random bytes always make a valid key.
            do { return try Key(secret: .random(count: ChaChaPoly.keyLength)) } catch {
                preconditionFailure("random ChaChaPoly key: \(error)")
            }
        }

        public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try secret.withUnsafeBytes(body)
        }
    }

    /// A 96-bit nonce held inline (no heap storage).
    public struct Nonce: Hashable, Sendable {
        // 12 bytes as (first 4, last 8) kept in wire byte order.
        private var head: UInt32
        private var tail: UInt64

        /// The Noise nonce (rev 34 §12.3): 32 zero bits then the 64-bit counter, little-endian.
        public init(noiseCounter counter: UInt64) {
            head = 0
            tail = counter.littleEndian
        }

        /// Any 12 bytes.
        public init(bytes: some ContiguousBytes) throws {
            let (h, t): (UInt32, UInt64) = try bytes.withUnsafeBytes { b in
                guard b.count == ChaChaPoly.nonceLength else {
                    throw CryptoError.invalidInput("ChaChaPoly nonce must be 12 bytes, got \(b.count)")
                }
                return (b.loadUnaligned(as: UInt32.self), b.loadUnaligned(fromByteOffset: 4, as: UInt64.self))
            }
            head = h
            tail = t
        }

        public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

        @inline(__always)
        func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            var raw: (UInt32, UInt32, UInt32) = (head, 0, 0)
            Swift.withUnsafeMutableBytes(of: &raw) { $0.storeBytes(of: tail, toByteOffset: 4, as: UInt64.self) }
            return try Swift.withUnsafeBytes(of: &raw, body)
        }
    }

    // MARK: zero-allocation variants

    /// Encrypts `input` into `output` (which may be the same memory as `input`) and writes the
    /// 16-byte tag right after the ciphertext: `output.count` must be ≥ `input.count + 16`.
    /// Returns the number of bytes written (`input.count + 16`).
    @discardableResult
    public static func seal(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                            key: Key, nonce: Nonce, authenticating ad: UnsafeRawBufferPointer) throws -> Int {
        Sodium.ensure()
        guard output.count >= input.count + tagLength else {
            throw CryptoError.invalidInput("ChaChaPoly.seal output buffer too small")
        }
        let rc = key.secret.withUnsafeBytes { k in
            nonce.withUnsafeBytes { n in
                crypto_aead_chacha20poly1305_ietf_encrypt_detached(
                    output.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    output.baseAddress!.advanced(by: input.count).assumingMemoryBound(to: UInt8.self), nil,
                    input.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(input.count),
                    ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count),
                    nil,
                    n.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw CryptoError.libraryCallFailed("crypto_aead_chacha20poly1305_ietf_encrypt_detached") }
        return input.count + tagLength
    }

    /// Verifies and decrypts `input` (ciphertext ‖ 16-byte tag) into `output` (which may be the
    /// same memory as `input`; `output.count` ≥ `input.count − 16`). Returns the plaintext length.
    /// On a bad tag nothing is written and `authenticationFailed` is thrown.
    @discardableResult
    public static func open(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                            key: Key, nonce: Nonce, authenticating ad: UnsafeRawBufferPointer) throws -> Int {
        Sodium.ensure()
        guard input.count >= tagLength else { throw CryptoError.authenticationFailed() }
        let plainCount = input.count - tagLength
        guard output.count >= plainCount else {
            throw CryptoError.invalidInput("ChaChaPoly.open output buffer too small")
        }
        let rc = key.secret.withUnsafeBytes { k in
            nonce.withUnsafeBytes { n in
                crypto_aead_chacha20poly1305_ietf_decrypt_detached(
                    output.baseAddress?.assumingMemoryBound(to: UInt8.self), nil,
                    input.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(plainCount),
                    input.baseAddress!.advanced(by: plainCount).assumingMemoryBound(to: UInt8.self),
                    ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count),
                    n.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw CryptoError.authenticationFailed() }
        return plainCount
    }

    // MARK: array variants

    /// Returns ciphertext ‖ tag.
    public static func seal(_ plaintext: some ContiguousBytes, key: Key, nonce: Nonce,
                            authenticating ad: some ContiguousBytes = [UInt8]()) throws -> [UInt8] {
        try plaintext.withUnsafeBytes { p in
            try ad.withUnsafeBytes { a in
                var out = [UInt8](repeating: 0, count: p.count + tagLength)
                try out.withUnsafeMutableBytes { o in
                    _ = try seal(p, into: o, key: key, nonce: nonce, authenticating: a)
                }
                return out
            }
        }
    }

    /// Opens ciphertext ‖ tag; throws `CryptoError.authenticationFailed()` on a bad tag.
    public static func open(_ sealed: some ContiguousBytes, key: Key, nonce: Nonce,
                            authenticating ad: some ContiguousBytes = [UInt8]()) throws -> [UInt8] {
        try sealed.withUnsafeBytes { c in
            try ad.withUnsafeBytes { a in
                guard c.count >= tagLength else { throw CryptoError.authenticationFailed() }
                var out = [UInt8](repeating: 0, count: c.count - tagLength)
                try out.withUnsafeMutableBytes { o in
                    _ = try open(c, into: o, key: key, nonce: nonce, authenticating: a)
                }
                return out
            }
        }
    }
}
