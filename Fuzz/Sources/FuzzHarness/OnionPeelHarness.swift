// Symlinked into Tests/PaymeshOnionTests/FuzzHarness/.
import PaymeshCrypto
import PaymeshOnion

/// FuzzOnionPeel: the Sphinx peeler, the Paymesh hop payload decoder and the failure-onion
/// decrypter on arbitrary bytes. Keys are those of Specs/vectors/onion.json (hop i's key is
/// SHA-256("paymesh onion vector hop i"), the session key SHA-256("paymesh onion vector
/// session key"), associated data its payment hash), so the vector's onion and failure peel.
///
/// Modes (low nibble of the `FuzzInput` header, modulo 4):
/// - 0: the payload is a packet; peel it with hop 0's key, then each next packet with the next
///   hop's key. A peeled payload ≤ `OnionLimits.maxPayloadLength`, a next packet is 1366 bytes
///   and reparses to itself; the final hop has no next packet.
/// - 1: the payload's chunks are a route's hop payloads (≤ 20 hops); when `build` accepts the
///   route, every hop peels exactly its payload, only the last is final, and the shared secrets
///   agree with the builder's.
/// - 2: the payload is a failure packet for the vector's 3-hop route; a decrypted failure names
///   a hop of the route and a message ≤ `OnionLimits.maxFailureMessageLength`.
/// - 3: the payload is a Paymesh hop payload; a decoded one re-encodes to exactly the input.
/// Every error is an `OnionError` (typed throws) with wire code 1406 or 1402.
public enum OnionPeelHarness {
    public struct Outcome: Equatable {
        public var peeled = 0
        public var payloads = 0
        public var failures = 0
        public var errors: [OnionError] = []
    }

    struct Keys: Sendable {
        let session: Secp256k1.PrivateKey
        let hops: [Secp256k1.PrivateKey]
        let associatedData: [UInt8]
        let routeSecrets: [SharedSecret]
    }

    static let keys: Keys = {
        func key(_ label: String) -> Secp256k1.PrivateKey {
            // SHA-256 outputs below the group order: the vector's keys are valid by construction.
            try! Secp256k1.PrivateKey(ephemeralRawRepresentation: SHA256.hash(Array(label.utf8)))
        }
        let hops = (0..<OnionLimits.maxHops).map { key("paymesh onion vector hop \($0)") }
        let session = key("paymesh onion vector session key")
        let ad = SHA256.hash(SHA256.hash(Array("paymesh onion vector preimage".utf8)))
        // Shared secrets depend on the session key and node keys only, not on the payloads.
        let route = try! OnionPacket.build(sessionKey: session, hops: hops.prefix(3).map { OnionHop(nodeKey: $0.publicKey, payload: [1]) },
                                           associatedData: ad)
        return Keys(session: session, hops: hops, associatedData: ad, routeSecrets: route.sharedSecrets)
    }()

    public static func run(_ data: [UInt8]) throws(FuzzViolation) -> Outcome {
        let input = FuzzInput(data)
        var outcome = Outcome()
        do {
            switch input.mode % 4 {
            case 0: try peelChain(input.payload, &outcome)
            case 1: try roundTrip(input.chunks.prefix(OnionLimits.maxHops + 1).map(Array.init), &outcome)
            case 2: try failure(input.payload, &outcome)
            default: try payload(input.payload, &outcome)
            }
        } catch let error as FuzzViolation {
            throw error
        } catch let error as OnionError {
            try fuzzRequire(error.wireCode == .invalidOnion || error.wireCode == .htlcRoutingFailed, "wire code \(error.wireCode)")
            outcome.errors.append(error)
        } catch {
            throw FuzzViolation("untyped error \(error)")
        }
        return outcome
    }

    private static func peelChain(_ bytes: [UInt8], _ outcome: inout Outcome) throws {
        var packet = try OnionPacket(bytes: bytes)
        try fuzzRequire(packet.bytes == bytes, "a parsed packet re-serialises to other bytes")
        for key in keys.hops {
            let peeled = try packet.peel(nodeKey: key, associatedData: keys.associatedData)
            outcome.peeled += 1
            try fuzzRequire(!peeled.payload.isEmpty && peeled.payload.count <= OnionLimits.maxPayloadLength, "payload of \(peeled.payload.count) bytes")
            if let decoded = try? HopPayload(bytes: peeled.payload) {
                try fuzzRequire(decoded.encoded() == peeled.payload, "payload does not re-encode")
                outcome.payloads += 1
            }
            guard let next = peeled.next else { return }
            try fuzzRequire(next.bytes.count == OnionLimits.packetLength, "next packet of \(next.bytes.count) bytes")
            try fuzzRequire(try OnionPacket(bytes: next.bytes) == next, "next packet does not reparse")
            packet = next
        }
    }

    private static func roundTrip(_ payloads: [[UInt8]], _ outcome: inout Outcome) throws {
        // Up to 21 payloads, so that the 20-hop limit is fuzzed too (a node may appear twice).
        let hops = payloads.enumerated().map { OnionHop(nodeKey: keys.hops[$0 % keys.hops.count].publicKey, payload: $1) }
        let built = try OnionPacket.build(sessionKey: keys.session, hops: hops, associatedData: keys.associatedData)
        var packet: OnionPacket? = built.packet
        for (i, hop) in hops.enumerated() {
            guard let current = packet else { throw FuzzViolation("hop \(i) got no packet") }
            let peeled: PeeledOnion
            do { peeled = try current.peel(nodeKey: keys.hops[i % keys.hops.count], associatedData: keys.associatedData) } catch {
                throw FuzzViolation("hop \(i) cannot peel a built onion: \(error)")
            }
            outcome.peeled += 1
            try fuzzRequire(peeled.payload == hop.payload, "hop \(i) peeled another payload")
            try fuzzRequire(peeled.isFinalHop == (i == hops.count - 1), "hop \(i) final = \(peeled.isFinalHop)")
            try fuzzRequire(peeled.sharedSecret.constantTimeEquals(built.sharedSecrets[i]), "hop \(i) secret differs")
            packet = peeled.next
        }
    }

    private static func failure(_ bytes: [UInt8], _ outcome: inout Outcome) throws {
        let (hop, message) = try FailurePacket.decrypt(bytes, sharedSecrets: keys.routeSecrets)
        try fuzzRequire((0..<keys.routeSecrets.count).contains(hop), "hop index \(hop)")
        try fuzzRequire(message.count <= OnionLimits.maxFailureMessageLength, "message of \(message.count) bytes")
        outcome.failures += 1
        _ = try RoutingFailure(message: message)
    }

    private static func payload(_ bytes: [UInt8], _ outcome: inout Outcome) throws {
        let decoded = try HopPayload(bytes: bytes)
        try fuzzRequire(decoded.encoded() == bytes && bytes.count <= HopPayload.maxEncodedLength, "payload is not canonical")
        outcome.payloads += 1
    }
}
