import Foundation
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import PaymeshRouting
import PaymeshStore
import Testing

/// The payment journal's stored record (Specs/storage.md "Invoices and payments") is written by hand
/// (no `JSONEncoder` on the origin's path): it is what `JSONEncoder` with sorted keys writes, and
/// every entry — with text that needs escaping too — reads back unchanged.
@Suite struct PaymentRecordTests {
    static func address(_ b: UInt8) -> EthereumAddress { EthereumAddress(publicKey: IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: b, count: 32))).publicKey) }
    static func hash(_ b: UInt8) -> Hash32 { try! Hash32([UInt8](repeating: b, count: 32)) }

    static func route(hops: Int) -> Route {
        Route(source: address(1), hops: (0..<hops).map { i in
            Route.Hop(nodeID: address(UInt8(2 + i)), channelID: try! ChannelID([UInt8](repeating: UInt8(0x20 + i), count: 32)),
                      amount: Amount(UInt128(1_000 + 12 * (hops - 1 - i))), expiry: 1_767_225_600_000 + UInt64(i), fee: Amount(i == hops - 1 ? 0 : 12),
                      expiryDeltaMillis: 600_000)
        }, cost: UInt128.max)
    }

    /// Entries of every shape: pending with an attempt in flight, failed with attributed and
    /// unattributed attempts, succeeded; `reason` is the only free text.
    static func payments(reason: String) throws -> [PaymentJournal.Payment] {
        let id = try PaymentJournal.PaymentID(Array("order-1".utf8))
        let inFlight = PaymentJournal.Attempt(route: route(hops: 3), startedAt: 5, finishedAt: nil, outcome: .inFlight)
        let failed = PaymentJournal.Attempt(route: route(hops: 2), startedAt: 1, finishedAt: 3, outcome: .failed(hopIndex: 1, code: .feeInsufficient, node: address(3)))
        let unattributed = PaymentJournal.Attempt(route: route(hops: 1), startedAt: 3, finishedAt: 4, outcome: .failed(hopIndex: nil, code: .htlcTimeout, node: nil))
        let done = PaymentJournal.Attempt(route: route(hops: 3), startedAt: 5, finishedAt: 9, outcome: .succeeded)
        func payment(_ status: PaymentJournal.Status, _ attempts: [PaymentJournal.Attempt], finished: UInt64?) -> PaymentJournal.Payment {
            PaymentJournal.Payment(id: id, paymentHash: hash(7), payee: address(4), amount: Amount(UInt128(1) << 100), createdAt: 0,
                                   status: status, attempts: attempts, finishedAt: finished)
        }
        return [payment(.pending, [], finished: nil), payment(.pending, [failed, unattributed, inFlight], finished: nil),
                payment(.failed(reason: reason), [failed, unattributed], finished: 4), payment(.succeeded(preimage: hash(9)), [failed, done], finished: 9)]
    }

    @Test func theRecordIsWhatJSONEncoderWritesWithSortedKeys() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for p in try Self.payments(reason: "hop 1 (0xab/cd) failed with FEE_INSUFFICIENT") {
            let stored = try PaymentRecord.encode(p)
            let record = try JSONDecoder().decode(PaymentRecord.self, from: Data(stored.record))
            #expect(String(decoding: stored.record, as: UTF8.self) == String(decoding: try encoder.encode(record), as: UTF8.self))
            #expect(try PaymentRecord.decode(stored) == p)
        }
    }

    @Test func reasonsWithQuotesControlCharactersAndNonASCIIReadBack() throws {
        for reason in ["\"quoted\" \\ back/slash", "line\nbreak\ttab\u{1}\u{1f}", "é € 😀 \u{2028}\u{2029}", ""] {
            for p in try Self.payments(reason: reason) {
                let stored = try PaymentRecord.encode(p)
                #expect(try JSONSerialization.jsonObject(with: Data(stored.record)) is [String: Any])
                #expect(try PaymentRecord.decode(stored) == p, "\(reason)")
            }
        }
    }
}
