public import Foundation
internal import CSodium

/// The ChaCha20 stream cipher (RFC 8439 §2.4, 96-bit nonce, 32-bit block counter from 0) over
/// libsodium's `crypto_stream_chacha20_ietf*`, without authentication. Used where a protocol
/// needs a raw keystream (Sphinx onions, Specs/onion.md §3); use `ChaChaPoly` to encrypt data.
public enum ChaCha20 {
    public static let keyLength = 32
    public static let nonceLength = 12
    /// The 32-bit block counter limits one (key, nonce) stream to 2^32 blocks of 64 bytes.
    public static let maxStreamLength = (1 << 32) * 64

    /// XORs `buffer` in place with the keystream of `key` and `nonce` (default all zero).
    public static func xorKeystream(key: some ContiguousBytes, nonce: [UInt8] = [UInt8](repeating: 0, count: nonceLength),
                                    into buffer: UnsafeMutableRawBufferPointer) throws {
        Sodium.ensure()
        guard nonce.count == nonceLength else {
            throw CryptoError.invalidInput("ChaCha20 nonce must be \(nonceLength) bytes, got \(nonce.count)")
        }
        guard buffer.count > 0 else { return }
        let rc = try key.withUnsafeBytes { k in
            guard k.count == keyLength else { throw CryptoError.invalidKeyLength(expected: keyLength, actual: k.count) }
            let p = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
            return crypto_stream_chacha20_ietf_xor(p, p, UInt64(buffer.count), nonce,
                                                   k.bindMemory(to: UInt8.self).baseAddress!)
        }
        guard rc == 0 else { throw CryptoError.libraryCallFailed("crypto_stream_chacha20_ietf_xor") }
    }

    /// XORs `bytes` in place with the keystream.
    public static func xorKeystream(key: some ContiguousBytes, into bytes: inout [UInt8]) throws {
        try bytes.withUnsafeMutableBytes { try xorKeystream(key: key, into: $0) }
    }

    /// The first `count` keystream bytes.
    public static func keystream(key: some ContiguousBytes, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        try xorKeystream(key: key, into: &out)
        return out
    }
}
