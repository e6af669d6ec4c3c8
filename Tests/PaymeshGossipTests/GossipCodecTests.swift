import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import Testing

@Suite("Gossip codec")
struct GossipCodecTests {
    static let message = Fixture.nodeMessage("alice")
    static let frames: [GossipFrame] = [
        .subscribe(.channels), .unsubscribe(.services), .publish(message),
        .ihave(.nodes, [message.id, try! GossipMessageID([UInt8](repeating: 9, count: 32))]),
        .iwant([message.id]), .graft(.nodes), .prune(.channels, backoffSeconds: 60),
    ]

    @Test func everyFrameRoundTrips() throws {
        for frame in Self.frames {
            let bytes = frame.encoded()
            var decoder = GossipFrameDecoder()
            let payloads = try decoder.feed(bytes)
            #expect(payloads.count == 1)
            #expect(try GossipFrame(payload: payloads[0]) == frame)
            #expect(decoder.bufferedBytes == 0)
        }
    }

    @Test func dripFeedYieldsTheSameFrames() throws {
        let stream = Self.frames.flatMap { $0.encoded() }
        var decoder = GossipFrameDecoder()
        var decoded: [GossipFrame] = []
        for byte in stream {
            for payload in try decoder.feed([byte]) { decoded.append(try GossipFrame(payload: payload)) }
        }
        #expect(decoded == Self.frames)
        // Coalesced: all at once.
        var whole = GossipFrameDecoder()
        #expect(try whole.feed(stream).map { try GossipFrame(payload: $0) } == Self.frames)
    }

    @Test func badLengthLosesFramingForGood() throws {
        for prefix: [UInt8] in [[0, 0, 0, 0], [0, 1, 0, 1], [0xff, 0xff, 0xff, 0xff]] {
            var decoder = GossipFrameDecoder()
            #expect(try decoder.feed(prefix.prefix(3)).isEmpty, "no verdict before 4 bytes")
            #expect(throws: GossipError.self) { try decoder.feed(prefix.suffix(1)) }
            do { _ = try decoder.feed(Self.frames[0].encoded()); Issue.record("decoder must stay failed") } catch {
                #expect(error.kind == .badFrameLength && error.closesStream)
            }
        }
        var max = GossipFrameDecoder()
        #expect(try max.feed([0, 1, 0, 0]).isEmpty, "65,536 is allowed")
        #expect(max.bufferedBytes == 4)
    }

    @Test func signedMessageParsesAndVerifies() throws {
        let m = Self.message
        let again = try GossipMessage(body: m.body, signature: m.signature)
        #expect(again == m)
        #expect(m.origin == Fixture.alice.address && m.topic == .nodes && m.timestamp == Fixture.t0)
        #expect(m.id.bytes == Keccak256.hash(m.body))
        try m.verifySignature()
        // Another key's signature over the same body is refused.
        let other = try GossipMessage.sign(Fixture.nodePayload("alice"), timestamp: Fixture.t0, with: Fixture.bob)
        let forged = try GossipMessage(body: m.body, signature: other.signature)
        #expect(throws: GossipError(.invalidSignature, "signature is not by the origin")) { try forged.verifySignature() }
    }

    @Test func truncatedAndCorruptPayloadsAreTypedErrors() {
        for frame in Self.frames {
            let payload = frame.payload()
            for cut in stride(from: 0, to: payload.count, by: max(1, payload.count / 40)) {
                do { _ = try GossipFrame(payload: Array(payload.prefix(cut))) } catch {
                    #expect(error.kind != .badFrameLength)
                    continue
                }
                Issue.record("a truncated frame decoded")
            }
            // Flip each byte in turn: never a crash; whatever decodes re-encodes to a decodable frame.
            for i in payload.indices {
                var bad = payload
                bad[i] ^= 0x5a
                if let decoded = try? GossipFrame(payload: bad) { #expect((try? GossipFrame(payload: decoded.payload())) == decoded) }
            }
        }
    }

    @Test func payloadRulesAreChecked() {
        #expect(throws: GossipError.self) { try ChannelUpdate(channelID: Fixture.channelID, feeBase: Amount(0), feePPM: 1_000_001,
                                                               htlcMinimum: Amount(0), htlcMaximum: Amount(1), expiryDeltaMillis: 1, enabled: true) }
        #expect(throws: GossipError.self) { try ChannelUpdate(channelID: Fixture.channelID, feeBase: Amount(0), feePPM: 1,
                                                               htlcMinimum: Amount(2), htlcMaximum: Amount(1), expiryDeltaMillis: 1, enabled: true) }
        #expect(throws: GossipError.self) { try NodeAnnouncement(alias: String(repeating: "a", count: 33), addresses: [], features: [],
                                                                  onionKey: Fixture.alice.publicKey) }
        #expect(throws: GossipError.self) { try ServiceAnnouncement(name: "x", description: "", unit: .call, price: Amount(1),
                                                                     asset: try! Asset(id: "USDC", decimals: 6), endpoint: .http("ftp://x"), expires: 1) }
        // A service may not claim an expiry beyond 30 days after its timestamp.
        #expect(throws: GossipError.self) {
            try GossipMessage.sign(.service(Fixture.service("s", expires: Fixture.t0 + 31 * 86_400_000)), timestamp: Fixture.t0, with: Fixture.alice)
        }
    }
}
