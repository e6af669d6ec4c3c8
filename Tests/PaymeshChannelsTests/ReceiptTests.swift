import Foundation
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import Testing

@Suite("Hash-chained receipts")
struct ReceiptTests {
    static func bundle(count: Int = 5) throws -> (ReceiptBundle, Pair) {
        var pair = try Pair()
        for i in 1...count {
            try pair.pay(UInt128(i) * 10, task: "job-\(i)")
            try pair.payeeDo { p, now in
                try p.issueReceipt(usage: i % 2 == 0 ? Usage(unit: .token, quantity: UInt64(i) * 100) : nil, now: now + UInt64(i)).1
            }
        }
        return (ReceiptBundle(terms: pair.payer.terms, receipts: pair.receipts), pair)
    }

    @Test func chainVerifiesAndPersistsItsHead() throws {
        let (bundle, pair) = try Self.bundle()
        #expect(try ReceiptVerifier.verify(bundle, expectedPayee: K.payeeAddress) == 5)
        #expect(bundle.receipts.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(bundle.receipts[0].prevHash == Receipt.zeroHash)
        #expect(bundle.receipts[2].taskID == "job-3" && bundle.receipts[1].usage == Usage(unit: .token, quantity: 200))
        #expect(pair.payeeDisk?.receiptSeq == 5 && pair.payeeDisk?.receiptHead == bundle.receipts[4].hash)
        // A restarted payee continues the same chain.
        var payee = try PayeeChannel(restoring: pair.payeeDisk!, key: K.payee)
        let (next, _) = try payee.issueReceipt(now: K.t0 + 99)
        var longer = bundle
        longer.receipts.append(next)
        #expect(try ReceiptVerifier.verify(longer) == 6)
    }

    @Test func hashIsTheEIP712StructHash() throws {
        let (bundle, _) = try Self.bundle(count: 2)
        let type = EIP712.StructType(name: "Receipt", fields: [
            .init("channelId", .bytes32), .init("seq", .uint(bits: 64)), .init("nonce", .uint(bits: 64)), .init("amount", .uint256),
            .init("taskId", .string), .init("usageUnit", .string), .init("usageQuantity", .uint(bits: 64)),
            .init("prevHash", .bytes32), .init("timestamp", .uint(bits: 64)),
        ])
        #expect(try type.encodeType() == Receipt.encodeType)
        for r in bundle.receipts {
            let values: [String: EIP712.Value] = [
                "channelId": .fixedBytes(r.channelID.bytes), "seq": .uint(UInt128(r.seq)), "nonce": .uint(UInt128(r.nonce)),
                "amount": .uint(r.amount), "taskId": .string(r.taskID ?? ""), "usageUnit": .string(r.usage?.unit.rawValue ?? ""),
                "usageQuantity": .uint(UInt128(r.usage?.quantity ?? 0)), "prevHash": .fixedBytes(r.prevHash),
                "timestamp": .uint(UInt128(r.timestamp)),
            ]
            #expect(try type.hashStruct(values) == r.hash)
            let digest = try EIP712.digest(domainSeparator: bundle.domain.separator, messageHash: r.hash)
            #expect(try EthereumAddress.recover(digest32: digest, signature65: r.signature.bytes) == K.payee.address)
        }
    }

    @Test func jsonRoundTrip() throws {
        let (bundle, _) = try Self.bundle(count: 3)
        let json = try bundle.jsonData()
        let text = String(decoding: json, as: UTF8.self)
        let object = try JSONSerialization.jsonObject(with: json) as? [String: Any]
        #expect(object?["format"] as? String == "paymesh-receipts/1")
        #expect(((object?["receipts"] as? [[String: Any]])?[2]["amount"]) as? String == "60")
        let back = try ReceiptBundle.decode(json: json)
        #expect(back == bundle)
        #expect(try ReceiptVerifier.verify(back) == 3)
        var big = bundle
        big.receipts[0].nonce = .max
        big.receipts[0].timestamp = .max
        big.receipts[0].amount = .max
        #expect(try ReceiptBundle.decode(json: big.jsonData()) == big)
        #expect(throws: (any Error).self) { try ReceiptBundle.decode(json: Data(text.replacingOccurrences(of: "paymesh-receipts/1", with: "x").utf8)) }
    }

    @Test func tamperingIsDetected() throws {
        let (bundle, _) = try Self.bundle()
        typealias Tamper = (inout ReceiptBundle) -> Void
        let tampers: [(String, Int?, Tamper)] = [
            ("amount", 2, { $0.receipts[2].amount += 1 }),
            ("amount and hash", 2, { $0.receipts[2].amount += 1; $0.receipts[2].hash = $0.receipts[2].computeHash() }),
            ("task id", 1, { $0.receipts[1].taskID = "other" }),
            ("usage", 1, { $0.receipts[1].usage = Usage(unit: .byte, quantity: 1) }),
            ("dropped receipt", 2, { $0.receipts.remove(at: 2) }),
            ("reordered", 1, { $0.receipts.swapAt(1, 2) }),
            ("broken link", 3, { $0.receipts[3].prevHash = Receipt.zeroHash }),
            ("seq", 0, { $0.receipts[0].seq = 2 }),
            ("payee", 0, { $0.payee = K.outsider.address }),
            ("domain", 0, { $0.chainID = 1 }),
            ("channel", 0, { $0.channelID = try! ChannelID([UInt8](repeating: 9, count: 32)) }),
            ("signature", 4, { $0.receipts[4].signature = $0.receipts[3].signature }),
        ]
        for (name, index, tamper) in tampers {
            var copy = bundle
            tamper(&copy)
            let failure = #expect(throws: ReceiptVerifier.Failure.self, "\(name)") { try ReceiptVerifier.verify(copy) }
            #expect(failure?.index == index, "\(name): \(failure?.description ?? "")")
        }
        // Re-signed by someone else with a consistent chain: still not the payee's.
        var forged = bundle
        var chain = ReceiptChain()
        forged.receipts = try bundle.receipts.map { r in
            try chain.append(channelID: r.channelID, nonce: r.nonce, amount: r.amount + 1, taskID: r.taskID, usage: r.usage,
                             timestamp: r.timestamp, payeeKey: K.outsider, domain: bundle.domain)
        }
        #expect(throws: ReceiptVerifier.Failure.self) { try ReceiptVerifier.verify(forged) }
        #expect(throws: ReceiptVerifier.Failure.self) { try ReceiptVerifier.verify(bundle, expectedPayee: K.payerAddress) }
    }

    @Test func noReceiptBeforeAVoucher() throws {
        var pair = try Pair()
        #expect(throws: ChannelError.self) { try pair.payeeDo { p, now in try p.issueReceipt(now: now).1 } }
    }
}
