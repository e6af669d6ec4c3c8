@testable import PaymeshConsole
import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshRouting
import PaymeshTestSupport
import Testing

/// The routing console methods (Specs/console.md, "Routing") over real gossip services on the
/// in-memory network: `route.find` from node 0 to node 2 over the channels 0–1 and 1–2 the graph
/// learned by gossip; NO_ROUTE_FOUND and INVALID_PARAMS for what cannot be routed or parsed;
/// `invoice.decode` of a signed invoice and refusal of a tampered one.
@Suite struct RoutingMethodsTests {
    func call(_ registry: ConsoleRegistry, _ method: String, _ params: [String: JSONValue] = [:],
              on wire: SessionMethodsTests.Wire) async throws -> JSONValue {
        try await SessionMethodsTests().call(registry, method, params, on: wire)
    }

    func remoteCode(_ registry: ConsoleRegistry, _ method: String, _ params: [String: JSONValue],
                    on wire: SessionMethodsTests.Wire) async throws -> Int? {
        do {
            _ = try await call(registry, method, params, on: wire)
            return nil
        } catch let error as ConsoleProtocol.RemoteError {
            return error.code
        }
    }

    @Test func routeFindAndInvoiceDecode() async throws {
        try await withTestNetwork(3, configure: { _, setup in setup.gossip = GossipConfiguration() }) { net in
            try await net.connect(0, 1)
            try await net.connect(1, 2)
            let registry = ConsoleRegistry()
            registry.register(RoutingMethods(gossip: net[0].gossip))
            let wire = SessionMethodsTests.Wire()
            try await net.runGossip("meshes formed") { await net[1].gossip.status().mesh[GossipTopic.channels.name]?.count == 2 }
            try await net[0].fund(1_000)
            try await net[1].fund(1_000)
            let first = try await net[0].openChannel(to: net[1], deposit: 400)
            let second = try await net[1].openChannel(to: net[2], deposit: 300)
            try await net.runGossip("node 0 holds both channels with both ends' updates") {
                let channels = await net[0].gossip.graphChannels()
                return [first, second].allSatisfy { id in channels.contains { $0.id == id && $0.updateA != nil && $0.updateB != nil } }
            }

            let found = try await call(registry, "route.find", ["to": .string(net[2].id.description), "amount": "10", "asset": "USDC",
                                                                "decimals": 6, "count": 3], on: wire)
            let routes = try #require(found["routes"]?.arrayValue)
            #expect(routes.count == 1, "one path exists: 0 → 1 → 2")
            let route = try #require(routes.first)
            let hops = try #require(route["hops"]?.arrayValue)
            #expect(hops.count == 2)
            #expect(hops.first?["node"] == .string(net[1].id.description) && hops.first?["channel"] == .string(first.description))
            #expect(hops.last?["node"] == .string(net[2].id.description) && hops.last?["channel"] == .string(second.description))
            #expect(hops.last?["amount"] == "10" && hops.last?["fee"] == "0" && hops.last?["expiryDeltaMs"] == 0)
            #expect(route["amount"] == "10" && hops.first?["amount"] == route["totalAmount"])
            #expect((route["expiry"]?.intValue ?? 0) >= (hops.last?["expiry"]?.intValue ?? .max))

            // Nothing can carry more than the smaller channel: NO_ROUTE_FOUND (1400).
            #expect(try await remoteCode(registry, "route.find", ["to": .string(net[2].id.description), "amount": "301", "asset": "USDC",
                                                                  "decimals": 6], on: wire) == 1400)
            // One hop is not enough for a two-hop path.
            #expect(try await remoteCode(registry, "route.find", ["to": .string(net[2].id.description), "amount": "10", "asset": "USDC",
                                                                  "decimals": 6, "maxHops": 1], on: wire) == 1400)
            for bad: [String: JSONValue] in [["to": "nobody", "amount": "1", "asset": "USDC", "decimals": 6],
                                             ["to": .string(net[2].id.description), "amount": "-1", "asset": "USDC", "decimals": 6],
                                             ["to": .string(net[2].id.description), "amount": "1", "asset": "USDC", "decimals": 6, "maxHops": 0],
                                             ["to": .string(net[2].id.description), "amount": "1", "asset": "USDC", "decimals": 6, "count": 11],
                                             ["to": .string(net[0].id.description), "amount": "1", "asset": "USDC", "decimals": 6]] {
                #expect(try await remoteCode(registry, "route.find", bad, on: wire) == -32602, "\(bad)")
            }

            // invoice.decode: a signed invoice comes back field by field; a tampered one is refused.
            let key = IdentityKey(privateKey: try Secp256k1.PrivateKey(rawRepresentation: SHA256.hash([42])))
            let (_, now) = await net[0].gossip.graphSnapshot()
            let invoice = try Invoice(payee: key.address, paymentHash: try Hash32(SHA256.hash([7])), amount: Amount(25),
                                      asset: try Asset(id: "USDC", decimals: 6), memo: "coffee", created: now, expiryMillis: 3_600_000,
                                      minFinalExpiryMillis: 600_000, routeHints: [])
            let text = try invoice.encoded(signedBy: key)
            let decoded = try await call(registry, "invoice.decode", ["invoice": .string(text)], on: wire)
            #expect(decoded["payee"] == .string(key.address.description) && decoded["amount"] == "25" && decoded["memo"] == "coffee")
            #expect(decoded["asset"] == "USDC" && decoded["decimals"] == 6 && decoded["expiresAt"]?.intValue == Int64(now + 3_600_000))
            #expect(decoded["paymentHash"] == .string(invoice.paymentHash.description) && decoded["routeHints"] == [])
            let tampered = String(text.dropLast()) + (text.last == "q" ? "p" : "q")
            #expect(try await remoteCode(registry, "invoice.decode", ["invoice": .string(tampered)], on: wire) == -32602)
            #expect(try await remoteCode(registry, "invoice.decode", ["invoice": "lnbc1"], on: wire) == -32602)
            await wire.close()
        }
    }
}
