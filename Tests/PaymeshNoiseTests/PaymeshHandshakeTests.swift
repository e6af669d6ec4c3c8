import NIOCore
import PaymeshCrypto
import PaymeshMsgpack
import PaymeshTestSupport
import Testing
@testable import PaymeshNoise

/// Specs/vectors/handshake.json: a transcript made by independent implementations
/// (noiseprotocol, eth-account, msgpack in Python).
struct HandshakeVector: Decodable {
    struct Side: Decodable {
        let identity_private: String
        let static_private: String
        let ephemeral_private: String
        let address: String
        let noise_static_public: String
        let signed_text: String
        let signature: String
        let features: [String]
        let payload: String
    }
    struct Message: Decodable {
        let sender: String
        let payload: String
        let noise_message: String
        let wire: String
    }
    let protocol_name: String
    let prologue: String
    let initiator: Side
    let responder: Side
    let handshake_hash: String
    let messages: [Message]
}


private func hexBytes(_ hex: String) -> [UInt8] { [UInt8](hex: hex)! }

private func local(_ side: HandshakeVector.Side) throws -> LocalIdentity {
    let identity = IdentityKey(privateKey: try Secp256k1.PrivateKey(rawRepresentation: hexBytes(side.identity_private)))
    return try LocalIdentity(identity: identity, staticKey: try X25519.PrivateKey(rawRepresentation: hexBytes(side.static_private)),
                             features: side.features)
}

private func makePair(_ v: HandshakeVector) throws -> (PaymeshHandshake, PaymeshHandshake) {
    let i = try PaymeshHandshake(role: .initiator, local: local(v.initiator),
                                 ephemeral: try X25519.PrivateKey(rawRepresentation: hexBytes(v.initiator.ephemeral_private)))
    let r = try PaymeshHandshake(role: .responder, local: local(v.responder),
                                 ephemeral: try X25519.PrivateKey(rawRepresentation: hexBytes(v.responder.ephemeral_private)))
    return (i, r)
}

@Suite("Paymesh handshake (transport.md)")
struct PaymeshHandshakeTests {
    let vector: HandshakeVector

    init() throws { vector = try TestVectors.load(HandshakeVector.self, spec: "handshake.json") }

    @Test func prologueAndProtocolMatchTheSpec() {
        #expect(PaymeshHandshake.prologue == hexBytes(vector.prologue))
        #expect(HandshakePattern.xx.protocolName == vector.protocol_name)
    }

    @Test func identityProofsEncodeExactlyAsTheVector() throws {
        for side in [vector.initiator, vector.responder] {
            let me = try local(side)
            #expect(me.address.description == side.address)
            #expect(me.staticKey.publicKey.rawRepresentation.hexString == side.noise_static_public)
            #expect(IdentityProof.signedText(for: me.staticKey.publicKey) == side.signed_text)
            #expect(me.proof.signature.hexString == side.signature) // RFC 6979: deterministic
            #expect(try me.proof.encoded().hexString == side.payload)
            let decoded = try IdentityProof(decoding: hexBytes(side.payload))
            #expect(decoded == me.proof)
            try decoded.verify(noiseStatic: me.staticKey.publicKey)
        }
    }

    @Test func transcriptMatchesByteForByte() throws {
        var (i, r) = try makePair(vector)
        let m = vector.messages
        let m1 = try #require(try i.start())
        #expect(try r.start() == nil)
        #expect(m1.hexString == m[0].noise_message)
        let out1 = try r.receive(m1)
        let m2 = try #require(out1.reply)
        #expect(m2.hexString == m[1].noise_message)
        let out2 = try i.receive(m2)
        let m3 = try #require(out2.reply)
        #expect(m3.hexString == m[2].noise_message)
        var iSession = try #require(out2.established)
        let out3 = try r.receive(m3)
        #expect(out3.reply == nil)
        var rSession = try #require(out3.established)
        #expect(iSession.handshakeHash.hexString == vector.handshake_hash)
        #expect(rSession.handshakeHash.hexString == vector.handshake_hash)
        #expect(iSession.peer.address.description == vector.responder.address)
        #expect(rSession.peer.address.description == vector.initiator.address)
        #expect(iSession.peer.features == vector.responder.features)
        // Transport messages, with the 2-byte wire prefix.
        for msg in m[3...] {
            var wire = ByteBuffer()
            if msg.sender == "initiator" {
                try iSession.transport.encryptFrame(ByteBuffer(bytes: hexBytes(msg.payload)), appendingTo: &wire)
            } else {
                try rSession.transport.encryptFrame(ByteBuffer(bytes: hexBytes(msg.payload)), appendingTo: &wire)
            }
            #expect(Array(wire.readableBytesView).hexString == msg.wire)
            var decoder = NoiseFrameDecoder()
            decoder.append(wire)
            let frame = try #require(try decoder.nextMessage())
            var plain = ByteBuffer()
            if msg.sender == "initiator" {
                _ = try rSession.transport.decrypt(frame, appendingTo: &plain)
            } else {
                _ = try iSession.transport.decrypt(frame, appendingTo: &plain)
            }
            #expect(Array(plain.readableBytesView).hexString == msg.payload)
        }
    }

