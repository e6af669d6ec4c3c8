import Foundation
import PaymeshConsole
import PaymeshCrypto
import PaymeshDaemon
import PaymeshMessages
import PaymeshNode
import PaymeshPay402
import PaymeshTestSupport
import Testing

/// The gateway charges a client the price it negotiated (Specs/negotiation.md §6): two real nodes,
/// a negotiation over the console and the wire, then x402 proofs priced at the agreed price.
@Suite struct NegotiatedGatewayTests {
    @Test func agreedPriceIsChargedToThatClientOnly() async throws {
        let s = try await GatewayTests.setUp()
        let gateway = s.gateway.started.id
        _ = try await s.gateway.call("service.policy", ["name": "echo", "min_price": "100", "max_price": "400", "min_latency_ms": 50])

        // The payer proposes 90: the gateway counters with its quote (250); the payer's limit (120)
        // does not cover it, so its operator counters 110, which the gateway accepts by itself.
        let events = s.payer.node.events.subscribe()
        let proposed = try await s.payer.call("negotiate.propose", [
            "peer": .string(gateway.description), "service": "echo", "price": "90", "asset": "USDC", "deposit": "10000",
            "latency_ms": 20, "max_price": "120"])
        let id = try #require(proposed["id"]?.stringValue)
        #expect(proposed["status"] == "open" && proposed["role"] == "buyer")
        let countered = try await withTimeout(10, "the gateway's counter") { () -> JSONValue in
            for await d in events {
                if case .event(.market(.negotiation(_, .open, 1, true))) = d { return try await s.payer.call("negotiate.list", ["id": .string(id)]) }
            }
            throw TimedOut("no counter", after: 0)
        }
        let offer = try #require(countered["negotiations"]?.arrayValue?.first)
        #expect(offer["price"] == "250" && offer["latencyMs"] == 50 && offer["ourTurn"] == true)
        _ = try await s.payer.call("negotiate.counter", ["id": .string(id), "price": "110"])
        try await withTimeout(10, "the agreement") {
            for await d in events { if case .event(.market(.agreed(_, _, _, _, 110))) = d { return } }
            throw TimedOut("no agreement", after: 0)
        }
        let agreements = try await s.gateway.call("negotiate.agreements")["agreements"]?.arrayValue ?? []
        #expect(agreements.count == 1 && agreements.first?["price"] == "110" && agreements.first?["latencyP99Ms"] == 50)
        #expect(try await s.gateway.call("service.quote", ["name": "echo", "client": .string(s.payer.started.id.description)])["price"] == "110")
        #expect(try await s.gateway.call("service.quote", ["name": "echo"])["price"] == "250")

        // Without a proof the 402 names the quote; with the payer's channel the agreed price is enough.
        let unpaid = try await s.get("/echo/x")
        #expect(unpaid.status == 402)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(unpaid.body.utf8)) as? [String: Any])
        #expect((body["accepts"] as? [[String: Any]])?.first?["maxAmountRequired"] as? String == "250")
        var agreed = s.requirements
        agreed.amount = 110
        let paid = try await s.get("/echo/x", ChannelSchemeProof.xPayment(try s.voucher(nonce: 1, amount: 110), paying: agreed))
        #expect(paid.status == 200, "\(paid.body)")
        #expect(try GatewayTests.decodeHeader(paid.headers["x-payment-response"])["amount"] as? String == "110")
        let under = try await s.get("/echo/x", ChannelSchemeProof.xPayment(try s.voucher(nonce: 2, amount: 219), paying: agreed))
        #expect(under.status == 402 && under.headers["paymesh-error-code"] == "1302")
        #expect(s.upstream.calls == 1)

        // The gateway measured the paid request for this client against the agreed SLA.
        let rows = try await s.gateway.call("sla.status")["rows"]?.arrayValue ?? []
        let row = try #require(rows.first { $0["client"]?.stringValue == s.payer.started.id.description })
        #expect(row["requests"] == 1 && row["paid"] == 1 && row["agreedLatencyP99Ms"] == 50)
        #expect(try await s.gateway.call("sla.violations")["violations"] == [])

        await s.gateway.stop()
        await s.payer.stop()
        await s.upstream.stop()
    }
}
