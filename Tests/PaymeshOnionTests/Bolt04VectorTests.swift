import Foundation
import PaymeshCrypto
import PaymeshOnion
import PaymeshTestSupport
import Testing

/// The published BOLT 4 vectors (Tests/Vectors/bolt04/, copied from lightning/bolts).
@Suite("BOLT 4 Sphinx vectors")
struct Bolt04VectorTests {
    struct OnionVector: Decodable {
        struct Generate: Decodable {
            struct Hop: Decodable { let pubkey: String; let payload: String }
            let session_key: String
            let associated_data: String
            let hops: [Hop]
        }
        let generate: Generate
        let onion: String
        let decode: [String]
    }

    struct ErrorVector: Decodable {
        struct Generate: Decodable {
            struct Hop: Decodable {
                let pubkey: String
                let hop_shared_secret: String
                let ammag_key: String
                let um_key: String?
                let payload: String?
            }
            let session_key: String
            let failure_message: String
            let hops: [Hop]
        }
        let generate: Generate
        let errorpacket: String
    }

    static func onionVector() throws -> OnionVector { try TestVectors.load(OnionVector.self, test: "bolt04/bolt04-onion-test.json") }
    static func errorVector() throws -> ErrorVector { try TestVectors.load(ErrorVector.self, test: "bolt04/bolt04-onion-error-test.json") }

    static func build(_ v: OnionVector) throws -> BuiltOnion {
        let hops = try v.generate.hops.map { OnionHop(nodeKey: try publicKey($0.pubkey), payload: try withoutLengthPrefix(try hex($0.payload))) }
        return try OnionPacket.build(sessionKey: try privateKey(v.generate.session_key), hops: hops,
                                     associatedData: try hex(v.generate.associated_data))
    }

    @Test func constructionIsByteExact() throws {
        let v = try Self.onionVector()
        let built = try Self.build(v)
        #expect(built.packet.bytes.count == OnionLimits.packetLength)
        #expect(built.packet.bytes.hexString == v.onion)
    }

    @Test func everyHopPeelsItsPayloadAndTheLastIsFinal() throws {
        let v = try Self.onionVector()
        let ad = try hex(v.generate.associated_data)
        var packet = try OnionPacket(bytes: try hex(v.onion))
        for (i, hop) in v.generate.hops.enumerated() {
            let key = try privateKey(v.decode[i])
            #expect(key.publicKey.compressedRepresentation.hexString == hop.pubkey)
            let peeled = try packet.peel(nodeKey: key, associatedData: ad)
            #expect(peeled.payload == (try withoutLengthPrefix(try hex(hop.payload))), "hop \(i)")
            #expect(peeled.isFinalHop == (i == v.generate.hops.count - 1), "hop \(i)")
            if let next = peeled.next {
                #expect(next.bytes.count == OnionLimits.packetLength)
                packet = next
            }
        }
    }

    @Test func sharedSecretsAndFailureKeysMatchTheErrorVector() throws {
        let onion = try Self.onionVector()
        let v = try Self.errorVector()
        #expect(v.generate.session_key == onion.generate.session_key)
        let built = try Self.build(onion)
        for (i, hop) in v.generate.hops.enumerated() {
            #expect(hop.pubkey == onion.generate.hops[i].pubkey)
            let secret = built.sharedSecrets[i]
            #expect(secret.withUnsafeBytes { [UInt8]($0) }.hexString == hop.hop_shared_secret, "hop \(i)")
            let keys = secret.failureKeys()
            #expect(keys.ammag.hexString == hop.ammag_key, "hop \(i)")
            if let um = hop.um_key { #expect(keys.um.hexString == um, "hop \(i)") }
        }
    }

    @Test func failureOnionFromTheLastHopMatchesAndIsAttributed() throws {
        let v = try Self.errorVector()
        let secrets = try v.generate.hops.map { try SharedSecret(copying: try hex($0.hop_shared_secret)) }
        let message = try hex(v.generate.failure_message)
        var packet = try FailurePacket.create(sharedSecret: secrets[4], message: message)
        for i in (0..<4).reversed() { packet = try FailurePacket.wrap(packet, sharedSecret: secrets[i]) }
        #expect(packet.hexString == v.errorpacket)

        let (hop, decrypted) = try FailurePacket.decrypt(try hex(v.errorpacket), sharedSecrets: secrets)
        #expect(hop == 4)
        #expect(decrypted == message)
    }

    @Test func theFailingHopsPayloadMatches() throws {
        let v = try Self.errorVector()
        let last = try #require(v.generate.hops.last)
        let secret = try SharedSecret(copying: try hex(last.hop_shared_secret))
        // Undo the failing hop's own ammag layer: HMAC ‖ payload as written by the hop.
        let packet = try FailurePacket.create(sharedSecret: secret, message: try hex(v.generate.failure_message))
        let plain = try FailurePacket.wrap(packet, sharedSecret: secret)
        #expect(Array(plain[32...]).hexString == last.payload)
    }
}