    @Test func wireFormHasTheTwoByteLengthPrefix() throws {
        for msg in vector.messages {
            let wire = hexBytes(msg.wire), body = hexBytes(msg.noise_message)
            #expect(Int(wire[0]) << 8 | Int(wire[1]) == body.count)
            #expect(Array(wire[2...]) == body)
        }
    }

    @Test func randomIdentitiesHandshakeBothWays() throws {
        let a = try LocalIdentity(identity: .generate(), features: ["payments/1"])
        let b = try LocalIdentity(identity: .generate(), features: [])
        var i = try PaymeshHandshake(role: .initiator, local: a, expectedPeer: b.address)
        var r = try PaymeshHandshake(role: .responder, local: b)
        let o1 = try r.receive(try #require(try i.start()))
        let o2 = try i.receive(try #require(o1.reply))
        let o3 = try r.receive(try #require(o2.reply))
        #expect(o2.established?.peer.address == b.address)
        #expect(o3.established?.peer.address == a.address)
        #expect(o3.established?.peer.features == ["payments/1"])
    }

    @Test func selfConnectionIsRefused() throws {
        let me = try IdentityKey.generate()
        let a = try LocalIdentity(identity: me, features: [])
        let b = try LocalIdentity(identity: me, features: []) // same identity, other static key
        var i = try PaymeshHandshake(role: .initiator, local: a)
        var r = try PaymeshHandshake(role: .responder, local: b)
        let o1 = try r.receive(try #require(try i.start()))
        #expect { try i.receive(try #require(o1.reply)) } throws: { ($0 as? NoiseError)?.isSelfConnection == true }
    }

    @Test func unexpectedPeerIsRefused() throws {
        let a = try LocalIdentity(identity: .generate(), features: [])
        let b = try LocalIdentity(identity: .generate(), features: [])
        var i = try PaymeshHandshake(role: .initiator, local: a, expectedPeer: IdentityKey.generate().address)
        var r = try PaymeshHandshake(role: .responder, local: b)
        let o1 = try r.receive(try #require(try i.start()))
        #expect { try i.receive(try #require(o1.reply)) } throws: { ($0 as? NoiseError)?.isUnexpectedPeer == true }
    }

    /// A proof whose signature is valid but made for another static key (e.g. replayed from
    /// another connection) must not authenticate this one.
    @Test func proofForAnotherStaticKeyIsRejected() throws {
        let identity = IdentityKey.generate()
        let other = X25519.PrivateKey()
        let proof = try IdentityProof.make(identity: identity, noiseStatic: other.publicKey, features: [])
        let decoded = try IdentityProof(decoding: try proof.encoded())
        #expect { try decoded.verify(noiseStatic: X25519.PrivateKey().publicKey) } throws: {
            ($0 as? NoiseError)?.isInvalidIdentityProof == true
        }
        try decoded.verify(noiseStatic: other.publicKey)
    }

    static func proofMap(v: MsgpackValue = .uint(1), addr: MsgpackValue? = .binary([UInt8](repeating: 1, count: 20)),
                         sig: MsgpackValue? = .binary([UInt8](repeating: 2, count: 65)),
                         features: MsgpackValue? = .array([])) -> [UInt8] {
        var pairs = [MsgpackPair(.string("v"), v)]
        if let addr { pairs.append(MsgpackPair(.string("addr"), addr)) }
        if let sig { pairs.append(MsgpackPair(.string("sig"), sig)) }
        if let features { pairs.append(MsgpackPair(.string("features"), features)) }
        return try! MsgpackEncoder.encode(.map(pairs))
    }

    @Test(arguments: [
        ("not a map", [0x01]),
        ("truncated", Array(proofMap().prefix(10))),
        ("missing sig", proofMap(sig: nil)),
        ("missing addr", proofMap(addr: nil)),
        ("missing features", proofMap(features: nil)),
        ("wrong version", proofMap(v: .uint(2))),
        ("negative version", proofMap(v: .int(-1))),
        ("short addr", proofMap(addr: .binary([UInt8](repeating: 1, count: 19)))),
        ("addr as str", proofMap(addr: .string("0x0101010101010101010101010101010101010101"))),
        ("short sig", proofMap(sig: .binary([UInt8](repeating: 2, count: 64)))),
        ("feature not str", proofMap(features: .array([.uint(1)]))),
        ("empty feature", proofMap(features: .array([.string("")]))),
        ("33 features", proofMap(features: .array([MsgpackValue](repeating: .string("f"), count: 33)))),
        ("oversize", [UInt8](repeating: 0xc0, count: 1025)),
    ] as [(String, [UInt8])])
    func malformedProofsAreTypedErrors(_ name: String, _ encoded: [UInt8]) {
        #expect(throws: NoiseError.self, "\(name)") { try IdentityProof(decoding: encoded) }
    }

    /// issue 7 item 13, transport.md §4.1: "MUST reject the proof … if a key appears twice" —
    /// a known key (the later value must not silently win) or an unknown one.
    @Test(arguments: ["v", "addr", "sig", "features", "x-unknown"])
    func aProofWithADuplicatedKeyIsRejected(_ key: String) throws {
        var pairs = [MsgpackPair(.string("v"), .uint(1)),
                     MsgpackPair(.string("addr"), .binary([UInt8](repeating: 1, count: 20))),
                     MsgpackPair(.string("sig"), .binary([UInt8](repeating: 2, count: 65))),
                     MsgpackPair(.string("features"), .array([]))]
        if key == "x-unknown" { pairs.append(MsgpackPair(.string(key), .uint(0))) }
        pairs.append(try #require(pairs.first { $0.key.stringValue == key }))
        let encoded = try MsgpackEncoder.encode(.map(pairs))
        #expect { try IdentityProof(decoding: encoded) } throws: {
            ($0 as? NoiseError)?.isInvalidIdentityProof == true && "\($0)".contains("twice")
        }
    }

    @Test func wellFormedProofWithBadSignatureDoesNotVerify() throws {
        let proof = try IdentityProof(decoding: Self.proofMap())
        #expect { try proof.verify(noiseStatic: X25519.PrivateKey().publicKey) } throws: {
            ($0 as? NoiseError)?.isInvalidIdentityProof == true
        }
    }

    @Test func tamperedProofSignatureFails() throws {
        var (i, r) = try makePair(vector)
        _ = try r.receive(try #require(try i.start()))
        // Message 2 from the vector, with one ciphertext byte flipped: AEAD must fail.
        var m2 = hexBytes(vector.messages[1].noise_message)
        m2[100] ^= 0x01
        #expect(throws: NoiseError.self) { try i.receive(m2) }
    }

    @Test func nonEmptyFirstMessageIsRejected() throws {
        var i = try HandshakeState(pattern: .xx, role: .initiator, prologue: PaymeshHandshake.prologue,
                                   localStatic: X25519.PrivateKey())
        let m1 = try i.writeMessage([UInt8]([1, 2, 3]))
        var r = try PaymeshHandshake(role: .responder, local: LocalIdentity(identity: .generate(), features: []))
        _ = try r.start()
        #expect(throws: NoiseError.self) { try r.receive(m1) }
    }

    @Test func replayedHandshakeMessageIsRejected() throws {
        var (i, r) = try makePair(vector)
        let m1 = try #require(try i.start())
        _ = try r.start()
        _ = try r.receive(m1)
        #expect(throws: NoiseError.self) { try r.receive(m1) } // m1 again where m3 belongs
    }
}
