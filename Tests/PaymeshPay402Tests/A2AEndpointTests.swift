import Foundation
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshPay402
import PaymeshTestSupport
import Testing

/// The A2A endpoint's machine (Specs/a2a.md): a task for a paid skill goes to input-required with
/// the extension's payment-required metadata; a payload is handed to the driver for verification
/// (a bad one never is); the task completes with the receipt and the skill's answer; every bad
/// request is a typed JSON-RPC error; the task table is bounded.
@Suite struct A2AEndpointTests {
    static let skill = A2ASkill(name: "search", description: "search", requirements: Fixture.requirements(), decimals: 6)

    static func body(_ object: [String: Any]) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: object.merging(["jsonrpc": "2.0", "id": 7]) { a, _ in a }))
    }

    static func send(_ message: [String: Any]) -> [UInt8] {
        body(["method": "message/send", "params": ["message": (["role": "user", "messageId": "m1", "kind": "message"] as [String: Any]).merging(message) { _, b in b }]])
    }

    static func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func reply(_ step: A2AEndpoint.Step) throws -> [String: Any] {
        guard case .reply(let bytes) = step else { throw Failure("expected a reply") }
        return try json(bytes)
    }

    struct Failure: Error { let what: String; init(_ what: String) { self.what = what } }

    static func metadata(_ answer: [String: Any]) -> [String: Any]? {
        (((answer["result"] as? [String: Any])?["status"] as? [String: Any])?["message"] as? [String: Any])?["metadata"] as? [String: Any]
    }

    static func payload(_ voucher: PaymentUpdate, scheme: String = ChannelScheme.name) throws -> [String: Any] {
        let header = ChannelSchemeProof.xPayment(voucher, paying: Fixture.requirements()).value
        var object = try json(Array(Data(base64Encoded: header)!))
        object["scheme"] = scheme
        return object
    }

    @Test func aPaidTaskGoesThroughTheExtensionStates() throws {
        var endpoint = A2AEndpoint()
        let opened = try Self.reply(endpoint.onRequest(Self.send(["parts": [["kind": "text", "text": "swift"]]]), extensionActivated: true,
                                                       skills: [Self.skill], freshID: "t1", now: 1_000))
        let result = try #require(opened["result"] as? [String: Any])
        #expect(result["id"] as? String == "t1" && result["kind"] as? String == "task")
        #expect((result["status"] as? [String: Any])?["state"] as? String == "input-required")
        let meta = try #require(Self.metadata(opened))
        #expect(meta["x402.payment.status"] as? String == "payment-required")
        let accepts = try #require((meta["x402.payment.required"] as? [String: Any])?["accepts"] as? [[String: Any]])
        #expect(accepts.first?["scheme"] as? String == "paymesh-channel" && accepts.first?["maxAmountRequired"] as? String == "250")

        // The payload goes to the driver; meanwhile a second one for the task is refused (1461).
        let voucher = Fixture.voucher(nonce: 5, amount: 1_250)
        let submit = Self.send(["taskId": "t1", "parts": [["kind": "text", "text": "paid"]],
                                "metadata": ["x402.payment.status": "payment-submitted", "x402.payment.payload": try Self.payload(voucher)]])
        guard case .pay(let pending) = endpoint.onRequest(submit, extensionActivated: true, skills: [Self.skill], freshID: "t2", now: 2_000) else {
            Issue.record("a payload is handed to the driver")
            return
        }
        #expect(pending.proof.voucher == voucher && pending.task.input == "swift")
        let busy = try Self.reply(endpoint.onRequest(submit, extensionActivated: true, skills: [Self.skill], freshID: "t3", now: 2_000))
        #expect((busy["error"] as? [String: Any])?["code"] as? Int == -32602)
        #expect(((busy["error"] as? [String: Any])?["data"] as? [String: Any])?["paymeshCode"] as? Int == 1461)

        // Underpaid: payment-failed with the reason; the task waits for a payment again.
        let failed = try Self.json(endpoint.onRefused(pending, Pay402Error(.insufficientPayment, "the voucher adds less than the price 250")))
        let failedMeta = try #require(Self.metadata(failed))
        #expect(failedMeta["x402.payment.status"] as? String == "payment-failed")
        #expect(failedMeta["x402.payment.error"] as? String == "INVALID_AMOUNT" && failedMeta["paymesh.error.code"] as? String == "1302")
        #expect(failedMeta["x402.payment.required"] != nil)

        // Paid: completed with the receipt and the skill's answer.
        guard case .pay(let again) = endpoint.onRequest(submit, extensionActivated: true, skills: [Self.skill], freshID: "t4", now: 3_000) else {
            Issue.record("the task takes a payment again")
            return
        }
        let accepted = try PaymentVerifier.verify(again.proof, requirements: Fixture.requirements(), channel: Fixture.channel())
        endpoint.onPaid(again, receipt: PaymentReceiptHeader(accepted: accepted))
        let done = try Self.json(endpoint.onSkillResult(again, status: 200, body: Array("results for swift".utf8)))
        let doneResult = try #require(done["result"] as? [String: Any])
        #expect((doneResult["status"] as? [String: Any])?["state"] as? String == "completed")
        let receipts = try #require(Self.metadata(done)?["x402.payment.receipts"] as? [[String: Any]])
        #expect(receipts.first?["success"] as? Bool == true && receipts.first?["amount"] as? String == "250")
        let artifact = try #require((doneResult["artifacts"] as? [[String: Any]])?.first?["parts"] as? [[String: Any]])
        #expect(artifact.first?["text"] as? String == "results for swift")

        // tasks/get shows the finished task; a payload for it now is refused.
        let got = try Self.reply(endpoint.onRequest(Self.body(["method": "tasks/get", "params": ["id": "t1"]]), extensionActivated: false,
                                                    skills: [Self.skill], freshID: "t5", now: 4_000))
        #expect(((got["result"] as? [String: Any])?["status"] as? [String: Any])?["state"] as? String == "completed")
        let late = try Self.reply(endpoint.onRequest(submit, extensionActivated: true, skills: [Self.skill], freshID: "t6", now: 4_000))
        #expect(((late["error"] as? [String: Any])?["data"] as? [String: Any])?["paymeshCode"] as? Int == 1461)
    }

    @Test func badRequestsAreTypedErrorsAndNeverReachTheDriver() throws {
        var endpoint = A2AEndpoint()
        func code(_ body: [UInt8], activated: Bool = true, skills: [A2ASkill] = [Self.skill]) throws -> (Int?, Int?) {
            let answer = try Self.reply(endpoint.onRequest(body, extensionActivated: activated, skills: skills, freshID: "x", now: 1))
            let error = answer["error"] as? [String: Any]
            return (error?["code"] as? Int, (error?["data"] as? [String: Any])?["paymeshCode"] as? Int)
        }
        let text: [String: Any] = ["parts": [["kind": "text", "text": "q"]]]
        #expect(try code(Array("{not json".utf8)) == (-32700, 1464))
        #expect(try code(Self.body(["method": "tasks/cancel", "params": [:]])) == (-32601, 1464))
        #expect(try code(Self.send(text), activated: false) == (-32600, 1463))
        #expect(try code(Self.send(text), skills: [Self.skill, A2ASkill(name: "b", description: "", requirements: Fixture.requirements(), decimals: 6)])
            == (-32602, 1462))
        #expect(try code(Self.send(text.merging(["metadata": ["paymesh.skill": "nope"]]) { _, b in b })) == (-32602, 1462))
        #expect(try code(Self.send(text.merging(["taskId": "unknown", "metadata": ["x402.payment.payload": [:]]]) { _, b in b })) == (-32001, 1460))
        #expect(try code(Self.body(["method": "tasks/get", "params": ["id": "unknown"]])) == (-32001, 1460))
        #expect(try code(Array(repeating: UInt8(ascii: " "), count: A2AEndpoint.maxBodyBytes + 1)) == (-32600, 1464))

        // A payload of another scheme, or a forged field: payment-failed at once, no step for the driver.
        _ = try Self.reply(endpoint.onRequest(Self.send(text), extensionActivated: true, skills: [Self.skill], freshID: "t", now: 1))
        let voucher = Fixture.voucher(nonce: 5, amount: 1_250)
        for (payload, expected) in [(try Self.payload(voucher, scheme: "exact"), "1321"),
                                    (["x402Version": 1, "scheme": "paymesh-channel", "network": "eip155:84532", "payload": ["nonce": "01"]], "1320")] {
            let step = endpoint.onRequest(Self.send(text.merging(["taskId": "t", "metadata": ["x402.payment.payload": payload]]) { _, b in b }),
                                          extensionActivated: true, skills: [Self.skill], freshID: "u", now: 2)
            let meta = try #require(Self.metadata(try Self.reply(step)))
            #expect(meta["x402.payment.status"] as? String == "payment-failed" && meta["paymesh.error.code"] as? String == expected)
        }
    }

    @Test func theTaskTableIsBounded() throws {
        var book = A2ATaskBook()
        func task(_ i: Int, at now: UInt64) -> A2ATaskBook.Task {
            A2ATaskBook.Task(id: "t\(i)", contextID: "c", skill: "s", requirements: Fixture.requirements(), input: "", createdAt: now)
        }
        let proof = ChannelSchemeProof(x402Version: 1, network: Fixture.requirements().network, accepted: nil,
                                       voucher: Fixture.voucher(nonce: 5, amount: 1_250))
        for i in 0..<A2ATaskBook.capacity { try book.open(task(i, at: 0), now: 0) }
        // Full: a task that carries no money goes first (the oldest), even before an older paid one.
        _ = try book.beginPayment("t5", proof: proof)
        book.finish("t5", .completed, output: "paid answer")
        book.finish("t7", .canceled)
        let first = try book.open(task(-1, at: 1), now: 1)
        #expect(first?.id == "t0" && first?.proof == nil && book.task("t5") != nil && book.count == A2ATaskBook.capacity)
        // Once every other task is busy (a payment being verified, a skill running), the oldest
        // paid and finished task goes, and the driver learns it carried a payment (its record is deleted).
        for i in 1..<A2ATaskBook.capacity where i != 5 && i != 7 { _ = try book.beginPayment("t\(i)", proof: proof) }
        _ = try book.beginPayment("t-1", proof: proof)
        #expect(try book.open(task(-2, at: 1), now: 1)?.id == "t7")
        _ = try book.beginPayment("t-2", proof: proof)
        let second = try book.open(task(-3, at: 2), now: 2)
        #expect(second?.id == "t5" && second?.proof != nil)
        _ = try book.beginPayment("t-3", proof: proof)
        // All of them busy: the new one is refused.
        #expect(refusal { () throws(Pay402Error) in try book.open(task(-4, at: 3), now: 3) } == .rateLimited)
        #expect(book.count == A2ATaskBook.capacity)
    }

    struct Vectors: Decodable {
        struct Payment: Decodable {
            let description: String, body: String, activated: Bool, expect: VectorTests.Expect
            let nonce: UInt64?, amount: String?
        }
        let task_id: String, payer: String, chain_id: UInt64, verifying_contract: String, payments: [Payment]
    }

    /// Specs/vectors/a2a.json (scripts/vectors/gen_a2a_vectors.py, eth-account): payment messages
    /// written from the Specs, each handed to verification or refused with its code.
    @Test func paymentVectors() throws {
        let file = try TestVectors.load(Vectors.self, spec: "a2a.json")
        let domain = SigningDomain(chainID: file.chain_id, verifyingContract: try #require(EthereumAddress(string: file.verifying_contract)))
        let payer = try #require(EthereumAddress(string: file.payer))
        for v in file.payments {
            var endpoint = A2AEndpoint()
            _ = endpoint.onRequest(Self.send(["parts": [["kind": "text", "text": "q"]]]), extensionActivated: true, skills: [Self.skill],
                                   freshID: file.task_id, now: 1)
            let step = endpoint.onRequest(Array(v.body.utf8), extensionActivated: v.activated, skills: [Self.skill], freshID: "other", now: 2)
            switch (step, v.expect) {
            case (.pay, .ok), (.pay, .code):
                Issue.record(Comment(rawValue: "\(v.description): handed to verification, expected \(v.expect)"))
            case (.pay(let pending), .pay):
                #expect(pending.proof.voucher.nonce == v.nonce && pending.proof.voucher.amount.description == v.amount, "\(v.description)")
                #expect(throws: Never.self, "\(v.description)") { try pending.proof.voucher.verify(expectedSigner: payer, domain: domain) }
            case (.reply(let bytes), .code(let code)):
                let answer = try Self.json(bytes)
                let inError = ((answer["error"] as? [String: Any])?["data"] as? [String: Any])?["paymeshCode"] as? Int
                let inTask = (Self.metadata(answer)?["paymesh.error.code"] as? String).flatMap { Int($0) }
                #expect((inError ?? inTask) == Int(code), "\(v.description): \(answer)")
            case (.reply, _):
                Issue.record(Comment(rawValue: "\(v.description): refused, expected \(v.expect)"))
            }
        }
    }

    @Test func theAgentCardDeclaresTheExtensionAndPrices() throws {
        let card = try Self.json(A2AEndpoint.agentCard(name: "n", description: "d", url: "http://127.0.0.1:1/a2a", version: "1",
                                                       skills: [Self.skill]))
        let extensions = try #require((card["capabilities"] as? [String: Any])?["extensions"] as? [[String: Any]])
        #expect(extensions.first?["uri"] as? String == A2AEndpoint.extensionURI && extensions.first?["required"] as? Bool == true)
        let pricing = try #require((extensions.first?["params"] as? [String: Any])?["pricing"] as? [[String: Any]])
        #expect(pricing.first?["skill"] as? String == "search" && pricing.first?["amount"] as? String == "250"
            && pricing.first?["price"] as? String == "0.00025")
        #expect((card["skills"] as? [[String: Any]])?.first?["id"] as? String == "search")
    }
}
