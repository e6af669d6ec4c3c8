import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshRouting
import Testing

@Suite("Reputation")
struct ReputationTests {
    /// 0 → 1 → 9 costs 10 in fees; 0 → 2 → 9 costs 20.
    static let graph = RoutingGraph(edges: [edge(1, 0, 1), edge(2, 0, 2), edge(3, 1, 9, base: 10), edge(4, 2, 9, base: 20)])
    static let hour: UInt64 = 3_600_000

    @Test("failures at a node steer later payments away from it, and decay lets it back")
    func steering() throws {
        var reputation = ReputationTracker()
        let first = try Self.graph.findRoute(query(0, 9, 1_000), reputation: reputation)
        #expect(first.path == [1, 9])
        // Node 1 answers FEE_INSUFFICIENT (its fault) once: attempt cost 1 + 5 = 6 < 10 more fee, still chosen.
        reputation.record(.failed(hopIndex: 0, code: .feeInsufficient, latencyMillis: 40), route: first, now: t0)
        #expect(reputation.node(node(1), now: t0)?.failures == 1_000)
        #expect(try Self.graph.findRoute(query(0, 9, 1_000), reputation: reputation).path == [1, 9])
        // Two more failures: penalty ⌊6 · 3000 / 1000⌋ = 18 > 10 more fee: the route avoids node 1.
        reputation.record(.failed(hopIndex: 0, code: .expiryTooSoon, latencyMillis: 40), route: first, now: t0)
        reputation.record(.failed(hopIndex: 0, code: .feeInsufficient, latencyMillis: 40), route: first, now: t0)
        let steered = try Self.graph.findRoute(query(0, 9, 1_000), reputation: reputation)
        #expect(steered.path == [2, 9])
        // The channel into node 1 carried the HTLC: it is credited, not blamed.
        #expect(reputation.channel(channel(1), now: t0)?.successes == 3_000)
        #expect(reputation.channel(channel(1), now: t0)?.failures == 0)
        // One hour: 1,500 left, penalty ⌊6 · 1500 / 1000⌋ = 9 < 10: node 1 is back.
        let later = query(0, 9, 1_000, now: t0 + Self.hour)
        #expect(reputation.node(node(1), now: t0 + Self.hour)?.failures == 1_500)
        #expect(try Self.graph.findRoute(later, reputation: reputation).path == [1, 9])
        // Half an hour in, 2,250 left: still avoided.
        #expect(try Self.graph.findRoute(query(0, 9, 1_000, now: t0 + Self.hour / 2), reputation: reputation).path == [2, 9])
    }

    @Test("a successful attempt credits every node and channel and records latency")
    func success() throws {
        var reputation = ReputationTracker()
        let route = try PathSearchTests.line(3).findRoute(query(0, 3, 1_000))
        reputation.record(.succeeded(latencyMillis: 90), route: route, now: t0)
        for i in 1...3 { #expect(reputation.channel(channel(i), now: t0)?.successes == 1_000) }
        // Intermediate nodes get a share of the round trip (90 ms / 3 hops); the payee is not scored.
        #expect(reputation.node(node(1), now: t0)?.latencyMillis == 30)
        #expect(reputation.node(node(2), now: t0)?.latencyMillis == 30)
        #expect(reputation.node(node(3), now: t0) == nil)
        reputation.record(.succeeded(latencyMillis: 330), route: route, now: t0)
        #expect(reputation.node(node(1), now: t0)?.latencyMillis == (30 * 7 + 110) / 8)
        #expect(reputation.node(node(1), now: t0)?.successRatePPM == 750_000) // (2000+1000)/(2000+0+2000)
    }

    @Test("TEMPORARY_CHANNEL_FAILURE blames the outgoing channel and teaches its liquidity, for a while")
    func liquidityHint() throws {
        var reputation = ReputationTracker()
        let route = try Self.graph.findRoute(query(0, 9, 5_000), reputation: reputation)
        #expect(route.path == [1, 9])
        reputation.record(.failed(hopIndex: 0, code: .temporaryChannelFailure, latencyMillis: 10), route: route, now: t0)
        #expect(reputation.channel(channel(3), now: t0)?.failures == 1_000)
        #expect(reputation.node(node(1), now: t0)?.failures ?? 0 == 0)
        let direction = ReputationTracker.DirectedChannel(channelID: channel(3), from: node(1))
        #expect(reputation.maxSendable(direction, now: t0) == Amount(4_999))
        // 5,000 cannot pass channel 3 now; 100 can (its channel penalty, attempt cost 1 · 1000 / 1000, is 1).
        #expect(try Self.graph.findRoute(query(0, 9, 5_000), reputation: reputation).path == [2, 9])
        #expect(try Self.graph.findRoute(query(0, 9, 100), reputation: reputation).path == [1, 9])
        // After the hint's lifetime it is forgotten (the channel's failure has decayed too).
        let later = t0 + ReputationTracker().parameters.liquidityHintMillis + 4 * Self.hour
        #expect(reputation.maxSendable(direction, now: later) == nil)
        #expect(try Self.graph.findRoute(query(0, 9, 5_000, now: later), reputation: reputation).path == [1, 9])
    }

    @Test("the payee's own refusal blames no hop; an unattributed failure is shared by the intermediates")
    func attribution() throws {
        var reputation = ReputationTracker()
        let route = try PathSearchTests.line(3).findRoute(query(0, 3, 1_000))
        reputation.record(.failed(hopIndex: 2, code: .unknownPaymentHash, latencyMillis: 5), route: route, now: t0)
        #expect(reputation.node(node(3), now: t0) == nil)
        #expect(reputation.node(node(1), now: t0)?.failures == 0)
        reputation.record(.unattributed, route: route, now: t0)
        #expect(reputation.node(node(1), now: t0)?.failures == 500)
        #expect(reputation.node(node(2), now: t0)?.failures == 500)
        // A final-hop code from an intermediate node is that node's fault.
        reputation.record(.failed(hopIndex: 1, code: .finalIncorrectAmount, latencyMillis: 5), route: route, now: t0)
        #expect(reputation.node(node(2), now: t0)?.failures == 1_500)
        // An index outside the route is treated as unattributed.
        reputation.record(.failed(hopIndex: 7, code: .feeInsufficient, latencyMillis: 5), route: route, now: t0)
        #expect(reputation.node(node(1), now: t0)?.failures == 1_000)
    }

    @Test("the tracker is bounded: the least recently updated node is evicted")
    func bounded() throws {
        var parameters = RoutingParameters()
        parameters.maxTrackedNodes = 2
        var reputation = ReputationTracker(parameters: parameters)
        for i in 1...3 {
            let hops = [Route.Hop(nodeID: node(10 + i), channelID: channel(10 + i), amount: Amount(1), expiry: t0, fee: .zero, expiryDeltaMillis: 1),
                        Route.Hop(nodeID: node(2), channelID: channel(2), amount: Amount(1), expiry: t0, fee: .zero, expiryDeltaMillis: 0)]
            reputation.record(.unattributed, route: Route(source: node(0), hops: hops, cost: 0), now: t0 + UInt64(i))
        }
        #expect(reputation.node(node(11), now: t0 + 3) == nil)
        #expect(reputation.node(node(12), now: t0 + 3) != nil)
        #expect(reputation.node(node(13), now: t0 + 3) != nil)
        #expect(reputation.snapshot(now: t0 + 3).nodes.count == 2)
    }
}
