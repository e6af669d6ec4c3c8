import Foundation
import Testing
import PaymeshCrypto

private func hex(_ s: String) -> [UInt8] {
    guard let b = [UInt8](hex: s) else { preconditionFailure("bad hex in test: \(s)") }
    return b
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

private func reveal(_ s: SecureBytes) -> [UInt8] { s.withUnsafeBytes { Array($0) } }

@Suite("X25519 (RFC 7748)")
struct X25519Tests {
    @Test("§5.2 scalar multiplication vectors", arguments: [
        ("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
         "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
         "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
        ("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
         "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
         "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"),
    ])
    func scalarMult(scalar: String, u: String, out: String) throws {
        let k = try X25519.PrivateKey(rawRepresentation: hex(scalar))
        let shared = try k.sharedSecret(with: X25519.PublicKey(rawRepresentation: hex(u)))
        #expect(reveal(shared) == hex(out))
    }

    @Test("§5.2 iterated: 1 and 1000 rounds from u = k = 9")
    func iterated() throws {
        var k = hex("0900000000000000000000000000000000000000000000000000000000000000")
        var u = k
        for i in 1...1000 {
            let out = try reveal(X25519.PrivateKey(rawRepresentation: k).sharedSecret(with: .init(rawRepresentation: u)))
            u = k
            k = out
            if i == 1 { #expect(k == hex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079")) }
        }
        #expect(k == hex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"))
    }

    @Test("§6.1 Alice and Bob")
    func aliceBob() throws {
        let alice = try X25519.PrivateKey(rawRepresentation: hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"))
        let bob = try X25519.PrivateKey(rawRepresentation: hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"))
        #expect(alice.publicKey.rawRepresentation == hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"))
        #expect(bob.publicKey.rawRepresentation == hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"))
        let k = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")
        #expect(reveal(try alice.sharedSecret(with: bob.publicKey)) == k)
        #expect(reveal(try bob.sharedSecret(with: alice.publicKey)) == k)
    }

    @Test("low-order points give an error, not a zero secret")
    func lowOrder() throws {
        let k = X25519.PrivateKey()
        for point in ["0000000000000000000000000000000000000000000000000000000000000000",
                      "0100000000000000000000000000000000000000000000000000000000000000",
                      "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"] {
            #expect(throws: CryptoError.self) { try k.sharedSecret(with: .init(rawRepresentation: hex(point))) }
        }
    }

    @Test("clamping: raw scalars differing only in clamped bits are the same key")
    func clamping() throws {
        var raw = hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4")
        let a = try X25519.PrivateKey(rawRepresentation: raw)
        raw[0] |= 7
        raw[31] = (raw[31] | 128) & ~64
        let b = try X25519.PrivateKey(rawRepresentation: raw)
        #expect(a.publicKey == b.publicKey)
        #expect(a.withUnsafeBytes { $0[0] & 7 } == 0)
    }

    @Test("wrong key lengths are rejected")
    func lengths() {
        #expect(throws: CryptoError.invalidKeyLength(expected: 32, actual: 31)) {
            try X25519.PrivateKey(rawRepresentation: [UInt8](repeating: 1, count: 31))
        }
        #expect(throws: CryptoError.invalidKeyLength(expected: 32, actual: 33)) {
            try X25519.PublicKey(rawRepresentation: [UInt8](repeating: 1, count: 33))
        }
    }
}

@Suite("ChaCha20-Poly1305 IETF (RFC 8439)")
struct ChaChaPolyTests {
    static let key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
    static let nonce = hex("070000004041424344454647")
    static let ad = hex("50515253c0c1c2c3c4c5c6c7")
    static let plaintext = bytes("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
    static let sealed = hex("d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116" + "1ae10b594f09e26a7e902ecbd0600691")

    @Test("§2.8.2 seal and open")
    func vector() throws {
        let key = try ChaChaPoly.Key(copying: Self.key)
        let nonce = try ChaChaPoly.Nonce(bytes: Self.nonce)
        #expect(try ChaChaPoly.seal(Self.plaintext, key: key, nonce: nonce, authenticating: Self.ad) == Self.sealed)
        #expect(try ChaChaPoly.open(Self.sealed, key: key, nonce: nonce, authenticating: Self.ad) == Self.plaintext)
    }

    @Test("in place: seal and open on one buffer")
    func inPlace() throws {
        let key = try ChaChaPoly.Key(copying: Self.key)
        let nonce = try ChaChaPoly.Nonce(bytes: Self.nonce)
        var buffer = Self.plaintext + [UInt8](repeating: 0, count: ChaChaPoly.tagLength)
        let n = Self.plaintext.count
        try buffer.withUnsafeMutableBytes { b in
            let written = try ChaChaPoly.seal(UnsafeRawBufferPointer(rebasing: b[0..<n]), into: b, key: key,
                                              nonce: nonce, authenticating: Self.ad.withUnsafeBytes { $0 })
            #expect(written == n + 16)
        }
        #expect(buffer == Self.sealed)
        try buffer.withUnsafeMutableBytes { b in
            let count = try Self.ad.withUnsafeBytes { a in
                try ChaChaPoly.open(UnsafeRawBufferPointer(b), into: b, key: key, nonce: nonce, authenticating: a)
            }
            #expect(count == n)
        }
        #expect(Array(buffer[0..<n]) == Self.plaintext)
    }

    @Test("any flipped bit, wrong AD or wrong nonce fails authentication")
    func tamper() throws {
        let key = try ChaChaPoly.Key(copying: Self.key)
        let nonce = try ChaChaPoly.Nonce(bytes: Self.nonce)
        for i in [0, 57, Self.sealed.count - 1] {
            var bad = Self.sealed
            bad[i] ^= 1
            #expect(throws: CryptoError.authenticationFailed()) {
                try ChaChaPoly.open(bad, key: key, nonce: nonce, authenticating: Self.ad)
            }
        }
        #expect(throws: CryptoError.authenticationFailed()) {
            try ChaChaPoly.open(Self.sealed, key: key, nonce: nonce, authenticating: [UInt8]())
        }
        #expect(throws: CryptoError.authenticationFailed()) {
            try ChaChaPoly.open(Self.sealed, key: key, nonce: .init(noiseCounter: 7), authenticating: Self.ad)
        }
        #expect(throws: CryptoError.authenticationFailed()) {
            try ChaChaPoly.open([UInt8](repeating: 0, count: 15), key: key, nonce: nonce)
        }
    }

    @Test("Noise nonce layout: 4 zero bytes then little-endian counter")
    func noiseNonce() {
        #expect(ChaChaPoly.Nonce(noiseCounter: 0x0102030405060708).bytes
                == [0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1])
    }

    @Test("empty plaintext is a bare tag and opens to empty")
    func empty() throws {
        let key = ChaChaPoly.Key.random()
        let sealed = try ChaChaPoly.seal([UInt8](), key: key, nonce: .init(noiseCounter: 1))
        #expect(sealed.count == 16)
        #expect(try ChaChaPoly.open(sealed, key: key, nonce: .init(noiseCounter: 1)) == [])
    }
}

