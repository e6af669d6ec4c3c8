import Foundation
import Testing
import PaymeshCrypto
import PaymeshNoise

@Suite("HandshakeState")
struct HandshakeStateTests {
    @Test("every supported pattern completes with random keys and agrees on h and keys",
          arguments: HandshakePattern.all)
    func roundTrip(pattern: HandshakePattern) throws {
        var pair = try handshake(pattern)
        #expect(pair.initiator.handshakeHash == pair.responder.handshakeHash)
        #expect(pair.initiator.handshakeHash.count == 32)
        let a = try pair.initiator.transport.encrypt(bytes("ping"))
        #expect(try pair.responder.transport.decrypt(a) == bytes("ping"))
        let b = try pair.responder.transport.encrypt(bytes("pong"))
        #expect(try pair.initiator.transport.decrypt(b) == bytes("pong"))
    }

    @Test("XX: each side learns the other's static key; fresh ephemerals give fresh h")
    func xxStatics() throws {
        let iStatic = X25519.PrivateKey(), rStatic = X25519.PrivateKey()
        func run() throws -> (HandshakeResult, HandshakeResult) {
            var i = try HandshakeState(pattern: .xx, role: .initiator, prologue: bytes("paymesh/1"), localStatic: iStatic)
            var r = try HandshakeState(pattern: .xx, role: .responder, prologue: bytes("paymesh/1"), localStatic: rStatic)
            let m1 = try i.writeMessage()
            #expect(m1.count == 32)
            #expect(try r.readMessage(m1) == [])
            let m2 = try r.writeMessage(bytes("proof-r"))
            #expect(m2.count == 32 + 48 + 7 + 16)
            #expect(try i.readMessage(m2) == bytes("proof-r"))
            #expect(i.remoteStaticKey == rStatic.publicKey)
            let m3 = try i.writeMessage(bytes("proof-i"))
            #expect(m3.count == 48 + 7 + 16)
            #expect(try r.readMessage(m3) == bytes("proof-i"))
            return (try i.result(), try r.result())
        }
        let (i1, r1) = try run()
        #expect(i1.remoteStaticKey == rStatic.publicKey)
        #expect(r1.remoteStaticKey == iStatic.publicKey)
        let (i2, _) = try run()
        #expect(i1.handshakeHash != i2.handshakeHash)
    }

    @Test("different prologues make the handshake fail")
    func prologueMismatch() throws {
        var i = try HandshakeState(pattern: .xx, role: .initiator, prologue: bytes("paymesh/1"), localStatic: .init())
        var r = try HandshakeState(pattern: .xx, role: .responder, prologue: bytes("paymesh/2"), localStatic: .init())
        _ = try r.readMessage(i.writeMessage())
        let m2 = try r.writeMessage(bytes("x"))
        #expect(throws: NoiseError.decryptFailed()) { try i.readMessage(m2) }
    }

    @Test("a tampered handshake message fails with decryptFailed and aborts the handshake")
    func tampered() throws {
        var i = try HandshakeState(pattern: .xx, role: .initiator, localStatic: .init())
        var r = try HandshakeState(pattern: .xx, role: .responder, localStatic: .init())
        _ = try r.readMessage(i.writeMessage())
        var m2 = try r.writeMessage(bytes("proof"))
        let good = m2
        m2[40] ^= 0x01 // inside the encrypted static key
        var copy = i
        #expect(throws: NoiseError.decryptFailed()) { try i.readMessage(m2) }
        #expect(throws: NoiseError.handshakeFailed()) { try i.readMessage(good) }
        #expect(throws: NoiseError.handshakeFailed()) { try i.result() }
        // The untouched message still works on an unaborted copy: the failure was the tamper.
        var copy2 = copy
        #expect(try copy.readMessage(good) == bytes("proof"))
        var tail = good
        tail[tail.count - 1] ^= 0x80 // payload tag
        #expect(throws: NoiseError.decryptFailed()) { try copy2.readMessage(tail) }
    }

    @Test("wrong turn: reading when it is our turn to write, and the reverse")
    func wrongTurn() throws {
        var i = try HandshakeState(pattern: .xx, role: .initiator, localStatic: .init())
        var r = try HandshakeState(pattern: .xx, role: .responder, localStatic: .init())
        #expect(i.isWriteTurn && !r.isWriteTurn)
        #expect(throws: NoiseError.unexpectedMessage("it is our turn to send")) { try i.readMessage([UInt8](repeating: 9, count: 32)) }
        #expect(throws: NoiseError.unexpectedMessage("it is the peer's turn to send")) { try r.writeMessage() }
        // Neither mistake broke the states.
        let m1 = try i.writeMessage()
        #expect(throws: NoiseError.unexpectedMessage("it is the peer's turn to send")) { try i.writeMessage() }
        _ = try r.readMessage(m1)
        #expect(throws: NoiseError.handshakeNotComplete()) { try r.result() }
    }

