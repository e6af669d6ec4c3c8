import Foundation
import PaymeshCrypto
import PaymeshMessages
import PaymeshOnion
import Testing

/// Tampering, wrong keys, truncation and route limits: every failure is a typed `OnionError`.
@Suite("Sphinx robustness")
struct SphinxRobustnessTests {
    static let ad = [UInt8](repeating: 0x42, count: 32)

    static func keys(_ n: Int) throws -> [Secp256k1.PrivateKey] {
        try (1...n).map { i in try Secp256k1.PrivateKey(ephemeralRawRepresentation: [UInt8](repeating: UInt8(i), count: 32)) }
    }

    static func onion(hops n: Int, payloadLength: Int = 40) throws -> (BuiltOnion, [Secp256k1.PrivateKey]) {
        let keys = try keys(n)
        let hops = keys.enumerated().map { OnionHop(nodeKey: $1.publicKey, payload: [UInt8](repeating: UInt8($0 + 1), count: payloadLength)) }
        let session = try Secp256k1.PrivateKey(ephemeralRawRepresentation: [UInt8](repeating: 0x41, count: 32))
        return (try OnionPacket.build(sessionKey: session, hops: hops, associatedData: ad), keys)
    }

    @Test func everyBitFlipIsATypedError() throws {
        let (built, keys) = try Self.onion(hops: 3)
        let bytes = built.packet.bytes
        var counts: [String: Int] = [:]
        for bit in 0..<(bytes.count * 8) {
            var tampered = bytes
            tampered[bit / 8] ^= 1 << (bit % 8)
            do {
                _ = try OnionPacket.peel(bytes: tampered, nodeKey: keys[0], associatedData: Self.ad)
                Issue.record("bit \(bit) flipped and the onion still peeled")
            } catch {
                #expect(error.wireCode == .invalidOnion)
                let kind = bit < 8 ? "version" : error.isHMACMismatch ? "hmac" : "key"
                counts[kind, default: 0] += 1
            }
        }
        #expect(counts["version"] == 8)
        #expect(counts["hmac", default: 0] >= (OnionLimits.hopPayloadsLength + OnionLimits.hmacLength) * 8)
        #expect(counts.values.reduce(0, +) == bytes.count * 8)
    }

    @Test func wrongKeyOrAssociatedDataFailsTheHMAC() throws {
        let (built, keys) = try Self.onion(hops: 3)
        #expect { try built.packet.peel(nodeKey: keys[1], associatedData: Self.ad) } throws: { ($0 as? OnionError)?.isHMACMismatch == true }
        var otherAD = Self.ad
        otherAD[0] ^= 1
        #expect { try built.packet.peel(nodeKey: keys[0], associatedData: otherAD) } throws: { ($0 as? OnionError)?.isHMACMismatch == true }
        // The second hop's packet cannot be peeled by the first hop again (replay to the wrong node).
        let next = try #require(try built.packet.peel(nodeKey: keys[0], associatedData: Self.ad).next)
        #expect { try next.peel(nodeKey: keys[0], associatedData: Self.ad) } throws: { ($0 as? OnionError)?.isHMACMismatch == true }
    }

    @Test func everyTruncationOrExtensionIsAWrongLength() throws {
        let (built, keys) = try Self.onion(hops: 2)
        let bytes = built.packet.bytes
        for n in 0..<bytes.count {
            #expect(throws: OnionError.wrongPacketLength(n)) { try OnionPacket.peel(bytes: bytes.prefix(n), nodeKey: keys[0], associatedData: Self.ad) }
        }
        #expect(throws: OnionError.wrongPacketLength(bytes.count + 1)) { try OnionPacket(bytes: bytes + [0]) }
    }

    @Test func unknownVersionAndOffCurveKeyAreRejected() throws {
        let (built, _) = try Self.onion(hops: 1)
        var bytes = built.packet.bytes
        bytes[0] = 1
        #expect(throws: OnionError.unknownVersion(1)) { try OnionPacket(bytes: bytes) }
        bytes = built.packet.bytes
        bytes[1] = 0x04
        #expect(throws: OnionError.invalidEphemeralKey()) { try OnionPacket(bytes: bytes) }
        bytes = built.packet.bytes
        for i in 2..<34 { bytes[i] = 0xff } // x ≥ p is not a field element
        #expect(throws: OnionError.invalidEphemeralKey()) { try OnionPacket(bytes: bytes) }
    }

