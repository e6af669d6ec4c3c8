import Foundation
import Testing
import PaymeshCrypto
import PaymeshTestSupport
import PaymeshNoise

/// Cacophony's vector format (only the fields the 25519/ChaChaPoly/SHA256 vectors use).
struct CacophonyFile: Decodable {
    let source: String
    let vectors: [CacophonyVector]
}

struct CacophonyVector: Decodable {
    struct Message: Decodable {
        let payload: String
        let ciphertext: String
    }
    let protocol_name: String
    let init_prologue: String
    let init_static: String?
    let init_ephemeral: String
    let init_remote_static: String?
    let resp_prologue: String
    let resp_static: String?
    let resp_ephemeral: String
    let resp_remote_static: String?
    let handshake_hash: String
    let messages: [Message]
}

@Suite("Noise rev 34: cacophony vectors")
struct CacophonyVectorTests {
    static func loadVectors() throws -> [CacophonyVector] {
        try TestVectors.load(CacophonyFile.self, test: "noise-25519-chachapoly-sha256.json").vectors
    }

    @Test("the file holds the four patterns we claim to pass")
    func coverage() throws {
        let names = Set(try Self.loadVectors().map(\.protocol_name))
        #expect(names == Set(["NN", "XK", "IK", "XX"].map { "Noise_\($0)_25519_ChaChaPoly_SHA256" }))
    }

    @Test("every vector: handshake messages, handshake hash, transport messages")
    func allVectors() throws {
        let vectors = try Self.loadVectors()
        #expect(!vectors.isEmpty)
        for v in vectors { try run(v) }
    }

    func run(_ v: CacophonyVector) throws {
        let pattern = try HandshakePattern(protocolName: v.protocol_name)
        func priv(_ s: String?) throws -> X25519.PrivateKey? { try s.map { try X25519.PrivateKey(rawRepresentation: hex($0)) } }
        func pub(_ s: String?) throws -> X25519.PublicKey? { try s.map { try X25519.PublicKey(rawRepresentation: hex($0)) } }
        var initiator = try HandshakeState(pattern: pattern, role: .initiator, prologue: hex(v.init_prologue),
                                           localStatic: priv(v.init_static), remoteStatic: pub(v.init_remote_static),
                                           localEphemeral: priv(v.init_ephemeral), transport: .noise)
        var responder = try HandshakeState(pattern: pattern, role: .responder, prologue: hex(v.resp_prologue),
                                           localStatic: priv(v.resp_static), remoteStatic: pub(v.resp_remote_static),
                                           localEphemeral: priv(v.resp_ephemeral), transport: .noise)
        var transports: (TransportCipher, TransportCipher)? = nil
        var handshakeMessages = 0
        for (index, message) in v.messages.enumerated() {
            let fromInitiator = index % 2 == 0
            let payload = hex(message.payload)
            let ciphertext = hex(message.ciphertext)
            let context = "\(v.protocol_name) message \(index)"
            if var (i, r) = transports {
                if fromInitiator {
                    #expect(try i.encrypt(payload) == ciphertext, "\(context)")
                    #expect(try r.decrypt(ciphertext) == payload, "\(context)")
                } else {
                    #expect(try r.encrypt(payload) == ciphertext, "\(context)")
                    #expect(try i.decrypt(ciphertext) == payload, "\(context)")
                }
                transports = (i, r)
                continue
            }
            handshakeMessages += 1
            if fromInitiator {
                #expect(try initiator.writeMessage(payload) == ciphertext, "\(context)")
                #expect(try responder.readMessage(ciphertext) == payload, "\(context)")
            } else {
                #expect(try responder.writeMessage(payload) == ciphertext, "\(context)")
                #expect(try initiator.readMessage(ciphertext) == payload, "\(context)")
            }
            if initiator.isComplete && responder.isComplete {
                let i = try initiator.result(), r = try responder.result()
                #expect(i.handshakeHash == hex(v.handshake_hash), "\(v.protocol_name) handshake hash")
                #expect(r.handshakeHash == hex(v.handshake_hash), "\(v.protocol_name) handshake hash")
                let respStatic = try priv(v.resp_static)?.publicKey
                let initStatic = try priv(v.init_static)?.publicKey
                #expect(i.remoteStaticKey == respStatic)
                #expect(r.remoteStaticKey == initStatic)
                transports = (i.transport, r.transport)
            }
        }
        #expect(handshakeMessages == pattern.messages.count, "\(v.protocol_name) handshake length")
        #expect(transports != nil, "\(v.protocol_name) reached transport")
        #expect(v.messages.count > pattern.messages.count, "\(v.protocol_name) has transport messages")
    }
}