    @Test("after completion both read and write are refused")
    func afterCompletion() throws {
        var i = try HandshakeState(pattern: .nn, role: .initiator)
        var r = try HandshakeState(pattern: .nn, role: .responder)
        _ = try r.readMessage(i.writeMessage())
        _ = try i.readMessage(r.writeMessage())
        #expect(i.isComplete && r.isComplete)
        #expect(!i.isWriteTurn)
        #expect(throws: NoiseError.handshakeAlreadyComplete()) { try i.writeMessage() }
        #expect(throws: NoiseError.handshakeAlreadyComplete()) { try r.readMessage([UInt8](repeating: 0, count: 48)) }
    }

    @Test("truncated messages are typed errors, never crashes", arguments: [0, 1, 31, 32, 47, 79, 80, 95])
    func truncated(length: Int) throws {
        var i = try HandshakeState(pattern: .xx, role: .initiator, localStatic: .init())
        var r = try HandshakeState(pattern: .xx, role: .responder, localStatic: .init())
        _ = try r.readMessage(i.writeMessage())
        let m2 = try r.writeMessage() // 32 + 48 + 16 = 96 bytes
        #expect(m2.count == 96)
        #expect(throws: NoiseError.self) { try i.readMessage(Array(m2.prefix(length))) }
        if length < 32 {
            #expect(throws: NoiseError.truncatedMessage(needed: 32, available: length)) {
                var fresh = try HandshakeState(pattern: .xx, role: .responder, localStatic: .init())
                return try fresh.readMessage(Array(m2.prefix(length)))
            }
        }
    }

    @Test("a low-order ephemeral from the peer is invalidPublicKey")
    func lowOrderEphemeral() throws {
        var i = try HandshakeState(pattern: .xx, role: .initiator, localStatic: .init())
        var r = try HandshakeState(pattern: .xx, role: .responder, localStatic: .init())
        _ = try r.readMessage(i.writeMessage())
        var m2 = try r.writeMessage()
        for k in 0..<32 { m2[k] = 0 }
        #expect(throws: NoiseError.invalidPublicKey()) { try i.readMessage(m2) }
        // Responder side: a zero ephemeral in message 1 makes the ee DH fail when it writes.
        var r2 = try HandshakeState(pattern: .xx, role: .responder, localStatic: .init())
        _ = try r2.readMessage([UInt8](repeating: 0, count: 32))
        #expect(throws: NoiseError.invalidPublicKey()) { try r2.writeMessage() }
    }

    @Test("messages above 65535 bytes are refused on both sides")
    func oversize() throws {
        var i = try HandshakeState(pattern: .nn, role: .initiator)
        // 32 (e) + payload; NN message 1 has no key yet, so no tag.
        #expect(throws: NoiseError.messageTooLarge(length: 65_536, maximum: 65_535)) {
            try i.writeMessage([UInt8](repeating: 1, count: 65_504))
        }
        // A failed write changes nothing: a maximal message still goes out.
        let m1 = try i.writeMessage([UInt8](repeating: 1, count: 65_503))
        #expect(m1.count == 65_535)
        var r = try HandshakeState(pattern: .nn, role: .responder)
        #expect(throws: NoiseError.messageTooLarge(length: 65_536, maximum: 65_535)) {
            try r.readMessage(m1 + [0])
        }
    }

    @Test("missing keys are reported at construction")
    func missingKeys() {
        #expect(throws: NoiseError.missingKey("local static")) { try HandshakeState(pattern: .xx, role: .initiator) }
        #expect(throws: NoiseError.missingKey("remote static")) {
            try HandshakeState(pattern: .ik, role: .initiator, localStatic: .init())
        }
        #expect(throws: NoiseError.unsupportedProtocol("Noise_XX_448_ChaChaPoly_SHA256")) {
            try HandshakePattern(protocolName: "Noise_XX_448_ChaChaPoly_SHA256")
        }
    }

    @Test("IK against the wrong responder key fails on the responder")
    func ikWrongKey() throws {
        let rStatic = X25519.PrivateKey()
        var i = try HandshakeState(pattern: .ik, role: .initiator, localStatic: .init(),
                                   remoteStatic: X25519.PrivateKey().publicKey)
        var r = try HandshakeState(pattern: .ik, role: .responder, localStatic: rStatic)
        #expect(throws: NoiseError.decryptFailed()) { try r.readMessage(i.writeMessage()) }
    }
}
