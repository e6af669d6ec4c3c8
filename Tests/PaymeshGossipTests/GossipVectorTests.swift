import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import PaymeshTestSupport
import Testing

/// Specs/vectors/gossip.json, made with Python msgpack and eth-account (scripts/vectors/gen_gossip_vectors.py).
@Suite("Gossip vectors")
struct GossipVectorTests {
    struct File: Decodable {
        let signing_tag: String
        let frames: [FrameVector]
        let tolerated: [Tolerated]
        let messages: [MessageVector]
        let invalid_frames: [Invalid]
    }
    struct FrameVector: Decodable { let name: String; let type: UInt64; let hex: String }
    struct Tolerated: Decodable { let description: String; let hex: String; let canonical_hex: String }
    struct Invalid: Decodable { let description: String; let hex: String; let expected: String }
    struct MessageVector: Decodable {
        let description: String
        let private_key: String
        let origin: String
        let topic: String
        let kind: UInt64
        let timestamp: UInt64
        let body_hex: String
        let signing_digest: String
        let signature: String
        let id: String
    }

    static let file = try! TestVectors.load(File.self, spec: "gossip.json")

    static func decode(_ hex: String) throws -> GossipFrame {
        var decoder = GossipFrameDecoder()
        let payloads = try decoder.feed(Fixture.hex(hex))
        guard payloads.count == 1 else { throw GossipError(.malformedFrame, "expected one frame") }
        return try GossipFrame(payload: payloads[0])
    }

    @Test func signingTagMatches() { #expect(Array(Self.file.signing_tag.utf8) == GossipMessage.signingTag) }

    @Test func framesDecodeAndReencodeExactly() throws {
        for v in Self.file.frames {
            let frame = try Self.decode(v.hex)
            #expect(frame.type.rawValue == v.type, "\(v.name)")
            #expect(frame.encoded() == Fixture.hex(v.hex), "\(v.name)")
        }
    }

    @Test func toleratedFramesDecodeToTheCanonicalOne() throws {
        for v in Self.file.tolerated {
            #expect(try Self.decode(v.hex).encoded() == Fixture.hex(v.canonical_hex), "\(v.description)")
        }
    }

    @Test func messagesAreReproducedByTheSwiftSigner() throws {
        for v in Self.file.messages {
            let key = IdentityKey(privateKey: try Secp256k1.PrivateKey(rawRepresentation: Fixture.hex(v.private_key)))
            let received = try GossipMessage(body: Fixture.hex(v.body_hex), signature: try Signature65(Fixture.hex(v.signature)))
            try received.verifySignature()
            #expect(received.origin == key.address && received.origin.rawRepresentation == Fixture.hex(v.origin), "\(v.description)")
            #expect(received.topic.name == v.topic && received.payload.kind.rawValue == v.kind && received.timestamp == v.timestamp)
            #expect(received.signingDigest == Fixture.hex(v.signing_digest), "\(v.description)")
            #expect(received.id.bytes == Fixture.hex(v.id), "\(v.description)")
            // Re-signing the parsed payload gives the same body and signature byte for byte (RFC 6979).
            let resigned = try GossipMessage.sign(received.payload, timestamp: v.timestamp, with: key)
            #expect(resigned.body == received.body, "\(v.description)")
            #expect(resigned.signature == received.signature, "\(v.description)")
        }
    }

    /// The error kind the bytes fail with (decoding, then the PUBLISH signature), nil when they pass.
    static func failure(_ bytes: [UInt8]) -> GossipError.Kind? {
        var decoder = GossipFrameDecoder()
        do throws(GossipError) {
            let payloads = try decoder.feed(bytes)
            guard let payload = payloads.first else { return nil }
            if case .publish(let m) = try GossipFrame(payload: payload) { try m.verifySignature() }
            return nil
        } catch {
            return error.kind
        }
    }

    @Test func invalidFramesFailWithTheExpectedKind() {
        for v in Self.file.invalid_frames {
            #expect(Self.failure(Fixture.hex(v.hex)).map { "\($0)" } == v.expected, "\(v.description)")
        }
    }
}
