import Foundation
import NIOCore
import Testing
import PaymeshCrypto
import PaymeshNoise

@Suite("TransportCipher")
struct TransportCipherTests {
    @Test("plaintext limit 65519, ciphertext limit 65535")
    func sizeLimits() throws {
        var pair = try handshake()
        let max = [UInt8](repeating: 7, count: NoiseLimits.maxPlaintextLength)
        let c = try pair.initiator.transport.encrypt(max)
        #expect(c.count == 65_535)
        #expect(try pair.responder.transport.decrypt(c) == max)
        #expect(throws: NoiseError.messageTooLarge(length: 65_520, maximum: 65_519)) {
            try pair.initiator.transport.encrypt(max + [1])
        }
        #expect(throws: NoiseError.messageTooLarge(length: 65_536, maximum: 65_535)) {
            try pair.responder.transport.decrypt(c + [0])
        }
        // Neither refusal consumed a nonce.
        #expect(pair.initiator.transport.sendNonce == 1)
        #expect(pair.responder.transport.receiveNonce == 1)
    }

    @Test("tampered transport ciphertext is decryptFailed and does not advance the counter")
    func tamper() throws {
        var pair = try handshake()
        let c = try pair.initiator.transport.encrypt(bytes("hello"))
        for i in c.indices {
            var bad = c
            bad[i] ^= 0x40
            #expect(throws: NoiseError.decryptFailed()) { try pair.responder.transport.decrypt(bad) }
        }
        #expect(pair.responder.transport.receiveNonce == 0)
        #expect(try pair.responder.transport.decrypt(c) == bytes("hello"))
        // Replaying it is out of sequence now: a different nonce, so the tag fails.
        #expect(throws: NoiseError.decryptFailed()) { try pair.responder.transport.decrypt(c) }
        #expect(throws: NoiseError.truncatedMessage(needed: 16, available: 15)) {
            try pair.responder.transport.decrypt([UInt8](repeating: 0, count: 15))
        }
    }

    @Test("directions use different keys")
    func directions() throws {
        var pair = try handshake()
        let c = try pair.initiator.transport.encrypt(bytes("mine"))
        // The initiator cannot read its own message: its receive key is the other half of Split.
        #expect(throws: NoiseError.decryptFailed()) { try pair.initiator.transport.decrypt(c) }
    }

    @Test("paymesh/1 forbids empty plaintexts; plain Noise allows them")
    func empty() throws {
        var pair = try handshake()
        #expect(throws: NoiseError.emptyMessage()) { try pair.initiator.transport.encrypt([UInt8]()) }
        var noise = try handshake(initiatorTransport: .noise, responderTransport: .paymesh)
        let bareTag = try noise.initiator.transport.encrypt([UInt8]())
        #expect(bareTag.count == 16)
        #expect(throws: NoiseError.emptyMessage()) { try noise.responder.transport.decrypt(bareTag) }
        var both = try handshake(initiatorTransport: .noise, responderTransport: .noise)
        #expect(try both.responder.transport.decrypt(both.initiator.transport.encrypt([UInt8]())) == [])
    }

    @Test("nonce exhaustion at an injected limit, on send and on receive")
    func exhaustion() throws {
        let limit: UInt64 = 3
        var pair = try handshake(initiatorTransport: .init(nonceLimit: limit),
                                 responderTransport: .init(nonceLimit: limit + 5))
        for n in 0..<limit {
            #expect(!pair.initiator.transport.isSendExhausted)
            let c = try pair.initiator.transport.encrypt(bytes("m\(n)"))
            #expect(try pair.responder.transport.decrypt(c) == bytes("m\(n)"))
        }
        #expect(pair.initiator.transport.isSendExhausted)
        #expect(throws: NoiseError.nonceExhausted(limit: limit)) { try pair.initiator.transport.encrypt(bytes("x")) }
        var out = ByteBuffer()
        #expect(throws: NoiseError.nonceExhausted(limit: limit)) {
            try pair.initiator.transport.encryptFrame(ByteBuffer(bytes: bytes("x")), appendingTo: &out)
        }
        #expect(out.readableBytes == 0, "nothing written when the frame is refused")
        // The responder (higher limit) can still send limit messages; the initiator's receive side stops at 3.
        for n in 0..<limit {
            #expect(try pair.initiator.transport.decrypt(pair.responder.transport.encrypt(bytes("r\(n)"))) == bytes("r\(n)"))
        }
        let fourth = try pair.responder.transport.encrypt(bytes("r3"))
        #expect(throws: NoiseError.nonceExhausted(limit: limit)) { try pair.initiator.transport.decrypt(fourth) }
    }

    @Test("the paymesh default limit is 2^62 and the reserved nonce is never used")
    func defaultLimit() throws {
        #expect(TransportCipher.Configuration.paymesh.nonceLimit == 1 << 62)
        var c = try CipherState(key: SecureBytes.random(count: 32))
        c.setNonce(UInt64.max - 1)
        _ = try c.encryptWithAd([UInt8](), plaintext: [1])
        #expect(c.isExhausted)
        #expect(throws: NoiseError.nonceExhausted(limit: UInt64.max)) { try c.encryptWithAd([UInt8](), plaintext: [1]) }
    }

    @Test("Rekey follows rev 34 §4.2: k = ENCRYPT(k, 2^64−1, ε, zeros)[0..<32]")
    func rekey() throws {
        let k = SecureBytes.random(count: 32)
        var c = try CipherState(key: k)
        c.setNonce(5)
        try c.rekey()
        #expect(c.nonce == 5)
        let old = try ChaChaPoly.Key(secret: k)
        let derived = try ChaChaPoly.seal([UInt8](repeating: 0, count: 32), key: old, nonce: .init(noiseCounter: .max))
        let newKey = try ChaChaPoly.Key(copying: Array(derived[0..<32]))
        let expected = try ChaChaPoly.seal(bytes("after"), key: newKey, nonce: .init(noiseCounter: 5))
        #expect(try c.encryptWithAd([UInt8](), plaintext: bytes("after")) == expected)
    }

    @Test("fast path: frames into one ByteBuffer, decoded one byte at a time, decrypted into one output")
    func byteBufferPath() throws {
        var pair = try handshake()
        var wire = ByteBuffer()
        var sent: [UInt8] = []
        for size in [1, 17, 1000, NoiseLimits.maxPlaintextLength, 3] {
            let chunk = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ size) }
            sent += chunk
            try chunk.withUnsafeBytes { try pair.initiator.transport.encryptFrame($0, appendingTo: &wire) }
        }
        #expect(wire.readableBytes == sent.count + 5 * (2 + 16))
        var decoder = NoiseFrameDecoder()
        var stream = ByteBuffer()
        var frames = 0
        while let byte = wire.readSlice(length: 1) {
            decoder.append(byte)
            while let message = try decoder.nextMessage() {
                frames += 1
                try pair.responder.transport.decrypt(message, appendingTo: &stream)
            }
        }
        #expect(frames == 5)
        #expect(stream.allBytes == sent)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("raw-pointer path encrypts and decrypts in place")
    func inPlace() throws {
        var pair = try handshake()
        let text = bytes("in place, no allocation")
        var buf = text + [UInt8](repeating: 0, count: 16)
        let n = try buf.withUnsafeMutableBytes { b in
            try pair.initiator.transport.encrypt(UnsafeRawBufferPointer(rebasing: b[0..<text.count]), into: b)
        }
        #expect(n == text.count + 16)
        #expect(Array(buf[0..<text.count]) != text)
        let m = try buf.withUnsafeMutableBytes { b in try pair.responder.transport.decrypt(UnsafeRawBufferPointer(b), into: b) }
        #expect(Array(buf[0..<m]) == text)
    }
}
