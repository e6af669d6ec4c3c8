@testable import PaymeshConsole
import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshTestSupport
import Testing

/// The gossip console methods (Specs/console.md §9) over real gossip services on the in-memory
/// network: a service advertised through one node's console is found through a far node's, its
/// withdrawal removes it; `graph.*` and `gossip.status` show the channel both ends announced; bad
/// parameters are INVALID_PARAMS; the gossip events' JSON.
@Suite struct GossipMethodsTests {
    func call(_ registry: ConsoleRegistry, _ method: String, _ params: [String: JSONValue] = [:],
              on wire: SessionMethodsTests.Wire) async throws -> JSONValue {
        try await SessionMethodsTests().call(registry, method, params, on: wire)
    }

    @Test func advertiseFindWithdrawAndGraph() async throws {
        try await withTestNetwork(3, configure: { _, setup in setup.gossip = GossipConfiguration() }) { net in
            try await net.connect(0, 1)
            try await net.connect(1, 2)
            let near = ConsoleRegistry(), far = ConsoleRegistry()
            near.register(GossipMethods(gossip: net[0].gossip))
            far.register(GossipMethods(gossip: net[2].gossip))
            let wire = SessionMethodsTests.Wire()
            try await net.runGossip("meshes formed") { await net[1].gossip.status().mesh[GossipTopic.services.name]?.count == 2 }

            let advertised = try await call(near, "service.advertise", ["name": "translate", "unit": "token", "price": "3", "asset": "USDC",
                                                                        "decimals": 6, "description": "en→fr", "endpoint": "https://agent.example/t",
                                                                        "agentCard": "https://agent.example/.well-known/agent.json"], on: wire)
            #expect(advertised["origin"] == .string(net[0].id.description) && advertised["name"] == "translate")
            try await net.runGossip("the far node finds it") { await net[2].gossip.graphCounts().services == 1 }
            let found = try await call(far, "services.find", ["name": "TRANS", "unit": "token", "maxPrice": "5", "asset": "USDC"], on: wire)
            let entry = try #require(found["services"]?.arrayValue?.first)
            #expect(entry["origin"] == .string(net[0].id.description) && entry["price"] == "3" && entry["decimals"] == 6)
            #expect(entry["endpoint"] == "https://agent.example/t" && entry["agentCard"] == "https://agent.example/.well-known/agent.json")
            #expect(try await call(far, "services.find", ["maxPrice": "2"], on: wire)["services"] == [])
            // Node announcements travel too.
            try await net.runGossip("the far node knows node 0") { await net[2].gossip.graphNodes().contains { $0.id == net[0].id } }
            let nodes = try await call(far, "graph.nodes", on: wire)["nodes"]?.arrayValue ?? []
            let zero = try #require(nodes.first { $0["id"] == .string(net[0].id.description) })
            #expect(zero["features"]?.arrayValue?.contains("gossip/1") == true)
            #expect(zero["onionKey"]?.stringValue?.count == 2 + 66)

            // A channel 0 → 1 appears in graph.channels with both ends' updates.
            try await net[0].fund(1_000)
            let channel = try await net[0].openChannel(to: net[1], deposit: 400)
            try await net.runGossip("the far node holds the channel") {
                await net[2].gossip.graphChannels().first { $0.id == channel }.map { $0.updateA != nil && $0.updateB != nil } ?? false
            }
            let channels = try await call(far, "graph.channels", on: wire)["channels"]?.arrayValue ?? []
            let c = try #require(channels.first)
            #expect(c["id"] == .string(channel.description) && c["capacity"] == "400" && c["asset"] == "USDC")
            #expect(c["updates"]?.arrayValue?.count == 2 && c["ageMs"]?.intValue != nil)

            let status = try await call(far, "gossip.status", on: wire)
            #expect(status["topics"] == ["paymesh/channels/1", "paymesh/nodes/1", "paymesh/services/1"])
            #expect(status["graph"]?["channels"] == 1 && status["graph"]?["services"] == 1)
            #expect(status["counters"]?["invalid"] == 0 && (status["counters"]?["delivered"]?.intValue ?? 0) >= 3)
            let peer = try #require(status["peers"]?.arrayValue?.first)
            #expect(peer["id"] == .string(net[1].id.description) && peer["components"]?["invalidMessages"]?.doubleValue == 0)
            #expect(try await call(near, "gossip.status", on: wire)["announcements"]?["announced"] == 1)

            // Withdrawal.
            #expect(try await call(near, "service.withdraw", ["name": "translate"], on: wire) == ["name": "translate", "withdrawn": true])
            try await net.runGossip("the far node drops it") { await net[2].gossip.graphCounts().services == 0 }
            #expect(try await call(far, "services.find", on: wire)["services"] == [])

            // Bad parameters change nothing.
            let bad: [(String, [String: JSONValue])] = [
                ("service.advertise", ["name": "x", "unit": "litre", "price": "1", "asset": "USDC", "decimals": 6]),
                ("service.advertise", ["name": "x", "unit": "call", "price": "-1", "asset": "USDC", "decimals": 6]),
                ("service.advertise", ["name": "x", "unit": "call", "price": "1", "asset": "USDC", "decimals": 6, "endpoint": "ftp://x"]),
                ("service.withdraw", ["name": "never"]),
                ("services.find", ["unit": "kg"]),
            ]
            for (method, params) in bad {
                do {
                    _ = try await call(near, method, params, on: wire)
                    Issue.record("\(method) \(params) succeeded")
                } catch let error as ConsoleProtocol.RemoteError {
                    #expect(error.code == -32602, "\(method) \(params)")
                }
            }
            #expect(await net[0].gossip.status().graphServices == 0)
            await wire.close()
        }
    }

    @Test func gossipEventsAsJSON() {
        let a = ConsoleEventsTests.peer, id = ConsoleEventsTests.channel
        let b = EthereumAddress(string: "0x" + String(repeating: "cd", count: 20))!
        let cases: [(NodeEvent, JSONValue)] = [
            (.gossip(.channelAnnounced(id, peerA: a, peerB: b, capacity: 500, asset: "USDC")),
             ["type": "graph.channel", "channel": .string(id.description), "peerA": .string(a.description), "peerB": .string(b.description),
              "capacity": "500", "asset": "USDC"]),
            (.gossip(.nodeAnnounced(a, alias: "n1")), ["type": "graph.node", "id": .string(a.description), "alias": "n1"]),
            (.gossip(.serviceAnnounced(origin: a, name: "s", price: 7, asset: "USDC")),
             ["type": "service.announced", "origin": .string(a.description), "name": "s", "price": "7", "asset": "USDC"]),
            (.gossip(.serviceWithdrawn(origin: a, name: "s")), ["type": "service.withdrawn", "origin": .string(a.description), "name": "s"]),
        ]
        for (event, json) in cases {
            #expect(ConsoleEvents.json(event) == json)
            #expect(ConsoleEvents.topic(of: event) == json["type"]?.stringValue?.split(separator: ".").first.map(String.init))
        }
    }
}