    @Test func oneToTwentyHopsRoundTripAndTheLimitsHold() throws {
        for n in [1, 2, 5, 20] {
            let (built, keys) = try Self.onion(hops: n, payloadLength: 20)
            var packet = built.packet
            for i in 0..<n {
                let peeled = try packet.peel(nodeKey: keys[i], associatedData: Self.ad)
                #expect(peeled.payload == [UInt8](repeating: UInt8(i + 1), count: 20))
                #expect(peeled.sharedSecret.constantTimeEquals(built.sharedSecrets[i]))
                #expect(peeled.isFinalHop == (i == n - 1))
                if let next = peeled.next { packet = next }
            }
        }
        // 21 hops, payloads that overflow 1300 bytes, an empty route or payload: invalid routes.
        #expect { try Self.onion(hops: 21, payloadLength: 1) } throws: { ($0 as? OnionError)?.wireCode == .htlcRoutingFailed }
        #expect { try Self.onion(hops: 2, payloadLength: 620) } throws: { ($0 as? OnionError)?.wireCode == .htlcRoutingFailed }
        #expect { try Self.onion(hops: 1, payloadLength: 0) } throws: { ($0 as? OnionError)?.wireCode == .htlcRoutingFailed }
        // The largest single payload fits exactly.
        let (one, keys) = try Self.onion(hops: 1, payloadLength: OnionLimits.maxPayloadLength)
        #expect(try one.packet.peel(nodeKey: keys[0], associatedData: Self.ad).payload.count == OnionLimits.maxPayloadLength)
    }

    @Test func failuresAreAttributedToEveryHopOfARoute() throws {
        let (built, _) = try Self.onion(hops: 4)
        for failing in 0..<4 {
            let failure = try RoutingFailure(code: .temporaryChannelFailure, data: [UInt8](repeating: UInt8(failing), count: 32))
            var packet = try FailurePacket.create(sharedSecret: built.sharedSecrets[failing], failure: failure)
            #expect(packet.count == 32 + 2 + 256 + 2)
            for i in (0..<failing).reversed() { packet = try FailurePacket.wrap(packet, sharedSecret: built.sharedSecrets[i]) }
            let attributed = try FailurePacket.attribute(packet, sharedSecrets: built.sharedSecrets)
            #expect(attributed == AttributedFailure(hopIndex: failing, failure: failure))
        }
    }

    @Test func aCorruptedOrForeignFailureIsUnattributable() throws {
        let (built, _) = try Self.onion(hops: 3)
        let failure = try RoutingFailure(code: .feeInsufficient)
        var packet = try FailurePacket.create(sharedSecret: built.sharedSecrets[2], failure: failure)
        packet = try FailurePacket.wrap(packet, sharedSecret: built.sharedSecrets[1])
        packet = try FailurePacket.wrap(packet, sharedSecret: built.sharedSecrets[0])
        for byte in stride(from: 0, to: packet.count, by: 7) {
            var tampered = packet
            tampered[byte] ^= 0x80
            #expect { try FailurePacket.attribute(tampered, sharedSecrets: built.sharedSecrets) } throws: { ($0 as? OnionError)?.isUnattributable == true }
        }
        #expect { try FailurePacket.decrypt([UInt8](repeating: 0, count: 35), sharedSecrets: built.sharedSecrets) } throws: { $0 is OnionError }
        #expect { try FailurePacket.decrypt([UInt8](repeating: 0, count: 1025), sharedSecrets: built.sharedSecrets) } throws: { $0 is OnionError }
    }

    @Test func failureMessagesAreBoundedAndTyped() throws {
        let (built, _) = try Self.onion(hops: 1)
        #expect(throws: OnionError.self) { try RoutingFailure(code: .init(rawValue: 999)) }
        #expect(throws: OnionError.self) { try RoutingFailure(code: .invalidOnion, data: [UInt8](repeating: 0, count: 255)) }
        #expect(throws: OnionError.self) { try RoutingFailure(message: [0x05]) }
        #expect(throws: OnionError.self) {
            try FailurePacket.create(sharedSecret: built.sharedSecrets[0], message: [UInt8](repeating: 0, count: OnionLimits.maxFailureMessageLength + 1))
        }
        // The largest message still fits HTLC_CANCEL.failure (≤ 1024 bytes).
        let big = try FailurePacket.create(sharedSecret: built.sharedSecrets[0], message: [UInt8](repeating: 1, count: OnionLimits.maxFailureMessageLength))
        #expect(big.count == OnionLimits.maxFailurePacketLength)
        #expect(try FailurePacket.decrypt(big, sharedSecrets: built.sharedSecrets).message.count == OnionLimits.maxFailureMessageLength)
    }
}
