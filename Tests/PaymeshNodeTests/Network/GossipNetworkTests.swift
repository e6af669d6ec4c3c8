import Foundation
import NIOCore
import PaymeshChannels
import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshTestSupport
import Testing

/// Gossip in the node (Specs/gossip.md) on the in-memory network with the manual clock: the
/// channel-announcement exchange (§7.5), dissemination of channels, nodes and services through a
/// mesh, and a hostile peer's forged announcements refused and counted.
@Suite struct GossipNetworkTests {
    static let funds: UInt128 = 1_000_000

    static func gossipOn(_: Int, _ setup: inout NodeSetup) { setup.gossip = GossipConfiguration() }

    static let usdc = TestNetwork.usdc

    /// Opening a channel: the payer proposes, the payee counter-signs over the gossip stream, and
    /// both graphs hold the channel signed by both ends with each end's update.
    @Test func openedChannelIsAnnouncedSignedByBothEnds() async throws {
        try await withTestNetwork(2, configure: Self.gossipOn) { net in
            try await net.connect(0, 1)
            try await net[0].fund(Self.funds)
            let channel = try await net[0].openChannel(to: net[1], deposit: 500)
            try await net.runGossip("both graphs hold the channel and both updates") {
                for node in net.nodes {
                    guard let c = await node.gossip.graphChannels().first(where: { $0.id == channel }), c.updateA != nil, c.updateB != nil else { return false }
                }
                return true
            }
            for node in net.nodes {
                let c = try #require(await node.gossip.graphChannels().first { $0.id == channel })
                #expect(Set([c.peerA, c.peerB]) == Set([net[0].id, net[1].id]))
                #expect(c.capacity == Amount(500) && c.asset == Self.usdc)
                let s = await node.gossip.status()
                #expect(s.announced == 1 && s.announceable == 1)
                #expect(s.counters.invalid == 0)
            }
            #expect(await net[1].gossip.status().counterSigned == 1)
            #expect(await net[0].gossip.status().proposalsSent >= 1)
        }
    }

    /// 20 nodes in a ring with chords; every node pays its neighbour over a channel and advertises
    /// a service: every graph ends up with all 20 channels, 20 nodes and 20 services; a withdrawn
    /// service disappears everywhere, and an expired one is gone once its time passes.
    @Test func meshLearnsEveryChannelNodeAndService() async throws {
        let n = 20
        try await withTestNetwork(n, timeout: 240, configure: Self.gossipOn) { net in
            var edges = Set<[Int]>()
            for i in 0..<n {
                edges.insert([i, (i + 1) % n].sorted())
                edges.insert([i, (i + 7) % n].sorted())
            }
            for e in edges.sorted(by: { $0.lexicographicallyPrecedes($1) }) { try await net.connect(e[0], e[1]) }
            try await net.runGossip("meshes formed") {
                for node in net.nodes {
                    if await node.gossip.status().mesh[GossipTopic.channels.name]?.isEmpty ?? true { return false }
                }
                return true
            }
            var channels: [ChannelID] = []
            for i in 0..<n {
                try await net[i].fund(Self.funds)
                channels.append(try await net[i].openChannel(to: net[(i + 1) % n], deposit: UInt128(100 + i)))
                _ = try await net[i].gossip.advertise(ServiceAnnouncement(name: "svc-\(i)", description: "service of node \(i)", unit: .call,
                                                                          price: Amount(UInt128(10 + i)), asset: Self.usdc, endpoint: .mesh, expires: 0))
            }
            try await net.runGossip("every graph holds every channel, node and service") {
                for node in net.nodes {
                    let c = await node.gossip.graphCounts()
                    guard c.channels == n, c.nodes == n, c.services == n else { return false }
                }
                return true
            }
            for node in net.nodes {
                let known = Set(await node.gossip.graphChannels().map(\.id))
                #expect(known == Set(channels))
                let s = await node.gossip.status()
                #expect(s.counters.invalid == 0, "node \(node.index): \(s.counters)")
            }
            // A far node finds a service by name, unit, price cap and asset; cheapest first.
            let far = net[n / 2]
            let cheap = await far.gossip.findServices(NetworkGraph.ServiceQuery(name: "SVC", unit: .call, maxPrice: Amount(12), asset: "USDC"))
            #expect(cheap.map(\.announcement.name) == ["svc-0", "svc-1", "svc-2"])
            #expect(cheap.first?.origin == net[0].id)
            #expect(await far.gossip.findServices(NetworkGraph.ServiceQuery(unit: .token)).isEmpty)
            // Withdrawal reaches everyone.
            try await net[0].gossip.withdraw("svc-0")
            try await net.runGossip("svc-0 withdrawn everywhere") {
                for node in net.nodes {
                    if await node.gossip.graphCounts().services != n - 1 { return false }
                }
                return true
            }
            #expect(await far.gossip.findServices(NetworkGraph.ServiceQuery(name: "svc-0")).isEmpty)
        }
    }

