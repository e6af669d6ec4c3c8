import PaymeshCrypto
import PaymeshGossip
import PaymeshGossipSimulation
import PaymeshMessages
import Testing

@Suite("Network graph")
struct NetworkGraphTests {
    let t0 = Fixture.t0
    let alice = Fixture.alice
    let bob = Fixture.bob
    let carol = Fixture.carol

    func message(_ payload: GossipPayload, by key: IdentityKey, at time: UInt64) -> GossipMessage {
        try! GossipMessage.sign(payload, timestamp: time, with: key)
    }

    @Test func channelSignedByBothEndsIsAdded() throws {
        var graph = NetworkGraph()
        let m = message(.channelAnnounce(Fixture.announce(alice, bob, signers: [alice, bob])), by: alice, at: t0)
        try m.verifySignature()
        #expect(graph.validate(m, now: t0) == .accept)
        let info = graph.channelInfos(now: t0 + 5_000)
        #expect(info.count == 1 && info[0].ageMillis == 5_000 && info[0].feePPM == 100)
        #expect(Set([info[0].peerA, info[0].peerB]) == [alice.address, bob.address])
    }

    @Test mutating func channelAnnouncedByOneEndOnlyIsRefused() {
        let oneSided = message(.channelAnnounce(Fixture.announce(alice, bob, signers: [alice])), by: alice, at: t0)
        #expect(throws: GossipError.self) { try oneSided.verifySignature() }
        // Through a router: not delivered, not forwarded, counted against the sender.
        var router = GossipRouter(localID: carol.address)
        var rng = SeededGenerator(seed: 1)
        var graph = NetworkGraph()
        _ = router.subscribe(.channels, now: t0, rng: &rng)
        _ = router.onPeerConnected(alice.address, now: t0)
        let actions = router.onFrame(.publish(oneSided), from: alice.address, now: t0, validator: &graph)
        #expect(actions.count == 1 && router.counters.invalid == 1 && router.counters.dropped[.invalidSignature] == 1)
        #expect(graph.channels.isEmpty)
        // Both ends signed, but a third node publishes it: the graph rejects it (§7.1).
        let relayed = message(.channelAnnounce(Fixture.announce(alice, bob, signers: [alice, bob])), by: carol, at: t0)
        if case .reject = graph.validate(relayed, now: t0) {} else { Issue.record("a third party's announcement must be rejected") }
    }

    @Test func staleAndTooFrequentUpdatesAreIgnored() {
        var graph = NetworkGraph()
        _ = graph.validate(message(.channelAnnounce(Fixture.announce(alice, bob, signers: [alice, bob])), by: alice, at: t0), now: t0)
        #expect(graph.validate(message(.channelUpdate(Fixture.update(feePPM: 300)), by: bob, at: t0 + 20_000), now: t0 + 20_000) == .accept)
        #expect(graph.validate(message(.channelUpdate(Fixture.update(feePPM: 1)), by: bob, at: t0 + 10_000), now: t0 + 20_001)
                == .ignore("stale channel update"))
        #expect(graph.validate(message(.channelUpdate(Fixture.update(feePPM: 2)), by: bob, at: t0 + 25_000), now: t0 + 25_000)
                == .ignore("channel update rate"))
        #expect(graph.channels[Fixture.channelID]?.update(from: bob.address)?.update.feePPM == 300)
        // The other end's updates are independent; a third node's are rejected.
        #expect(graph.validate(message(.channelUpdate(Fixture.update(feePPM: 7)), by: alice, at: t0 + 25_000), now: t0 + 25_000) == .accept)
        #expect(graph.validate(message(.channelUpdate(Fixture.update()), by: carol, at: t0 + 40_000), now: t0 + 40_000)
                == .reject("channel update from neither end"))
        // An update for a channel we do not know is ignored, not penalised.
        let unknown = try! ChannelID([UInt8](repeating: 1, count: 32))
        #expect(graph.validate(message(.channelUpdate(Fixture.update(unknown)), by: bob, at: t0), now: t0) == .ignore("update for an unknown channel"))
    }

    @Test func channelsNotRefreshedArePruned() {
        var limits = NetworkGraph.Limits()
        limits.channelStaleMillis = 60_000
        var graph = NetworkGraph(limits: limits)
        _ = graph.validate(message(.channelAnnounce(Fixture.announce(alice, bob, signers: [alice, bob])), by: alice, at: t0), now: t0)
        _ = graph.validate(message(.channelUpdate(Fixture.update()), by: bob, at: t0 + 30_000), now: t0 + 30_000)
        #expect(graph.prune(now: t0 + 89_999).channels == 0, "the update refreshed it")
        #expect(graph.prune(now: t0 + 90_000).channels == 1)
        #expect(graph.channels.isEmpty)
    }

    @Test func servicesExpireAreWithdrawnAndAreFound() {
        var graph = NetworkGraph()
        let cheap = Fixture.service("llm-small", price: 10, expires: t0 + 1_000)
        let dear = Fixture.service("llm-large", price: 100, expires: t0 + 100_000)
        let perCall = Fixture.service("translate", unit: .call, price: 5, asset: "ETH", expires: t0 + 100_000)
        #expect(graph.validate(message(.service(cheap), by: alice, at: t0), now: t0) == .accept)
        #expect(graph.validate(message(.service(dear), by: bob, at: t0), now: t0) == .accept)
        #expect(graph.validate(message(.service(perCall), by: bob, at: t0), now: t0) == .accept)
        #expect(graph.findServices(.init(name: "LLM"), now: t0).map(\.announcement.name) == ["llm-small", "llm-large"])
        #expect(graph.findServices(.init(unit: .token, maxPrice: Amount(50), asset: "USDC"), now: t0).map(\.origin) == [alice.address])
        #expect(graph.findServices(.init(asset: "ETH"), now: t0).map(\.announcement.name) == ["translate"])
        // Expiry: invisible at once, removed by pruning.
        #expect(graph.findServices(.init(name: "llm"), now: t0 + 1_000).map(\.announcement.name) == ["llm-large"])
        #expect(graph.prune(now: t0 + 1_000).services == 1 && graph.services.count == 2)
        // Withdrawal: expires = timestamp.
        let withdraw = Fixture.service("translate", unit: .call, price: 5, asset: "ETH", expires: t0 + 2_000)
        #expect(graph.validate(message(.service(withdraw), by: bob, at: t0 + 2_000), now: t0 + 2_000) == .accept)
        #expect(graph.services.count == 1)
        // A replayed older announcement does not resurrect it once a newer one was seen… (here: the stale one is ignored)
        #expect(graph.validate(message(.service(dear), by: bob, at: t0 - 1), now: t0 + 2_000) == .ignore("stale service announcement"))
    }

    @Test func nodesNewerWinsAndArePrunedWhenStale() {
        var limits = NetworkGraph.Limits()
        limits.nodeStaleMillis = 10_000
        var graph = NetworkGraph(limits: limits)
        #expect(graph.validate(Fixture.nodeMessage("v2", at: t0 + 5), now: t0 + 5) == .accept)
        #expect(graph.validate(Fixture.nodeMessage("v1", at: t0), now: t0 + 6) == .ignore("stale node announcement"))
        #expect(graph.nodeList.map(\.announcement.alias) == ["v2"])
        #expect(graph.prune(now: t0 + 10_005).nodes == 1)
    }
}
