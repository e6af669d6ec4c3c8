import PaymeshCrypto
import PaymeshGossip
import PaymeshGossipSimulation
import Testing

/// The router as a state machine: events in, whole action lists compared.
@Suite("Gossip router")
struct GossipRouterTests {
    let t0 = Fixture.t0
    let me = Fixture.peer(200)
    var rng = SeededGenerator(seed: 42)
    var validator = AcceptAllValidator()

    /// A router subscribed to `topics` and connected to `peers`, each of which subscribed to every topic.
    mutating func router(peers: [EthereumAddress], topics: [GossipTopic] = [.nodes], parameters: GossipParameters = GossipParameters()) -> GossipRouter {
        var r = GossipRouter(localID: me, parameters: parameters)
        for topic in topics { _ = r.subscribe(topic, now: t0, rng: &rng) }
        for p in peers {
            _ = r.onPeerConnected(p, now: t0)
            for topic in GossipTopic.all { _ = r.onFrame(.subscribe(topic), from: p, now: t0, validator: &validator) }
            r.onSent(to: p, frames: 100)
        }
        return r
    }

    @Test mutating func connectingSendsOurSubscriptions() {
        var r = GossipRouter(localID: me)
        #expect(r.subscribe(.nodes, now: t0, rng: &rng).isEmpty)
        #expect(r.subscribe(.channels, now: t0, rng: &rng).isEmpty)
        let p = Fixture.peer(1)
        #expect(r.onPeerConnected(p, now: t0) == [.send(.subscribe(.channels), to: p), .send(.subscribe(.nodes), to: p),
                                                  .send(.syncRequest(limit: 20_000), to: p)])
        #expect(r.unsubscribe(.channels, now: t0) == [.send(.unsubscribe(.channels), to: p)])
    }

    @Test mutating func heartbeatGraftsSubscribedPeersUpToD() {
        let peers = (1...8).map { Fixture.peer(UInt8($0)) }
        var r = router(peers: peers)
        let actions = r.onHeartbeat(now: t0 + 1_000, rng: &rng)
        let grafted = actions.compactMap { a -> EthereumAddress? in if case .send(.graft(.nodes), let p) = a { p } else { nil } }
        #expect(actions.count == 6 && grafted.count == 6, "D = 6 GRAFTs: \(actions)")
        #expect(r.meshPeers(.nodes) == grafted.sorted())
        // A full mesh stays as it is.
        #expect(r.onHeartbeat(now: t0 + 2_000, rng: &rng).isEmpty)
    }

    @Test mutating func pruneSetsBackoffAndGraftDuringBackoffIsPenalised() {
        let p = Fixture.peer(1)
        var r = router(peers: [p])
        #expect(r.onHeartbeat(now: t0 + 1_000, rng: &rng) == [.send(.graft(.nodes), to: p)])
        #expect(r.onFrame(.prune(.nodes, backoffSeconds: 60), from: p, now: t0 + 2_000, validator: &validator).isEmpty)
        #expect(r.meshPeers(.nodes).isEmpty)
        // No re-graft during the backoff…
        #expect(r.onHeartbeat(now: t0 + 3_000, rng: &rng).isEmpty)
        // …and a GRAFT from the peer during it is answered with PRUNE and counted (P7).
        for i in 0..<3 {
            #expect(r.onFrame(.graft(.nodes), from: p, now: t0 + 3_100 + UInt64(i), validator: &validator)
                    == [.send(.prune(.nodes, backoffSeconds: 60), to: p)])
        }
        #expect(r.scoreComponents(of: p, now: t0 + 3_200).behaviourPenalty == -10, "penalty 3, threshold 2: -10 · 1²")
        #expect(r.meshPeers(.nodes).isEmpty)
        // Heartbeats decay the penalty; none grafts the peer before the backoff (60 s from the PRUNE) ends…
        for second in 4...61 { #expect(r.onHeartbeat(now: t0 + UInt64(second) * 1_000, rng: &rng).isEmpty) }
        #expect(r.score(of: p, now: t0 + 61_000) == 0)
        // …and the first one after it does.
        #expect(r.onHeartbeat(now: t0 + 62_000, rng: &rng) == [.send(.graft(.nodes), to: p)])
    }

    @Test mutating func graftIsAcceptedWhenSubscribedAndRefusedOtherwise() {
        let p = Fixture.peer(1)
        var r = router(peers: [p])
        #expect(r.onFrame(.graft(.nodes), from: p, now: t0, validator: &validator).isEmpty)
        #expect(r.meshPeers(.nodes) == [p])
        #expect(r.onFrame(.graft(.services), from: p, now: t0, validator: &validator).isEmpty)
        #expect(r.counters.dropped[.notSubscribed] == 1)
    }

    @Test mutating func newMessageIsDeliveredAndForwardedDuplicatesAreSuppressed() {
        let peers = (1...3).map { Fixture.peer(UInt8($0)) }
        var r = router(peers: peers)
        _ = r.onHeartbeat(now: t0 + 10, rng: &rng)   // all three in the mesh
        let m = Fixture.nodeMessage("alice", at: t0 + 20)
        let actions = r.onFrame(.publish(m), from: peers[0], now: t0 + 30, validator: &validator)
        #expect(actions == [.deliver(m), .send(.publish(m), to: peers[1]), .send(.publish(m), to: peers[2])])
        #expect(r.onFrame(.publish(m), from: peers[1], now: t0 + 40, validator: &validator).isEmpty)
        #expect(r.counters.duplicates == 1 && r.counters.delivered == 1 && r.counters.forwarded == 2)
    }

    @Test mutating func forgedMessageIsNotForwardedAndCountsAgainstTheSender() throws {
        let (liar, honest) = (Fixture.peer(1), Fixture.peer(2))
        var r = router(peers: [liar, honest, Fixture.peer(3)])
        _ = r.onHeartbeat(now: t0 + 10, rng: &rng)
        let real = Fixture.nodeMessage("alice", at: t0 + 20)
        let other = try GossipMessage.sign(Fixture.nodePayload("x"), timestamp: t0, with: Fixture.mallory)
        let forged = try GossipMessage(body: real.body, signature: other.signature)
        let actions = r.onFrame(.publish(forged), from: liar, now: t0 + 30, validator: &validator)
        #expect(actions == [.misbehaviour(liar, GossipError(.invalidSignature, "signature is not by the origin"))])
        #expect(r.counters.invalid == 1 && r.counters.dropped[.invalidSignature] == 1 && r.counters.delivered == 0)
        #expect(r.score(of: liar, now: t0 + 30) == -10 + 0.01 * 0, "P4: -10 · 1²")
        // The forgery did not enter the seen cache: the real message still gets through.
        #expect(r.onFrame(.publish(real), from: honest, now: t0 + 40, validator: &validator).first == .deliver(real))
    }

    @Test mutating func graylistedPeerIsIgnoredUntilItsScoreDecays() throws {
        let liar = Fixture.peer(1)
        var r = router(peers: [liar])
        let other = try GossipMessage.sign(Fixture.nodePayload("x"), timestamp: t0, with: Fixture.mallory)
        for i in 0..<3 {
            let real = Fixture.nodeMessage("a\(i)", at: t0)
            _ = r.onFrame(.publish(try GossipMessage(body: real.body, signature: other.signature)), from: liar, now: t0 + 1, validator: &validator)
        }
        #expect(r.score(of: liar, now: t0 + 1) == -90, "P4: -10 · 3²")
        let honestCopy = Fixture.nodeMessage("fine", at: t0)
        #expect(r.onFrame(.publish(honestCopy), from: liar, now: t0 + 2, validator: &validator).isEmpty)
        #expect(r.onFrame(.subscribe(.services), from: liar, now: t0 + 2, validator: &validator).isEmpty)
        #expect(r.counters.dropped[.graylisted] == 2)
        // Decay 0.99 per heartbeat: -10 · (3 · 0.99)² after one.
        _ = r.onHeartbeat(now: t0 + 1_000, rng: &rng)
        #expect(abs(r.score(of: liar, now: t0 + 1_000) - (-10 * (3 * 0.99) * (3 * 0.99))) < 1e-9)
        // Six heartbeats bring it above the graylist threshold (-80): frames are processed again.
        for i in 2...6 { _ = r.onHeartbeat(now: t0 + UInt64(i) * 1_000, rng: &rng) }
        #expect(r.score(of: liar, now: t0 + 6_000) > -80)
        let fresh = Fixture.nodeMessage("later", at: t0 + 6_000)
        #expect(r.onFrame(.publish(fresh), from: liar, now: t0 + 6_001, validator: &validator).first == .deliver(fresh))
    }

    @Test mutating func ihaveAndIwant() throws {
        let peers = (1...7).map { Fixture.peer(UInt8($0)) }
        var r = router(peers: peers)
        _ = r.onHeartbeat(now: t0 + 10, rng: &rng)
        let outside = peers.first { !r.meshPeers(.nodes).contains($0) }!
        let m = Fixture.nodeMessage("alice", at: t0 + 20)
        let sent = r.publish(m, now: t0 + 20)
        #expect(sent.count == 7, "flood publishing reaches every subscribed peer")
        for p in peers { r.onSent(to: p, frames: 10) }
        // The next heartbeat advertises it to the one peer outside the mesh.
        #expect(r.onHeartbeat(now: t0 + 1_010, rng: &rng) == [.send(.ihave(.nodes, [m.id]), to: outside)])
        // IWANT is answered from the cache, at most gossipRetransmission (3) times per peer.
        for _ in 0..<3 {
            #expect(r.onFrame(.iwant([m.id]), from: outside, now: t0 + 1_020, validator: &validator) == [.send(.publish(m), to: outside)])
        }
        #expect(r.onFrame(.iwant([m.id]), from: outside, now: t0 + 1_020, validator: &validator).isEmpty)
        #expect(r.counters.dropped[.iwantRetransmitLimit] == 1)
        let unknown = try GossipMessageID([UInt8](repeating: 1, count: 32))
        #expect(r.onFrame(.iwant([unknown]), from: outside, now: t0 + 1_020, validator: &validator).isEmpty)
        #expect(r.counters.iwantUnknown == 1)
    }

    @Test mutating func ihaveOfUnseenIdsIsAnsweredWithIwantAndABrokenPromiseIsPenalised() throws {
        let p = Fixture.peer(1)
        var r = router(peers: [p])
        let m = Fixture.nodeMessage("alice", at: t0)
        let unseen = try GossipMessageID([UInt8](repeating: 3, count: 32))
        #expect(r.onFrame(.ihave(.nodes, [m.id, unseen]), from: p, now: t0 + 5, validator: &validator)
                == [.send(.iwant([m.id, unseen]), to: p)])
        #expect(r.pendingPromises == 2)
        // m arrives (promise kept); the other never does.
        _ = r.onFrame(.publish(m), from: p, now: t0 + 100, validator: &validator)
        #expect(r.pendingPromises == 1)
        _ = r.onHeartbeat(now: t0 + 3_005, rng: &rng)
        #expect(r.counters.brokenPromises == 1 && r.pendingPromises == 0)
        // Already-seen ids are not asked for again.
        #expect(r.onFrame(.ihave(.nodes, [m.id]), from: p, now: t0 + 3_010, validator: &validator).isEmpty)
    }

    @Test mutating func staleReplayIsInvalidAndFutureMessagesToo() {
        let p = Fixture.peer(1)
        var r = router(peers: [p])
        let old = Fixture.nodeMessage("old", at: t0)
        let actions = r.onFrame(.publish(old), from: p, now: t0 + 60_001, validator: &validator)
        #expect(actions.count == 1 && r.counters.dropped[.timestampOutOfWindow] == 1)
        let future = Fixture.nodeMessage("future", at: t0 + 10_001)
        _ = r.onFrame(.publish(future), from: p, now: t0, validator: &validator)
        #expect(r.counters.dropped[.timestampOutOfWindow] == 2 && r.counters.invalid == 2)
    }

    @Test mutating func publishFloodIsRateLimitedAndPenalised() {
        var parameters = GossipParameters()
        parameters.publishBurst = 5
        parameters.publishRatePerSecond = 1
        let p = Fixture.peer(1)
        var r = router(peers: [p], parameters: parameters)
        for i in 0..<10 { _ = r.onFrame(.publish(Fixture.nodeMessage("m\(i)", at: t0)), from: p, now: t0, validator: &validator) }
        #expect(r.counters.delivered == 5 && r.counters.dropped[.rateLimited] == 5)
        #expect(r.score(of: p, now: t0) < r.parameters.score.graylistThreshold, "5 excess frames: P7 = -10 · 3² = -90")
    }

    @Test mutating func originRateLimitHoldsWhoeverForwards() {
        var parameters = GossipParameters()
        parameters.originBurst = 3
        parameters.originRatePerSecond = 1
        let peers = [Fixture.peer(1), Fixture.peer(2)]
        var r = router(peers: peers, parameters: parameters)
        for i in 0..<6 {
            _ = r.onFrame(.publish(Fixture.nodeMessage("m\(i)", at: t0)), from: peers[i % 2], now: t0, validator: &validator)
        }
        #expect(r.counters.delivered == 3 && r.counters.dropped[.originRateLimited] == 3)
        #expect(r.scoreComponents(of: peers[0], now: t0).behaviourPenalty == 0, "forwarders of someone else's burst are not penalised")
    }

    @Test mutating func badFramingClosesTheStreamAndBadFramesAreCounted() {
        let p = Fixture.peer(1)
        var r = router(peers: [p])
        #expect(r.onBytes([0, 0, 0, 0], from: p, now: t0, validator: &validator)
                == [.closeStream(p, GossipError(.badFrameLength, "frame length 0 outside 1…65536"))])
        var r2 = router(peers: [p])
        let garbage: [UInt8] = [0, 0, 0, 1, 0xc1]
        let actions = r2.onBytes(garbage, from: p, now: t0, validator: &validator)
        #expect(actions.count == 1 && r2.counters.dropped[.malformedFrame] == 1)
        let future: [UInt8] = GossipFrame.subscribe(.nodes).encoded()
        #expect(r2.onBytes(future, from: p, now: t0, validator: &validator).isEmpty, "the stream goes on after a bad frame")
    }

    @Test mutating func sendQueueIsBoundedAndDropsAreCounted() {
        var parameters = GossipParameters()
        parameters.maxPendingFramesPerPeer = 2
        parameters.syncOnConnect = false // no SYNC_REQUEST in the queue (§8.5)
        let p = Fixture.peer(1)
        var r = GossipRouter(localID: me, parameters: parameters)
        _ = r.subscribe(.nodes, now: t0, rng: &rng)
        _ = r.onPeerConnected(p, now: t0)   // 1 pending (SUBSCRIBE)
        _ = r.onFrame(.subscribe(.nodes), from: p, now: t0, validator: &validator)
        let sent = (0..<3).flatMap { r.publish(Fixture.nodeMessage("m\($0)", at: t0), now: t0) }
        #expect(sent.count == 1 && r.counters.dropped[.outboundQueueFull] == 2)
        r.onSent(to: p, frames: 2)
        #expect(r.publish(Fixture.nodeMessage("m9", at: t0), now: t0).count == 1)
    }

    @Test mutating func graftBeyondDHighIsRefusedWithPrune() {
        let peers = (1...13).map { Fixture.peer(UInt8($0)) }
        var r = router(peers: peers)
        for p in peers.prefix(12) { #expect(r.onFrame(.graft(.nodes), from: p, now: t0, validator: &validator).isEmpty) }
        #expect(r.meshPeers(.nodes).count == 12)
        #expect(r.onFrame(.graft(.nodes), from: peers[12], now: t0, validator: &validator)
                == [.send(.prune(.nodes, backoffSeconds: 60), to: peers[12])])
        #expect(r.meshPeers(.nodes).count == 12)
    }
}