    /// A service advertised with a short lifetime is gone from a far node's directory once it expires.
    @Test func expiredServiceIsGone() async throws {
        try await withTestNetwork(3, configure: Self.gossipOn) { net in
            try await net.connect(0, 1)
            try await net.connect(1, 2)
            try await net.runGossip("meshes formed") {
                await net[1].gossip.status().mesh[GossipTopic.services.name]?.count == 2
            }
            _ = try await net[0].gossip.advertise(ServiceAnnouncement(name: "short", description: "", unit: .second, price: Amount(3), asset: Self.usdc,
                                                                      endpoint: .http("https://example.test/x"), expires: 0), lifetimeMillis: 5_000)
            try await net.runGossip("node 2 finds the service") {
                await net[2].gossip.findServices(NetworkGraph.ServiceQuery(name: "short")).count == 1
            }
            let found = try #require(await net[2].gossip.findServices(NetworkGraph.ServiceQuery(name: "short")).first)
            #expect(found.announcement.endpoint == .http("https://example.test/x") && found.announcement.unit == .second)
            net.advance(by: .seconds(6))
            #expect(await net[2].gossip.findServices(NetworkGraph.ServiceQuery(name: "short")).isEmpty)
        }
    }

    /// A hostile peer (no gossip service: it writes raw frames) publishes a CHANNEL_ANNOUNCE signed
    /// by one end only and a message whose envelope signature is not its origin's: the victim
    /// refuses both (counted invalid, P4 drives the hostile's score below zero) and forwards neither;
    /// an honest announcement sent after them still reaches the victim's other peer.
    @Test func forgedAnnouncementsAreRefusedCountedAndNotForwarded() async throws {
        try await withTestNetwork(3, configure: { i, setup in if i != 2 { setup.gossip = GossipConfiguration() } }) { net in
            // Node 2 is the hostile peer: it offers the gossip protocol (so the victim opens a stream
            // to it) but drains what it receives and writes frames by hand.
            try net[2].peers.router.register(GossipProtocol.id, feature: GossipProtocol.feature) { stream, _ in
                _ = Task { do { for try await _ in stream.inbound {} } catch {} }
            }
            try await net.connect(0, 1)
            try await net.connect(2, 0)
            let victim = net[0].gossip, other = net[1].gossip, hostile = net[2]
            try await net.waitForGossip("the victim has the hostile as a gossip peer") {
                await victim.status().peers.contains { $0.id == hostile.id }
            }
            let connection = try #require(await hostile.peers.connection(to: net[0].id))
            let stream = try await connection.openStream(GossipProtocol.id)
            try await stream.write(ByteBuffer(bytes: GossipFrame.subscribe(.channels).encoded()))
            let now = net.clock.unixMillis
            let accomplice = IdentityKey(privateKey: try Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: 7, count: 32)))
            // 1. Signed by the hostile end only: its signature in both slots.
            let ends = [hostile.id, accomplice.address].sorted()
            let draft = try ChannelAnnounce(channelID: ChannelID(Array(repeating: 0xAB, count: 32)), peerA: ends[0], peerB: ends[1],
                                            capacity: Amount(1_000), asset: Self.usdc, feeBase: Amount(0), feePPM: 0,
                                            expiryDeltaMillis: 60_000, timestamp: now, signatureA: .unsigned, signatureB: .unsigned)
            var oneEnd = try draft.signed(with: hostile.key)
            if ends[0] == hostile.id { oneEnd.signatureB = oneEnd.signatureA } else { oneEnd.signatureA = oneEnd.signatureB }
            let forged1 = try GossipMessage.sign(.channelAnnounce(oneEnd), timestamp: now, with: hostile.key)
            // 2. An envelope claiming the victim's neighbour as origin, signed by the hostile.
            let fake = try NodeAnnouncement(alias: "impostor", addresses: [], features: [], onionKey: hostile.key.publicKey)
            let body = GossipMessage.encodeBody(.node(fake), origin: net[1].id, timestamp: now)
            let signature = try Signature65(try hostile.key.personalSign(message: GossipMessage.signingTag + body))
            let forged2 = try GossipMessage(body: body, signature: signature)
            for m in [forged1, forged2] { try await stream.write(ByteBuffer(bytes: GossipFrame.publish(m).encoded())) }
            try await net.waitForGossip("the victim counts both forgeries invalid") { await victim.status().counters.invalid == 2 }
            let s = await victim.status()
            #expect(s.counters.dropped[.invalidSignature] == 2)
            let hostileScore = try #require(s.peers.first { $0.id == hostile.id })
            #expect(hostileScore.score < 0 && hostileScore.components.invalidMessages < 0)
            #expect(s.graphChannels == 0)
            #expect(await victim.graphNodes().allSatisfy { $0.announcement.alias != "impostor" })
            // An honest channel between 0 and 1 afterwards reaches node 1; the forgeries never did.
            try await net[0].fund(Self.funds)
            let channel = try await net[0].openChannel(to: net[1], deposit: 50)
            try await net.waitForGossip("node 1 holds the honest channel") { await other.graphChannels().contains { $0.id == channel } }
            #expect(await other.graphChannels().map(\.id) == [channel])
            #expect(await other.status().counters.invalid == 0)
            #expect(await other.graphNodes().allSatisfy { $0.announcement.alias != "impostor" })
        }
    }
}
