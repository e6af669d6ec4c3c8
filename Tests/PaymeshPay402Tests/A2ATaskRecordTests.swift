import Foundation
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshPay402
import Testing

/// The durable A2A tasks (Specs/a2a.md §4), sans-IO: a task gets a record once a payment arrives
/// for it (never before); the record gives the same task back; after a restart a task that was
/// `working` ends `failed` with its payment's receipt (never run or paid again) or, when its
/// voucher was never stored, waits for a payment again; a damaged record is a typed error.
@Suite struct A2ATaskRecordTests {
    static let id = String(repeating: "ab", count: 16)
    static let other = String(repeating: "cd", count: 16)

    static func open(_ endpoint: inout A2AEndpoint, _ id: String) throws {
        _ = try A2AEndpointTests.reply(endpoint.onRequest(A2AEndpointTests.send(["parts": [["kind": "text", "text": "swift"]]]),
                                                          extensionActivated: true, skills: [A2AEndpointTests.skill], freshID: id, now: 1_000))
    }

    static func submit(_ id: String, _ voucher: PaymentUpdate) throws -> [UInt8] {
        A2AEndpointTests.send(["taskId": id, "parts": [["kind": "text", "text": "paid"]],
                               "metadata": ["x402.payment.status": "payment-submitted",
                                            "x402.payment.payload": try A2AEndpointTests.payload(voucher)]])
    }

    static func pay(_ endpoint: inout A2AEndpoint, _ id: String, _ voucher: PaymentUpdate) throws -> A2AEndpoint.PendingPayment {
        guard case .pay(let pending) = endpoint.onRequest(try submit(id, voucher), extensionActivated: true,
                                                          skills: [A2AEndpointTests.skill], freshID: "unused", now: 2_000) else {
            throw A2AEndpointTests.Failure("a payload is handed to the driver")
        }
        return pending
    }

    static func get(_ endpoint: inout A2AEndpoint, _ id: String) throws -> [String: Any] {
        try A2AEndpointTests.reply(endpoint.onRequest(A2AEndpointTests.body(["method": "tasks/get", "params": ["id": id]]),
                                                      extensionActivated: false, skills: [A2AEndpointTests.skill], freshID: "x", now: 3_000))
    }

    static func state(_ answer: [String: Any]) -> String? {
        ((answer["result"] as? [String: Any])?["status"] as? [String: Any])?["state"] as? String
    }

    @Test func aTaskIsDurableFromItsPaymentOnAndItsRecordGivesItBack() throws {
        var endpoint = A2AEndpoint()
        try Self.open(&endpoint, Self.id)
        #expect(endpoint.record(Self.id) == nil, "an unpaid task has no record")
        let pending = try Self.pay(&endpoint, Self.id, Fixture.voucher(nonce: 5, amount: 1_250))
        let working = try #require(endpoint.record(Self.id))
        #expect(try A2AEndpoint.task(fromRecord: working) == endpoint.book.task(Self.id))
        #expect(try A2AEndpoint.task(fromRecord: working).proof?.voucher == Fixture.voucher(nonce: 5, amount: 1_250))

        let accepted = try PaymentVerifier.verify(pending.proof, requirements: Fixture.requirements(), channel: Fixture.channel())
        endpoint.onPaid(pending, receipt: PaymentReceiptHeader(accepted: accepted))
        _ = endpoint.onSkillResult(pending, status: 200, body: Array("results for swift".utf8))
        let done = try #require(endpoint.record(Self.id))
        let back = try A2AEndpoint.task(fromRecord: done)
        #expect(back == endpoint.book.task(Self.id) && back.state == .completed && back.output == "results for swift")
        #expect(back.receipt == PaymentReceiptHeader(accepted: accepted).settleResponse)

        // A restarted endpoint answers tasks/get from the record exactly as before.
        var restarted = A2AEndpoint()
        #expect(restarted.restore([back]).isEmpty && restarted.interruptedTasks.isEmpty)
        let before = try Self.get(&endpoint, Self.id), after = try Self.get(&restarted, Self.id)
        #expect(NSDictionary(dictionary: before) == NSDictionary(dictionary: after))
        #expect(Self.state(after) == "completed")
    }

