import Foundation
import PaymeshCrypto
import PaymeshMessages
import PaymeshOnion

/// `paymesh-bench onion [--seconds S]`: Sphinx costs on this machine — building a 3-hop onion
/// with Paymesh payloads, peeling one layer, and a failure's creation and attribution.
struct OnionBench {
    let seconds: Double

    func run() throws {
        let keys = try (1...3).map { i in try Secp256k1.PrivateKey(ephemeralRawRepresentation: SHA256.hash([UInt8(i)])) }
        let hash = SHA256.hash([0x70])
        let channel = try ChannelID(SHA256.hash([0x63]))
        let payloads: [HopPayload] = [
            .forward(.init(nextChannel: channel, amountToForward: Amount(1_000_200), outgoingExpiry: 1_767_225_600_000)),
            .forward(.init(nextChannel: channel, amountToForward: Amount(1_000_100), outgoingExpiry: 1_767_225_600_000)),
            .final(.init(amount: Amount(1_000_000), expiry: 1_767_225_600_000, totalAmount: Amount(1_000_000), paymentHash: try Hash32(hash))),
        ]
        let hops = zip(keys, payloads).map { OnionHop(nodeKey: $0.publicKey, payload: $1.encoded()) }
        var session = 0
        func nextSession() throws -> Secp256k1.PrivateKey {
            session += 1
            return try Secp256k1.PrivateKey(ephemeralRawRepresentation: SHA256.hash(Array("session \(session)".utf8)))
        }

        let build = try measure { _ = try OnionPacket.build(sessionKey: try nextSession(), hops: hops, associatedData: hash) }
        printRow("onion build, 3 hops", String(format: "%.1f µs", build))

        let built = try OnionPacket.build(sessionKey: try nextSession(), hops: hops, associatedData: hash)
        let peel = try measure {
            let peeled = try built.packet.peel(nodeKey: keys[0], associatedData: hash)
            _ = try HopPayload(bytes: peeled.payload)
        }
        printRow("onion peel + payload decode, per hop", String(format: "%.1f µs", peel))

        let failure = try RoutingFailure(code: .temporaryChannelFailure, data: channel.bytes)
        let attribute = try measure {
            var packet = try FailurePacket.create(sharedSecret: built.sharedSecrets[2], failure: failure)
            packet = try FailurePacket.wrap(packet, sharedSecret: built.sharedSecrets[1])
            packet = try FailurePacket.wrap(packet, sharedSecret: built.sharedSecrets[0])
            _ = try FailurePacket.attribute(packet, sharedSecrets: built.sharedSecrets)
        }
        printRow("failure: create, 2 wraps, attribute (hop 3)", String(format: "%.1f µs", attribute))
    }

    /// Mean µs per call over `seconds` (after a short warm-up).
    private func measure(_ body: () throws -> Void) throws -> Double {
        for _ in 0..<50 { try body() }
        let start = nowNanos()
        let deadline = start + UInt64(seconds * 1e9)
        var n = 0
        repeat {
            for _ in 0..<50 { try body() }
            n += 50
        } while nowNanos() < deadline
        return Double(nowNanos() - start) / 1e3 / Double(n)
    }
}
