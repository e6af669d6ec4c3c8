import PaymeshCrypto
import PaymeshGossip
import PaymeshGossipSimulation
import PaymeshMessages
import Testing

/// Graph sync (Specs/gossip.md §8.5) and the IHAVE offers of §9.4, router against router: frames
/// cross as encoded bytes, each written frame is reported with `onSent` (which paces an answer).
@Suite("Gossip graph sync")
struct GossipSyncTests {
    let t0 = Fixture.t0
    let alice = Fixture.alice, bob = Fixture.bob, carol = Fixture.carol

    func sign(_ payload: GossipPayload, by key: IdentityKey, at time: UInt64) -> GossipMessage {
        try! GossipMessage.sign(payload, timestamp: time, with: key)
    }

    /// Two routers, each with a validator, wired back to back.
    struct Link<V: GossipValidator> {
        var routers: [GossipRouter]
        var validators: [V]
        var delivered: [[GossipMessage]] = [[], []]
        var queue: [(from: Int, to: Int, bytes: [UInt8])] = []

        mutating func enqueue(_ from: Int, _ actions: [GossipAction]) {
            for action in actions {
                switch action {
                case .send(let frame, _): queue.append((from, 1 - from, frame.encoded()))
                case .deliver(let m): delivered[from].append(m)
                default: break
                }
            }
        }

        /// Delivers every queued frame (and what it causes) at `now`.
        mutating func run(now: UInt64) {
            while !queue.isEmpty {
                let (from, to, bytes) = queue.removeFirst()
                enqueue(from, routers[from].onSent(to: routers[to].localID))
                let actions = routers[to].onBytes(bytes, from: routers[from].localID, now: now, validator: &validators[to])
                enqueue(to, actions)
            }
        }

        mutating func connect(now: UInt64) {
            enqueue(0, routers[0].onPeerConnected(routers[1].localID, now: now))
            enqueue(1, routers[1].onPeerConnected(routers[0].localID, now: now))
            run(now: now)
        }
    }

    func subscribed(_ id: EthereumAddress, parameters: GossipParameters = GossipParameters()) -> GossipRouter {
        var r = GossipRouter(localID: id, parameters: parameters)
        var rng = SeededGenerator(seed: 9)
        for topic in GossipTopic.all { _ = r.subscribe(topic, now: t0, rng: &rng) }
        return r
    }