    @Test func aRestartEndsAPaidWorkingTaskFailedWithItsReceiptAndNeverChargesAgain() throws {
        var endpoint = A2AEndpoint()
        try Self.open(&endpoint, Self.id)
        try Self.open(&endpoint, Self.other)
        let paid = try Self.pay(&endpoint, Self.id, Fixture.voucher(nonce: 5, amount: 1_250))
        let accepted = try PaymentVerifier.verify(paid.proof, requirements: Fixture.requirements(), channel: Fixture.channel())
        endpoint.onPaid(paid, receipt: PaymentReceiptHeader(accepted: accepted))
        _ = try Self.pay(&endpoint, Self.other, Fixture.voucher(nonce: 6, amount: 1_500))
        // The node dies here: one task's skill was running, the other's voucher was being verified.
        let records = try [Self.id, Self.other].map { try A2AEndpoint.task(fromRecord: try #require(endpoint.record($0))) }

        var restarted = A2AEndpoint()
        #expect(restarted.restore(records).isEmpty)
        #expect(Set(restarted.interruptedTasks.map(\.id)) == [Self.id, Self.other])
        restarted.interrupted(Self.id, receipt: nil) // its receipt is in its record
        restarted.interrupted(Self.other, receipt: nil) // the driver found no stored voucher for it
        #expect(restarted.interruptedTasks.isEmpty)

        let failed = try Self.get(&restarted, Self.id)
        #expect(Self.state(failed) == "failed")
        let meta = try #require(A2AEndpointTests.metadata(failed))
        #expect(meta["x402.payment.status"] as? String == "payment-completed")
        let receipt = try #require((meta["x402.payment.receipts"] as? [[String: Any]])?.first)
        #expect(receipt["success"] as? Bool == true && receipt["amount"] as? String == "250")
        #expect((receipt["extra"] as? [String: Any])?["nonce"] as? String == "5")
        #expect(restarted.book.task(Self.id)?.output == A2AEndpoint.interruptedReason)
        // The same payload again, or any payload: refused (1461), nothing goes to verification.
        let again = try A2AEndpointTests.reply(restarted.onRequest(try Self.submit(Self.id, Fixture.voucher(nonce: 5, amount: 1_250)),
                                                                  extensionActivated: true, skills: [A2AEndpointTests.skill], freshID: "y", now: 4_000))
        #expect(((again["error"] as? [String: Any])?["data"] as? [String: Any])?["paymeshCode"] as? Int == 1461)

        // The unpaid one waits for a payment again (1502), and its record is no longer asked for.
        let waiting = try Self.get(&restarted, Self.other)
        #expect(Self.state(waiting) == "input-required")
        #expect(A2AEndpointTests.metadata(waiting)?["paymesh.error.code"] as? String == "1502")
        #expect(restarted.record(Self.other) == nil)
        let retry = try Self.pay(&restarted, Self.other, Fixture.voucher(nonce: 6, amount: 1_500))
        #expect(retry.proof.voucher.nonce == 6)

        // With a receipt the driver rebuilt from the channel: failed with that receipt.
        var third = A2AEndpoint()
        _ = third.restore([records[1]])
        let rebuilt = try PaymentVerifier.verify(retry.proof, requirements: Fixture.requirements(), channel: Fixture.channel())
        third.interrupted(Self.other, receipt: PaymentReceiptHeader(accepted: rebuilt).settleResponse)
        #expect(third.book.task(Self.other)?.state == .failed)
        #expect(third.book.task(Self.other)?.receipt == PaymentReceiptHeader(accepted: rebuilt).settleResponse)
    }

    @Test func restoreKeepsTheNewestWithinCapacity() throws {
        var endpoint = A2AEndpoint()
        var tasks: [A2ATaskBook.Task] = []
        let proof = ChannelSchemeProof(x402Version: 1, network: Fixture.requirements().network, accepted: nil,
                                       voucher: Fixture.voucher(nonce: 5, amount: 1_250))
        for i in 0..<(A2ATaskBook.capacity + 3) {
            var t = A2ATaskBook.Task(id: String(format: "%032x", i), contextID: "c", skill: "s", requirements: Fixture.requirements(),
                                     input: "", createdAt: UInt64(i))
            t.proof = proof
            t.state = .completed
            tasks.append(t)
        }
        let dropped = endpoint.restore(tasks.reversed())
        #expect(dropped == (0..<3).map { String(format: "%032x", $0) })
        #expect(endpoint.book.count == A2ATaskBook.capacity && endpoint.book.all.first?.createdAt == 3)
    }

    @Test func damagedRecordsAreTypedErrors() throws {
        var endpoint = A2AEndpoint()
        try Self.open(&endpoint, Self.id)
        _ = try Self.pay(&endpoint, Self.id, Fixture.voucher(nonce: 5, amount: 1_250))
        let record = try #require(endpoint.record(Self.id))
        // Every truncation, and every byte flipped to a quote, a brace or garbage: an error or the same task, never a crash.
        for n in 0..<record.count {
            #expect(throws: Pay402Error.self) { _ = try A2AEndpoint.task(fromRecord: Array(record[0..<n])) }
        }
        for i in 0..<record.count {
            for b: UInt8 in [0x22, 0x7d, 0xff] {
                var bad = record
                bad[i] = b
                _ = try? A2AEndpoint.task(fromRecord: bad)
            }
        }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(record)) as? [String: Any])
        func refused(_ change: (inout [String: Any]) -> Void) -> Bool {
            var o = object
            change(&o)
            let bytes = Array(try! JSONSerialization.data(withJSONObject: o))
            do { _ = try A2AEndpoint.task(fromRecord: bytes); return false } catch { return true }
        }
        #expect(refused { $0["v"] = 2 })
        #expect(refused { $0["id"] = "../../etc/passwd" })
        #expect(refused { $0["id"] = String(repeating: "A", count: 32) })
        #expect(refused { $0["state"] = "done" })
        #expect(refused { $0["createdAt"] = "-1" })
        #expect(refused { $0["payment"] = nil })
        #expect(refused { $0["payment"] = "bm90IGpzb24=" })
        #expect(refused { $0["input"] = String(repeating: "x", count: A2AEndpoint.maxInputBytes + 1) })
        #expect(refused { o in
            var r = o["requirements"] as! [String: Any]
            r["maxAmountRequired"] = "1.5"
            o["requirements"] = r
        })
        #expect(!refused { _ in })
        #expect(throws: Pay402Error.self) {
            _ = try A2AEndpoint.task(fromRecord: [UInt8](repeating: 0x20, count: A2AEndpoint.maxRecordBytes + 1))
        }
    }
}
