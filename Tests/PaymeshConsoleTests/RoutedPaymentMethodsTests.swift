@testable import PaymeshConsole
import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshRouting
import PaymeshTestSupport
import Testing

/// The routed payment methods (Specs/console.md §12) on the in-memory network with gossip: node 2
/// makes an invoice (`invoice.create`), node 0 pays it over node 1 (`pay request=`), a retried call
/// with the same id pays nothing, `payment.status`, `payments.list`, `invoice.list` and `reputation`
/// show it; `pay to=` pays node 2 spontaneously; bad parameters are refused.
@Suite struct RoutedPaymentMethodsTests {
    @Test func invoiceCreatePayStatusAndReputation() async throws {
        try await withTestNetwork(3, configure: { _, setup in
            var gossip = GossipConfiguration()
            gossip.refreshInterval = .seconds(15) // announcements sent before subscriptions reach nobody
            setup.gossip = gossip
        }) { net in
            try await net.connect(0, 1)
            try await net.connect(1, 2)
            try await net.runGossip("meshes formed") { await net[1].gossip.status().mesh[GossipTopic.channels.name]?.count == 2 }
            try await net[0].fund(1_000)
            try await net[1].fund(1_000)
            _ = try await net[0].openChannel(to: net[1], deposit: 400)
            _ = try await net[1].openChannel(to: net[2], deposit: 300)
            try await net.runGossip("node 0 can route to node 2", maxSteps: 60) {
                let (graph, now) = await net[0].gossip.graphSnapshot()
                let query = RouteQuery(source: net[0].id, target: net[2].id, amount: Amount(1), now: now)
                return graph.nodes[net[1].id] != nil && graph.nodes[net[2].id] != nil
                    && (try? RoutingGraph(graph, asset: TestNetwork.usdc).findRoute(query)) != nil
            }
            let payer = ConsoleRegistry(), payee = ConsoleRegistry()
            let r0 = try RoutedPayments(payments: net[0].payments, gossip: net[0].gossip)
            let r2 = try RoutedPayments(payments: net[2].payments, gossip: net[2].gossip)
            payer.register(PaymentsMethods(payments: net[0].payments, routed: r0))
            payer.register(RoutedPaymentMethods(routed: r0, payments: net[0].payments))
            payee.register(RoutedPaymentMethods(routed: r2, payments: net[2].payments))
            let wire = SessionMethodsTests.Wire(), wire2 = SessionMethodsTests.Wire()
            let s = SessionMethodsTests()

            let invoice = try await s.call(payee, "invoice.create", ["amount": "25", "asset": "USDC", "decimals": 6, "memo": "tea"], on: wire2)
            #expect(invoice["status"] == "open" && invoice["amount"] == "25" && invoice["memo"] == "tea")
            let text = try #require(invoice["invoice"]?.stringValue)
            let paid = try await s.call(payer, "pay", ["request": .string(text), "id": "order-7"], on: wire)
            #expect(paid["status"] == "succeeded" && paid["feesPaid"] == "0" && paid["amount"] == "25")
            #expect(paid["route"]?["hops"]?.arrayValue?.map { $0["node"] } == [.string(net[1].id.description), .string(net[2].id.description)])
            // The same id again: the same payment, nothing paid.
            #expect(try await s.call(payer, "pay", ["request": .string(text), "id": "order-7"], on: wire) == paid)
            #expect(try await s.call(payer, "payment.status", ["id": "order-7"], on: wire) == paid)
            #expect(try await s.call(payer, "payments.list", on: wire)["payments"]?.arrayValue?.count == 1)
            let listed = try await s.call(payee, "invoice.list", on: wire2)["invoices"]?.arrayValue?.first
            #expect(listed?["status"] == "paid" && listed?["paidAmount"] == "25")
            let rep = try await s.call(payer, "reputation", on: wire)
            #expect(rep["nodes"]?.arrayValue?.first?["node"] == .string(net[1].id.description))
            #expect(rep["nodes"]?.arrayValue?.first?["successes"] == 1_000)

            let spontaneous = try await s.call(payer, "pay", ["to": .string(net[2].id.description), "amount": "3", "asset": "USDC"], on: wire)
            #expect(spontaneous["status"] == "succeeded" && spontaneous["amount"] == "3")

            for bad: [String: JSONValue] in [["request": "pminv1zzzz"], ["request": .string(text), "to": .string(net[2].id.description)],
                                             ["request": .string(text), "channel": "0x00"], ["to": "nobody", "amount": "1", "asset": "USDC"],
                                             ["channel": "0x00", "amount": "1", "id": "x"]] {
                do {
                    _ = try await s.call(payer, "pay", bad, on: wire)
                    Issue.record("accepted \(bad)")
                } catch let error as ConsoleProtocol.RemoteError {
                    #expect(error.code == -32602, "\(bad)")
                }
            }
            // Another payment under a used id: 1420.
            do {
                _ = try await s.call(payer, "pay", ["to": .string(net[2].id.description), "amount": "4", "asset": "USDC", "id": "order-7"], on: wire)
                Issue.record("a used id paid another payment")
            } catch let error as ConsoleProtocol.RemoteError {
                #expect(error.code == 1420)
            }
            await wire.close()
            await wire2.close()
        }
    }
}