    /// A graph with one channel (announcement, both updates), two nodes and a service, all an hour old.
    func fullGraph(now: UInt64) -> (NetworkGraph, [GossipMessage]) {
        let then = now - 3_600_000
        let messages = [
            sign(.channelAnnounce(Fixture.announce(alice, bob, signers: [alice, bob], at: then)), by: alice, at: then),
            sign(.channelUpdate(Fixture.update(feePPM: 10)), by: alice, at: then + 1),
            sign(.channelUpdate(Fixture.update(feePPM: 20)), by: bob, at: then + 2),
            sign(Fixture.nodePayload("alice", key: alice), by: alice, at: then),
            sign(Fixture.nodePayload("bob", key: bob), by: bob, at: then),
            sign(.service(Fixture.service("llm", expires: now + 86_400_000)), by: bob, at: then),
        ]
        var graph = NetworkGraph()
        for m in messages { #expect(graph.validate(m, now: m.timestamp) == .accept) }
        return (graph, messages)
    }

    @Test func newPeerLearnsTheWholeGraphButForwardsNothing() {
        let now = t0 + 7_200_000
        let (graph, messages) = fullGraph(now: now)
        var link = Link(routers: [subscribed(carol.address), subscribed(alice.address)], validators: [NetworkGraph(), graph])
        link.connect(now: now)
        let g = link.validators[0]
        #expect(g.channels.count == 1 && g.nodes.count == 2 && g.services.count == 1)
        #expect(g.channels[Fixture.channelID]?.update(from: bob.address)?.update.feePPM == 20)
        #expect(Set(link.delivered[0].map(\.id)) == Set(messages.map(\.id)))
        let c = link.routers[0].counters
        #expect(c.syncRequestsSent == 1 && c.syncMessagesReceived == 6 && c.syncDelivered == 6 && c.syncCompleted == 1, "\(c)")
        #expect(c.forwarded == 0 && c.invalid == 0 && c.droppedTotal == 0, "\(c)")
        #expect(link.routers[1].counters.syncRequestsServed == 1 && link.routers[1].counters.syncMessagesSent == 6)
        // Ages count from the origin's timestamps: the synced channel is an hour old, not fresh.
        #expect(g.channelInfos(now: now)[0].ageMillis >= 3_599_000)
    }

    @Test func syncedEntriesAgeFromTheirOwnTimestamps() {
        var limits = NetworkGraph.Limits()
        limits.channelStaleMillis = 600_000
        limits.nodeStaleMillis = 600_000
        var graph = NetworkGraph(limits: limits)
        let now = t0 + 10_000_000
        let old = sign(.channelAnnounce(Fixture.announce(alice, bob, signers: [alice, bob], at: now - 700_000)), by: alice, at: now - 700_000)
        #expect(graph.validateSynced(old, now: now) == .ignore("synced channel message older than the stale period"))
        let recent = sign(.channelAnnounce(Fixture.announce(alice, bob, signers: [alice, bob], at: now - 500_000)), by: alice, at: now - 500_000)
        #expect(graph.validateSynced(recent, now: now) == .accept)
        #expect(graph.prune(now: now + 99_999).channels == 0)
        #expect(graph.prune(now: now + 100_000).channels == 1, "pruned channelStale after the origin's timestamp")
        let node = sign(Fixture.nodePayload("a", key: alice), by: alice, at: now - 600_000)
        #expect(graph.validateSynced(node, now: now) == .ignore("synced node announcement older than the stale period"))
    }

    @Test func unsolicitedAndRepeatedSyncAreRefused() {
        var r = subscribed(carol.address)
        var graph = NetworkGraph()
        _ = r.onPeerConnected(alice.address, now: t0)
        _ = r.onFrame(.syncEnd(count: 0), from: alice.address, now: t0, validator: &graph)
        #expect(r.counters.syncCompleted == 1)
        // After SYNC_END, pushed messages are unsolicited: dropped and penalised (P7).
        for i in 0..<4 {
            let m = sign(Fixture.nodePayload("x\(i)", key: alice), by: alice, at: t0 + UInt64(i))
            #expect(r.onFrame(.syncMessage(m), from: alice.address, now: t0, validator: &graph).isEmpty)
        }
        #expect(r.counters.dropped[.unsolicitedSync] == 4 && graph.nodes.isEmpty)
        #expect(r.scoreComponents(of: alice.address, now: t0).behaviourPenalty < 0)
        // A second request within a minute gets no answer.
        #expect(r.onFrame(.syncRequest(limit: 10), from: alice.address, now: t0, validator: &graph) == [.send(.syncEnd(count: 0), to: alice.address)])
        #expect(r.onFrame(.syncRequest(limit: 10), from: alice.address, now: t0 + 30_000, validator: &graph).isEmpty)
        #expect(r.counters.dropped[.syncRateLimited] == 1)
        var rng = SeededGenerator(seed: 1)
        _ = r.onHeartbeat(now: t0 + 60_000, rng: &rng)
        #expect(r.onFrame(.syncRequest(limit: 10), from: alice.address, now: t0 + 60_000, validator: &graph) == [.send(.syncEnd(count: 0), to: alice.address)])
    }

    @Test func requestBudgetBoundsWhatIsAccepted() {
        var parameters = GossipParameters()
        parameters.syncMaxMessages = 2
        var r = subscribed(carol.address, parameters: parameters)
        var graph = NetworkGraph()
        #expect(r.onPeerConnected(alice.address, now: t0).last == .send(.syncRequest(limit: 2), to: alice.address))
        for i in 0..<3 {
            let m = sign(Fixture.nodePayload("n\(i)", key: Fixture.key(UInt8(10 + i))), by: Fixture.key(UInt8(10 + i)), at: t0)
            _ = r.onFrame(.syncMessage(m), from: alice.address, now: t0, validator: &graph)
        }
        #expect(graph.nodes.count == 2 && r.counters.dropped[.unsolicitedSync] == 1)
    }

    /// A forged synced message is invalid (P4) like a forged PUBLISH.
    @Test func forgedSyncedMessageIsInvalid() {
        var r = subscribed(carol.address)
        var graph = NetworkGraph()
        _ = r.onPeerConnected(mallory.address, now: t0)
        let body = GossipMessage.encodeBody(Fixture.nodePayload("alice", key: alice), origin: alice.address, timestamp: t0)
        let forged = try! GossipMessage(body: body, signature: try! Signature65(try! Fixture.mallory.personalSign(message: GossipMessage.signingTag + body)))
        let actions = r.onFrame(.syncMessage(forged), from: mallory.address, now: t0, validator: &graph)
        #expect(actions.count == 1 && r.counters.dropped[.invalidSignature] == 1 && graph.nodes.isEmpty)
        if case .misbehaviour(let peer, let error) = actions.first { #expect(peer == mallory.address && error.kind == .invalidSignature) }
    }

    var mallory: IdentityKey { Fixture.mallory }

    /// An answer larger than half the send queue goes out as the queue drains, then SYNC_END.
    @Test func largeAnswerIsPaced() {
        struct Many: GossipValidator {
            var messages: [GossipMessage]
            mutating func validate(_ message: GossipMessage, now: UInt64) -> GossipValidation { .accept }
            func syncMessages(topics: Set<GossipTopic>, now: UInt64, limit: Int) -> [GossipMessage] { Array(messages.prefix(limit)) }
        }
        let messages = (0..<600).map { i in sign(Fixture.nodePayload("n\(i)", key: alice), by: alice, at: t0 + UInt64(i)) }
        var r = subscribed(alice.address)
        var v = Many(messages: messages)
        _ = r.onPeerConnected(carol.address, now: t0)
        _ = r.onFrame(.subscribe(.nodes), from: carol.address, now: t0, validator: &v)
        let first = r.onFrame(.syncRequest(limit: 20_000), from: carol.address, now: t0, validator: &v)
        // Pending: SUBSCRIBE×3 + SYNC_REQUEST, then messages up to half the queue (256).
        #expect(first.count == 256 - 4)
        var sent = first.count, ended = false
        var guardCount = 0
        while !ended, guardCount < 10_000 {
            guardCount += 1
            for a in r.onSent(to: carol.address) {
                if case .send(.syncMessage, _) = a { sent += 1 }
                if case .send(.syncEnd(let count), _) = a { ended = true; #expect(count == 600) }
            }
        }
        #expect(sent == 600 && ended)
        #expect(r.counters.dropped[.outboundQueueFull] == nil)
    }

    /// A message published before the peer's SUBSCRIBE arrived is offered by IHAVE when it does.
    @Test func subscribeAfterPublishGetsAnIHave() {
        var r = subscribed(alice.address)
        var v = AcceptAllValidator()
        _ = r.onPeerConnected(bob.address, now: t0)
        let m = sign(Fixture.nodePayload("alice", key: alice), by: alice, at: t0)
        #expect(r.publish(m, now: t0).isEmpty, "bob has not subscribed yet")
        #expect(r.onFrame(.subscribe(.nodes), from: bob.address, now: t0 + 1, validator: &v) == [.send(.ihave(.nodes, [m.id]), to: bob.address)])
        #expect(r.onFrame(.subscribe(.nodes), from: bob.address, now: t0 + 2, validator: &v).isEmpty, "once per subscription")
    }
}