@Suite("SHA-256, HMAC-SHA256, HKDF")
struct HashTests {
    @Test("SHA-256 FIPS 180 examples, one-shot and incremental")
    func sha256() {
        #expect(SHA256.hash(bytes("abc")) == hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        #expect(SHA256.hash([UInt8]()) == hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        let two = bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
        let expected = hex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hash(two) == expected)
        var h = SHA256()
        for b in two { h.update([b]) }
        #expect(h.finalize() == expected)
    }

    static let longKey = [UInt8](repeating: 0xaa, count: 131)

    @Test("RFC 4231 test cases 1-4, 6, 7", arguments: [
        ([UInt8](repeating: 0x0b, count: 20), bytes("Hi There"),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (bytes("Jefe"), bytes("what do ya want for nothing?"),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (Array(1...25), [UInt8](repeating: 0xcd, count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (longKey, bytes("Test Using Larger Than Block-Size Key - Hash Key First"),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (longKey, bytes("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ] as [([UInt8], [UInt8], String)])
    func hmac(key: [UInt8], data: [UInt8], mac: String) {
        #expect(HMACSHA256.authenticationCode(for: data, key: key) == hex(mac))
        #expect(HMACSHA256.isValid(hex(mac), for: data, key: key))
        var wrong = hex(mac)
        wrong[31] ^= 0x80
        #expect(!HMACSHA256.isValid(wrong, for: data, key: key))
    }

    @Test("RFC 5869 test cases 1-3", arguments: [
        ([UInt8](repeating: 0x0b, count: 22), Array(0...12), Array(0xf0...0xf9), 42,
         "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
        (Array(0...0x4f), Array(0x60...0xaf), Array(0xb0...0xff), 82,
         "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87"),
        ([UInt8](repeating: 0x0b, count: 22), [], [], 42,
         "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
    ] as [([UInt8], [UInt8], [UInt8], Int, String, String)])
    func hkdf(ikm: [UInt8], salt: [UInt8], info: [UInt8], length: Int, prk: String, okm: String) throws {
        let p = HKDF.extract(salt: salt, inputKeyMaterial: ikm)
        #expect(reveal(p) == hex(prk))
        #expect(reveal(try HKDF.expand(pseudoRandomKey: p, info: info, outputLength: length)) == hex(okm))
        #expect(reveal(try HKDF.deriveKey(salt: salt, inputKeyMaterial: ikm, info: info, outputLength: length)) == hex(okm))
    }

    @Test("Noise HKDF equals RFC 5869 with ck as salt and empty info")
    func noiseHKDF() throws {
        let ck = hex("077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5")
        let ikm = bytes("input key material")
        let okm = reveal(try HKDF.deriveKey(salt: ck, inputKeyMaterial: ikm, info: [UInt8](), outputLength: 96))
        let (a, b, c) = HKDF.noise3(chainingKey: ck, inputKeyMaterial: ikm)
        #expect(reveal(a) + reveal(b) + reveal(c) == okm)
        let (x, y) = HKDF.noise2(chainingKey: ck, inputKeyMaterial: ikm)
        #expect(reveal(x) + reveal(y) == Array(okm[0..<64]))
        // Definition check (Noise rev 34 §4.3): output2 = HMAC(temp, output1 ‖ 0x02).
        let temp = HMACSHA256.authenticationCode(for: ikm, key: ck)
        #expect(reveal(y) == HMACSHA256.authenticationCode(for: reveal(x) + [2], key: temp))
    }

    @Test("HKDF refuses more than 255 blocks")
    func hkdfLimit() {
        #expect(throws: CryptoError.self) {
            try HKDF.expand(pseudoRandomKey: [UInt8](repeating: 1, count: 32), info: [UInt8](), outputLength: 255 * 32 + 1)
        }
    }
}
