import Foundation
import PaymeshCrypto
import PaymeshMessages
import PaymeshOnion
import PaymeshTestSupport
import Testing

/// Specs/vectors/onion.json, made by scripts/vectors/gen_onion_vectors.py (an independent
/// Python implementation): Paymesh payloads in a 3-hop onion, peeling, a failure from hop 1.
@Suite("Paymesh onion vectors")
struct PaymeshOnionVectorTests {
    struct Vector: Decodable {
        struct Hop: Decodable {
            let private_key: String
            let public_key: String
            let ephemeral_key: String
            let shared_secret: String
            let payload_hex: String
            let next_onion: String?
        }
        struct Failure: Decodable {
            let hop_index: Int
            let code: UInt16
            let data: String
            let message: String
            let packet_from_failing_hop: String
            let packet_at_origin: String
        }
        struct Invalid: Decodable { let why: String; let hex: String }
        let session_key: String
        let associated_data: String
        let preimage: String
        let hops: [Hop]
        let onion: String
        let failure: Failure
        let invalid_payloads: [Invalid]
    }

    static func vector() throws -> Vector { try TestVectors.load(Vector.self, spec: "onion.json") }

    /// The payloads the vector's route carries, built from typed values.
    static func payloads(_ v: Vector) throws -> [HopPayload] {
        let hash = try Hash32(try hex(v.associated_data))
        let final = Amount(18_446_744_073_709_551_616_000)
        let feeB = Amount(1_000 + final.atomicUnits * 100 / 1_000_000)
        let t0: UInt64 = 1_767_225_600_000
        let ch1 = try ChannelID(SHA256.hash(Array("channel A-B".utf8)))
        let ch2 = try ChannelID(SHA256.hash(Array("channel B-C".utf8)))
        return [
            .forward(.init(nextChannel: ch1, amountToForward: Amount(final.atomicUnits + feeB.atomicUnits), outgoingExpiry: t0 + 80 * 60_000)),
            .forward(.init(nextChannel: ch2, amountToForward: final, outgoingExpiry: t0 + 40 * 60_000)),
            .final(.init(amount: final, expiry: t0 + 40 * 60_000, totalAmount: final, paymentHash: hash,
                         preimage: try Hash32(try hex(v.preimage)))),
        ]
    }

    @Test func typedPayloadsEncodeToTheVectorBytes() throws {
        let v = try Self.vector()
        for (payload, hop) in zip(try Self.payloads(v), v.hops) {
            #expect(payload.encoded().hexString == hop.payload_hex)
            #expect(try HopPayload(bytes: try hex(hop.payload_hex)) == payload)
        }
    }

    @Test func constructionMatches() throws {
        let v = try Self.vector()
        let hops = try zip(v.hops, try Self.payloads(v)).map { OnionHop(nodeKey: try publicKey($0.public_key), payload: $1.encoded()) }
        let built = try OnionPacket.build(sessionKey: try privateKey(v.session_key), hops: hops, associatedData: try hex(v.associated_data))
        #expect(built.packet.bytes.hexString == v.onion)
        for (secret, hop) in zip(built.sharedSecrets, v.hops) {
            #expect(secret.withUnsafeBytes { [UInt8]($0) }.hexString == hop.shared_secret)
        }
    }

    @Test func eachHopPeelsItsPaymeshPayload() throws {
        let v = try Self.vector()
        let expected = try Self.payloads(v)
        var packet = try OnionPacket(bytes: try hex(v.onion))
        for (i, hop) in v.hops.enumerated() {
            #expect(packet.ephemeralKey.compressedRepresentation.hexString == hop.ephemeral_key)
            let peeled = try packet.peel(nodeKey: try privateKey(hop.private_key), associatedData: try hex(v.associated_data))
            let payload = try peeled.paymeshPayload()
            #expect(payload == expected[i])
            // Only the final hop's payload carries the preimage; intermediate hops never see it.
            if case .final(let f) = payload { #expect(f.preimage != nil && peeled.isFinalHop) } else { #expect(!peeled.isFinalHop) }
            #expect(peeled.next?.bytes.hexString == hop.next_onion)
            if let next = peeled.next { packet = next }
        }
    }

    @Test func failureFromTheSecondHopIsAttributed() throws {
        let v = try Self.vector()
        let secrets = try v.hops.map { try SharedSecret(copying: try hex($0.shared_secret)) }
        let failure = try RoutingFailure(code: PaymeshErrorCode(rawValue: v.failure.code), data: try hex(v.failure.data))
        #expect(failure.message.hexString == v.failure.message)
        let fromHop = try FailurePacket.create(sharedSecret: secrets[v.failure.hop_index], failure: failure)
        #expect(fromHop.hexString == v.failure.packet_from_failing_hop)
        #expect(try FailurePacket.wrap(fromHop, sharedSecret: secrets[0]).hexString == v.failure.packet_at_origin)
        let attributed = try FailurePacket.attribute(try hex(v.failure.packet_at_origin), sharedSecrets: secrets)
        #expect(attributed.hopIndex == 1)
        #expect(attributed.failure.code == .temporaryChannelFailure)
        #expect(attributed.failure.data == (try hex(v.failure.data)))
    }

    @Test func malformedPayloadsAreTypedErrors() throws {
        let v = try Self.vector()
        #expect(v.invalid_payloads.count >= 10)
        for invalid in v.invalid_payloads {
            let error = #expect(throws: OnionError.self, "\(invalid.why)") { try HopPayload(bytes: try hex(invalid.hex)) }
            #expect(error?.wireCode == .invalidOnion, "\(invalid.why)")
        }
        // Oversized, and every truncation of a valid payload.
        #expect(throws: OnionError.self) { try HopPayload(bytes: [UInt8](repeating: 0x90, count: HopPayload.maxEncodedLength + 1)) }
        let valid = try hex(v.hops[2].payload_hex)
        for n in 0..<valid.count {
            #expect(throws: OnionError.self) { try HopPayload(bytes: Array(valid.prefix(n))) }
        }
    }
}
