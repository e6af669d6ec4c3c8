import Foundation
import PaymeshConsole
import PaymeshDaemon
import PaymeshMessages
import PaymeshNode
import PaymeshTestSupport
import Testing

/// A channel opened for a request to a payee this node has no connection to (Specs/http402.md
/// §11.3 step 1): the buyer learns the gateway's address from its gossip node announcement, relayed
/// by a third node — the buyer is never told where the gateway listens — dials it (the identity
/// checked), opens one channel with the policy's deposit and pays through it. Three real nodes on
/// loopback; gossip republishes every 2 s. Balances are read at both ends.
@Suite struct FetchOpenGossipTests {
    @Test func theGatewayIsReachedThroughItsNodeAnnouncement() async throws {
        let upstream = try await TestUpstream.start()
        func gossip(_ c: inout NodeConfiguration) {
            var g = GossipConfiguration()
            g.refreshInterval = .seconds(2)
            c.gossip = g
        }
        let gateway = try await RunningNode.start {
            $0.http = PeerEndpoint(host: "127.0.0.1", port: 0)
            gossip(&$0)
        }
        let relay = try await RunningNode.start { gossip(&$0) }
        let buyer = try await RunningNode.start { gossip(&$0) }
        let http = try #require(gateway.started.http)
        let payee = gateway.started.id.description
        _ = try await gateway.call("service.add", [
            "name": "echo", "upstream": .string("http://127.0.0.1:\(upstream.port)/api"), "price": "250",
            "unit": "call", "asset": "USDC", "decimals": 6, "description": "echo"])
        for node in [gateway, buyer] {
            _ = try await node.call("connect", ["host": "127.0.0.1", "port": .int(Int64(relay.started.listen.port))])
        }
        _ = try await buyer.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000000"])
        _ = try await buyer.call("policy.set", ["auto_open": ["USDC": ["deposit": "10000", "max_per_peer": "10000"]]])

        // The gateway's node announcement reaches the buyer through the relay, with its listen address.
        let announced = try await eventually(60) {
            let nodes = try await buyer.call("graph.nodes")["nodes"]?.arrayValue ?? []
            return nodes.contains { $0["id"]?.stringValue == payee
                && $0["addresses"] == .array([.string(gateway.started.listen.description)]) }
        }
        #expect(announced, "the buyer never learnt the gateway's address over gossip")
        func connectedToGateway() async throws -> Bool {
            let peers = try await buyer.call("peers")["peers"]?.arrayValue ?? []
            return peers.contains { $0["id"]?.stringValue == payee && $0["state"] == "connected" }
        }
        #expect(try await connectedToGateway() == false, "no connection to the gateway before the request")

        let fetched = try await buyer.call("http.fetch", ["url": .string("http://\(http)/echo/a"), "max_price": "1000",
                                                          "idempotency_key": "gossip-1"])
        let opened = try #require(fetched["opened"]?.stringValue, "\(fetched)")
        #expect(fetched["status"] == 200 && fetched["paid"] == "250" && fetched["channel"]?.stringValue == opened
                && fetched["nonce"] == "1", "\(fetched)")
        #expect(try await connectedToGateway(), "the request dialled the announced address")
        // Exact balances at both ends: the deposit left the buyer's wallet, 250 paid through the channel.
        let channels = try await buyer.call("channel.list")["channels"]?.arrayValue ?? []
        #expect(channels.count == 1 && channels.first?["channel"]?.stringValue == opened && channels.first?["deposit"] == "10000"
                && channels.first?["paid"] == "250" && channels.first?["peer"]?.stringValue == payee, "\(channels)")
        #expect(try await buyer.call("balance", ["asset": "USDC"])["wallets"]?.arrayValue?.first?["amount"] == "990000")
        let atGateway = try await gateway.call("channel.get", ["channel": .string(opened)])
        #expect(atGateway["paid"] == "250" && atGateway["deposit"] == "10000", "\(atGateway)")
        #expect(upstream.calls == 1)

        await buyer.stop()
        await relay.stop()
        await gateway.stop()
        await upstream.stop()
    }
}
