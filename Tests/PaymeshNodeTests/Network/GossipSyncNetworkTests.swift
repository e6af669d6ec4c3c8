import Foundation
import NIOCore
import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshTestSupport
import Testing

/// Graph sync (Specs/gossip.md §8.5) and misbehaviour reports (§10.4) on the in-memory network
/// with the manual clock: a node that joins after everything was published learns it from its
/// peer's graph (no origin refreshes it meanwhile); channels opened before any mesh formed still
/// reach every graph; a peer that keeps forging gossip is banned while honest gossip flows on.
@Suite struct GossipSyncNetworkTests {
    static let funds: UInt128 = 1_000_000
    static let usdc = TestNetwork.usdc

    static func gossipOn(_: Int, _ setup: inout NodeSetup) { setup.gossip = GossipConfiguration() }

    /// Nodes 0…5 in a ring open channels and advertise services; the network goes quiet. Node 6,
    /// started but unconnected so far, then connects to node 0 only: its graph ends up with all six
    /// channels, seven nodes and six services. Refreshes are an hour apart and no heartbeat
    /// republishes the others' messages (reannouncement is for a node's own messages and only node
    /// 0 has a new peer), so the others' entries can only have come by node 0's sync answer.
    @Test func lateJoinerLearnsEveryChannelNodeAndService() async throws {
        let n = 6
        try await withTestNetwork(n + 1, timeout: 120, configure: Self.gossipOn) { net in
            for i in 0..<n { try await net.connect(i, (i + 1) % n) }
            var channels: [ChannelID] = []
            for i in 0..<n {
                try await net[i].fund(Self.funds)
                channels.append(try await net[i].openChannel(to: net[(i + 1) % n], deposit: UInt128(100 + i)))
                _ = try await net[i].gossip.advertise(ServiceAnnouncement(name: "svc-\(i)", description: "", unit: .call, price: Amount(UInt128(5 + i)),
                                                                          asset: Self.usdc, endpoint: .mesh, expires: 0))
            }
            try await net.runGossip("the ring's graphs are complete") {
                for i in 0..<n {
                    let c = await net[i].gossip.graphCounts()
                    guard c.channels == n, c.nodes == n, c.services == n else { return false }
                }
                return true
            }
            let late = net[n]
            #expect(await late.gossip.graphCounts().channels == 0)
            // Long after everything was published (outside §5.4's window): only sync can carry it.
            net.advance(by: .seconds(120))
            try await net.connect(n, 0)
            try await net.runGossip("the late node's graph is complete") {
                let c = await late.gossip.graphCounts()
                return c.channels == n && c.nodes == n + 1 && c.services == n
            }
            #expect(Set(await late.gossip.graphChannels().map(\.id)) == Set(channels))
            #expect(await late.gossip.graphChannels().allSatisfy { $0.updateA != nil && $0.updateB != nil })
            let s = await late.gossip.status()
            #expect(s.counters.syncDelivered >= 3 * n, "\(s.counters)")
            #expect(s.counters.syncCompleted >= 1 && s.counters.invalid == 0)
            #expect(await net[0].gossip.status().counters.syncRequestsServed >= 1)
        }
    }

    /// Channels opened right after connecting, before any SUBSCRIBE was answered or any mesh
    /// formed: every graph still ends up with every channel (IHAVE on SUBSCRIBE and on GRAFT, §9.4).
    @Test func channelsOpenedBeforeMeshesFormReachEveryGraph() async throws {
        let n = 8
        try await withTestNetwork(n, timeout: 120, configure: Self.gossipOn) { net in
            var channels: [ChannelID] = []
            for i in 0..<n {
                try await net.connect(i, (i + 1) % n)
                try await net[i].fund(Self.funds)
            }
            for i in 0..<n { channels.append(try await net[i].openChannel(to: net[(i + 1) % n], deposit: UInt128(50 + i))) }
            try await net.runGossip("every graph holds every channel") {
                for node in net.nodes where await node.gossip.graphCounts().channels != n { return false }
                return true
            }
            for node in net.nodes {
                #expect(Set(await node.gossip.graphChannels().map(\.id)) == Set(channels))
                #expect(await node.gossip.status().counters.invalid == 0)
            }
        }
    }

    /// A peer that forges gossip (node announcements in another node's name, signed by itself) is
    /// reported to the peer table on each forgery and banned at the policy's third; the honest
    /// channel opened afterwards still reaches the victim's other peer, and nothing forged does.
    @Test func forgingGossipPeerIsBannedWhileHonestGossipFlows() async throws {
        try await withTestNetwork(3, configure: { i, setup in if i != 2 { setup.gossip = GossipConfiguration() } }) { net in
            try net[2].peers.router.register(GossipProtocol.id, feature: GossipProtocol.feature) { stream, _ in
                _ = Task { do { for try await _ in stream.inbound {} } catch {} }
            }
            try await net.connect(0, 1)
            try await net.connect(2, 0)
            let victim = net[0], hostile = net[2]
            try await net.waitForGossip("the victim has the hostile as a gossip peer") {
                await victim.gossip.status().peers.contains { $0.id == hostile.id }
            }
            let connection = try #require(await hostile.peers.connection(to: victim.id))
            let stream = try await connection.openStream(GossipProtocol.id)
            try await stream.write(ByteBuffer(bytes: GossipFrame.subscribe(.nodes).encoded()))
            let now = net.clock.unixMillis
            for i in 0..<3 {
                let fake = try NodeAnnouncement(alias: "impostor-\(i)", addresses: [], features: [], onionKey: hostile.key.publicKey)
                let body = GossipMessage.encodeBody(.node(fake), origin: net[1].id, timestamp: now + UInt64(i))
                let signature = try Signature65(try hostile.key.personalSign(message: GossipMessage.signingTag + body))
                try await stream.write(ByteBuffer(bytes: GossipFrame.publish(try GossipMessage(body: body, signature: signature)).encoded()))
            }
            let info = try await victim.waitFor("the hostile peer is banned") { () -> PeerInfo? in
                guard let info = try? await victim.peers.info(hostile.id), info.state == "banned" else { return nil }
                return info
            }
            #expect(info.banReason?.contains("gossip") == true, "\(info.banReason ?? "")")
            let s = await victim.gossip.status()
            #expect(s.counters.dropped[.invalidSignature] == 3 && s.driver.misbehaviourReported == 3, "\(s.counters) \(s.driver)")
            // Honest gossip goes on: a channel between 0 and 1 reaches node 1's graph.
            try await victim.fund(Self.funds)
            let channel = try await victim.openChannel(to: net[1], deposit: 50)
            try await net.waitForGossip("node 1 holds the honest channel") { await net[1].gossip.graphChannels().contains { $0.id == channel } }
            #expect(await net[1].gossip.graphNodes().allSatisfy { !$0.announcement.alias.hasPrefix("impostor") })
            #expect(await victim.gossip.graphNodes().allSatisfy { !$0.announcement.alias.hasPrefix("impostor") })
            #expect(await net[1].gossip.status().driver.misbehaviourReported == 0)
        }
    }
}
