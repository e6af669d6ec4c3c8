import Foundation
import PaymeshCrypto
import PaymeshMessages
import PaymeshOnion
import Testing

/// The size claims of Specs/onion.md §6 and the rules a hop checks on a payload.
@Suite("Paymesh hop payloads")
struct HopPayloadTests {
    static let channel = try! ChannelID([UInt8](repeating: 0xcc, count: 32))
    static let preimage = try! Hash32([UInt8](repeating: 0x77, count: 32))
    static let hash = try! Hash32(SHA256.hash(preimage.bytes))

    static func forward(_ amount: UInt128) -> HopPayload {
        .forward(.init(nextChannel: channel, amountToForward: Amount(amount), outgoingExpiry: .max))
    }

    static func final(_ amount: UInt128, preimage: Hash32? = HopPayloadTests.preimage) -> HopPayload {
        .final(.init(amount: Amount(amount), expiry: .max, totalAmount: Amount(amount), paymentHash: hash, preimage: preimage))
    }

    @Test func largestPayloadsHaveTheSpecifiedSizes() throws {
        #expect(Self.forward(.max).encoded().count == 91)
        #expect(Self.final(.max).encoded().count == 170)
        let twentyDigits: UInt128 = 99_999_999_999_999_999_999
        #expect(Self.forward(twentyDigits).encoded().count == 71)
        #expect(Self.final(twentyDigits).encoded().count == 130)
        for p in [Self.forward(.max), Self.final(.max), Self.final(1, preimage: nil)] {
            #expect(try HopPayload(bytes: p.encoded()) == p)
            #expect(p.encoded().count <= HopPayload.maxEncodedLength)
        }
    }

    @Test func tenHopsOfTwentyDigitAmountsFitAndNineOfAnyAmount() throws {
        let keys = try (1...10).map { try Secp256k1.PrivateKey(ephemeralRawRepresentation: [UInt8](repeating: UInt8($0), count: 32)) }
        let session = try Secp256k1.PrivateKey(ephemeralRawRepresentation: [UInt8](repeating: 0x41, count: 32))
        func route(_ n: Int, _ amount: UInt128) -> [OnionHop] {
            (0..<n).map { OnionHop(nodeKey: keys[$0].publicKey, payload: ($0 == n - 1 ? Self.final(amount) : Self.forward(amount)).encoded()) }
        }
        let built = try OnionPacket.build(sessionKey: session, hops: route(10, 99_999_999_999_999_999_999), associatedData: Self.hash.bytes)
        var packet = built.packet
        for i in 0..<10 {
            let peeled = try packet.peel(nodeKey: keys[i], associatedData: Self.hash.bytes)
            switch try HopPayload(bytes: peeled.payload) {
            case .forward: #expect(!peeled.isFinalHop)
            case .final(let f): #expect(peeled.isFinalHop && f.preimage == Self.preimage)
            }
            if let next = peeled.next { packet = next }
        }
        _ = try OnionPacket.build(sessionKey: session, hops: route(9, .max), associatedData: Self.hash.bytes)
        #expect(throws: OnionError.self) { try OnionPacket.build(sessionKey: session, hops: route(10, .max), associatedData: Self.hash.bytes) }
    }

    @Test func thePayloadKindMustMatchThePositionInTheRoute() throws {
        let keys = try (1...2).map { try Secp256k1.PrivateKey(ephemeralRawRepresentation: [UInt8](repeating: UInt8($0), count: 32)) }
        let session = try Secp256k1.PrivateKey(ephemeralRawRepresentation: [UInt8](repeating: 0x41, count: 32))
        // A final payload at the first of two hops, a forwarding payload at the last.
        let hops = [OnionHop(nodeKey: keys[0].publicKey, payload: Self.final(5).encoded()),
                    OnionHop(nodeKey: keys[1].publicKey, payload: Self.forward(5).encoded())]
        let built = try OnionPacket.build(sessionKey: session, hops: hops, associatedData: Self.hash.bytes)
        let first = try built.packet.peel(nodeKey: keys[0], associatedData: Self.hash.bytes)
        let e1 = #expect(throws: OnionError.self) { try first.paymeshPayload() }
        #expect(e1?.wireCode == .invalidOnion)
        let last = try #require(first.next).peel(nodeKey: keys[1], associatedData: Self.hash.bytes)
        let e2 = #expect(throws: OnionError.self) { try last.paymeshPayload() }
        #expect(e2?.wireCode == .invalidOnion)
    }
}
