public import Foundation

/// HKDF-SHA256 (RFC 5869) and the Noise `HKDF(chaining_key, input_key_material, num_outputs)`
/// (Noise rev 34 §4.3), which is RFC 5869 with `ck` as salt, empty info and 2 or 3 blocks.
/// Every output that may be key material is returned in `SecureBytes`.
public enum HKDF {
    /// RFC 5869 §2.3: at most 255 blocks of output.
    public static let maximumOutputLength = 255 * HMACSHA256.macLength

    /// RFC 5869 §2.2: PRK = HMAC-Hash(salt, IKM). An empty salt means 32 zero bytes (same MAC).
    public static func extract(salt: some ContiguousBytes, inputKeyMaterial ikm: some ContiguousBytes) -> SecureBytes {
        let prk = SecureBytes(count: HMACSHA256.macLength)
        var mac = HMACSHA256(key: salt)
        mac.update(ikm)
        prk.withUnsafeMutableBytes { mac.finalize(into: $0) }
        return prk
    }

    /// RFC 5869 §2.3: OKM = T(1) ‖ T(2) ‖ … truncated to `outputLength`.
    public static func expand(pseudoRandomKey prk: some ContiguousBytes, info: some ContiguousBytes,
                              outputLength: Int) throws -> SecureBytes {
        let prkLength = prk.withUnsafeBytes { $0.count }
        guard prkLength >= HMACSHA256.macLength else {
            throw CryptoError.invalidKeyLength(expected: HMACSHA256.macLength, actual: prkLength)
        }
        guard outputLength >= 0, outputLength <= maximumOutputLength else {
            throw CryptoError.invalidInput("HKDF output length \(outputLength) outside 0...\(maximumOutputLength)")
        }
        let okm = SecureBytes(count: outputLength)
        let block = SecureBytes(count: HMACSHA256.macLength)
        var produced = 0
        var counter: UInt8 = 1
        while produced < outputLength {
            var mac = HMACSHA256(key: prk)
            if counter > 1 { mac.update(block) }
            mac.update(info)
            withUnsafeBytes(of: counter) { mac.update(bufferPointer: $0) }
            block.withUnsafeMutableBytes { mac.finalize(into: $0) }
            let n = min(HMACSHA256.macLength, outputLength - produced)
            okm.withUnsafeMutableBytes { o in
                block.withUnsafeBytes { b in
                    o.baseAddress!.advanced(by: produced).copyMemory(from: b.baseAddress!, byteCount: n)
                }
            }
            produced += n
            counter &+= 1
        }
        return okm
    }

    /// Extract then expand.
    public static func deriveKey(salt: some ContiguousBytes, inputKeyMaterial ikm: some ContiguousBytes,
                                 info: some ContiguousBytes, outputLength: Int) throws -> SecureBytes {
        try expand(pseudoRandomKey: extract(salt: salt, inputKeyMaterial: ikm), info: info, outputLength: outputLength)
    }

    /// Noise rev 34 §4.3 HKDF with two outputs of 32 bytes.
    public static func noise2(chainingKey: some ContiguousBytes,
                              inputKeyMaterial ikm: some ContiguousBytes) -> (SecureBytes, SecureBytes) {
        let out = noise(chainingKey: chainingKey, inputKeyMaterial: ikm, outputs: 2)
        return (out[0], out[1])
    }

    /// Noise rev 34 §4.3 HKDF with three outputs of 32 bytes.
    public static func noise3(chainingKey: some ContiguousBytes,
                              inputKeyMaterial ikm: some ContiguousBytes) -> (SecureBytes, SecureBytes, SecureBytes) {
        let out = noise(chainingKey: chainingKey, inputKeyMaterial: ikm, outputs: 3)
        return (out[0], out[1], out[2])
    }

    private static func noise(chainingKey: some ContiguousBytes, inputKeyMaterial ikm: some ContiguousBytes,
                              outputs: Int) -> [SecureBytes] {
        let tempKey = extract(salt: chainingKey, inputKeyMaterial: ikm)
        var results: [SecureBytes] = []
        var previous: SecureBytes? = nil
        for i in 1...outputs {
            var mac = HMACSHA256(key: tempKey)
            if let previous { mac.update(previous) }
            withUnsafeBytes(of: UInt8(i)) { mac.update(bufferPointer: $0) }
            let block = SecureBytes(count: HMACSHA256.macLength)
            block.withUnsafeMutableBytes { mac.finalize(into: $0) }
            results.append(block)
            previous = block
        }
        return results
    }
}
