public import PaymeshCrypto

/// One hop of a route as the origin sees it: the hop's node key and the payload only it reads.
public struct OnionHop: Sendable {
    public let nodeKey: Secp256k1.PublicKey
    /// The hop's payload bytes, without the BigSize length prefix (added by the builder).
    public let payload: [UInt8]

    public init(nodeKey: Secp256k1.PublicKey, payload: [UInt8]) {
        self.nodeKey = nodeKey
        self.payload = payload
    }

    /// BigSize(length) ‖ payload ‖ HMAC: the bytes this hop's frame takes in the packet.
    var frameLength: Int { BigSize.encode(UInt64(payload.count)).count + payload.count + OnionLimits.hmacLength }
}

/// What the origin keeps of an onion it built: the packet for the first hop and each hop's
/// shared secret, to decrypt and attribute a failure (Specs/onion.md §5).
public struct BuiltOnion: Sendable {
    public let packet: OnionPacket
    public let sharedSecrets: [SharedSecret]
}

extension OnionPacket {
    /// Builds the onion for `hops` (first hop first) under `sessionKey`, binding
    /// `associatedData` (the payment hash) into every HMAC (Specs/onion.md §4, BOLT 4
    /// "Packet Construction"). The session key must be fresh random per onion; the caller
    /// passes it in (this module reads no random source).
    public static func build(sessionKey: Secp256k1.PrivateKey, hops: [OnionHop],
                             associatedData: [UInt8]) throws(OnionError) -> BuiltOnion {
        guard !hops.isEmpty else { throw .invalidRoute("a route needs at least one hop") }
        guard hops.count <= OnionLimits.maxHops else { throw .invalidRoute("\(hops.count) hops > \(OnionLimits.maxHops)") }
        for hop in hops where hop.payload.isEmpty { throw .invalidRoute("a hop payload is empty") }
        let total = hops.reduce(0) { $0 + $1.frameLength }
        guard total <= OnionLimits.hopPayloadsLength else {
            throw .invalidRoute("payloads need \(total) bytes > \(OnionLimits.hopPayloadsLength)")
        }

        // Ephemeral keys and shared secrets, hop by hop (§4.1).
        var ephemeral = sessionKey
        var secrets: [SharedSecret] = []
        secrets.reserveCapacity(hops.count)
        for (i, hop) in hops.enumerated() {
            let secret = try SharedSecret.derive(ephemeral, hop.nodeKey)
            secrets.append(secret)
            if i + 1 < hops.count {
                let blinding = blindingFactor(ephemeral.publicKey, secret)
                do { ephemeral = try ephemeral.multiplied(byScalar: blinding) } catch { throw .crypto(error) }
            }
        }

        let filler = try generateFiller(hops: hops, secrets: secrets)
        // Initial contents: the ChaCha20 stream under the session key's "pad" key (§4.2).
        let padKey = sessionKey.withUnsafeRawRepresentation { SphinxKeyType.pad.derive(from: $0) }
        var mix = try keystream(padKey, OnionLimits.hopPayloadsLength)
        var nextHMAC = [UInt8](repeating: 0, count: OnionLimits.hmacLength)
        let length = OnionLimits.hopPayloadsLength
        for i in hops.indices.reversed() {
            let hop = hops[i]
            let frame = BigSize.encode(UInt64(hop.payload.count)) + hop.payload + nextHMAC
            // Shift right by the frame and write the frame in front.
            mix.replaceSubrange(0..<length, with: frame + mix[0..<(length - frame.count)])
            try xor(&mix, secrets[i].key(.rho))
            if i == hops.count - 1 {
                mix.replaceSubrange((length - filler.count)..<length, with: filler)
            }
            nextHMAC = hmac(secrets[i].key(.mu), mix, associatedData)
        }
        let packet = OnionPacket(ephemeralKey: sessionKey.publicKey, hopPayloads: mix, hmac: nextHMAC)
        return BuiltOnion(packet: packet, sharedSecrets: secrets)
    }

    /// The bytes that hops 0…n−2 shift into the end of the payload area, so that the last
    /// hop's HMAC covers what it will really see (BOLT 4 "Filler Generation").
    private static func generateFiller(hops: [OnionHop], secrets: [SharedSecret]) throws(OnionError) -> [UInt8] {
        var filler: [UInt8] = []
        var start = OnionLimits.hopPayloadsLength
        for i in 0..<(hops.count - 1) {
            let size = hops[i].frameLength
            filler += [UInt8](repeating: 0, count: size)
            let stream = try keystream(secrets[i].key(.rho), 2 * OnionLimits.hopPayloadsLength)
            // This hop's stream over the bytes it shifts in: [start, length + size).
            start -= i == 0 ? 0 : hops[i - 1].frameLength
            let window = stream[start..<(OnionLimits.hopPayloadsLength + size)]
            for (j, b) in window.enumerated() { filler[j] ^= b }
        }
        return filler
    }
}

// Primitives shared by construction, peeling and failures (Specs/onion.md §3).
extension OnionPacket {
    static func keystream(_ key: SecureBytes, _ count: Int) throws(OnionError) -> [UInt8] {
        do { return try ChaCha20.keystream(key: key, count: count) } catch { throw .crypto(error) }
    }

    static func xor(_ bytes: inout [UInt8], _ key: SecureBytes) throws(OnionError) {
        do { try ChaCha20.xorKeystream(key: key, into: &bytes) } catch { throw .crypto(error) }
    }

    static func hmac(_ key: SecureBytes, _ parts: [UInt8]...) -> [UInt8] {
        var mac = HMACSHA256(key: key)
        for part in parts { mac.update(part) }
        return mac.finalize()
    }

    /// SHA-256(ephemeral public key (compressed) ‖ shared secret) (BOLT 4 "Key Generation").
    static func blindingFactor(_ ephemeral: Secp256k1.PublicKey, _ secret: SharedSecret) -> [UInt8] {
        var h = SHA256()
        h.update(ephemeral.compressedRepresentation)
        h.update(secret.bytes)
        return h.finalize()
    }
}
