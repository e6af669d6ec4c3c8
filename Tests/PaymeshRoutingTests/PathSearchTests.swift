import PaymeshCrypto
import PaymeshMessages
import PaymeshOnion
@testable import PaymeshRouting
import Testing

@Suite("Path search")
struct PathSearchTests {
    /// A line 0 → 1 → … → n; node i (1 ≤ i < n) charges base 10·i + i·1000 ppm and needs 60 s · i.
    static func line(_ n: Int) -> RoutingGraph {
        RoutingGraph(edges: (0..<n).map { i in edge(i + 1, i, i + 1, base: UInt128(10 * i), ppm: UInt64(1_000 * i), delta: 60_000 * UInt64(i)) })
    }

    @Test("fees and expiries accumulate hop by hop, exactly", arguments: 1...6)
    func accumulation(hops n: Int) throws {
        let amount: UInt128 = 1_234_567
        let route = try Self.line(n).findRoute(query(0, n, amount))
        #expect(route.hops.count == n)
        #expect(route.path == Array(1...n))
        // Independent computation, payee backwards: node i forwards amounts[i+1] over channel i+1.
        var expectedAmount = [UInt128](repeating: 0, count: n + 1)
        var expectedExpiry = [UInt64](repeating: 0, count: n + 1)
        expectedAmount[n] = amount
        expectedExpiry[n] = t0 + 3_600_000
        for i in stride(from: n - 1, through: 1, by: -1) {
            let forwarded = expectedAmount[i + 1]
            expectedAmount[i] = forwarded + UInt128(10 * i) + forwarded * UInt128(1_000 * i) / 1_000_000
            expectedExpiry[i] = expectedExpiry[i + 1] + 60_000 * UInt64(i)
        }
        for (k, hop) in route.hops.enumerated() {
            let i = k + 1
            #expect(hop.channelID == channel(i))
            #expect(hop.amount == Amount(expectedAmount[i]))
            #expect(hop.expiry == expectedExpiry[i])
            #expect(hop.fee == Amount(i == n ? 0 : expectedAmount[i] - expectedAmount[i + 1]))
            #expect(hop.expiryDeltaMillis == (i == n ? 0 : 60_000 * UInt64(i)))
        }
        #expect(route.amount == Amount(amount))
        #expect(route.totalFees == Amount(expectedAmount[1] - amount))
        #expect(route.expiry == expectedExpiry[1])
    }

    @Test("a 3-hop route's onion payloads carry next channel, amount and outgoing expiry")
    func payloads() throws {
        let route = try Self.line(3).findRoute(query(0, 3, 1_000_000))
        let hash = try Hash32(SHA256.hash([1]))
        let payloads = route.hopPayloads(paymentHash: hash)
        #expect(payloads.count == 3)
        #expect(payloads[0] == .forward(.init(nextChannel: channel(2), amountToForward: route.hops[1].amount, outgoingExpiry: route.hops[1].expiry)))
        #expect(payloads[1] == .forward(.init(nextChannel: channel(3), amountToForward: route.hops[2].amount, outgoingExpiry: route.hops[2].expiry)))
        #expect(payloads[2] == .final(.init(amount: Amount(1_000_000), expiry: t0 + 3_600_000, totalAmount: Amount(1_000_000), paymentHash: hash)))
        for p in payloads { #expect(try HopPayload(bytes: p.encoded()) == p) }
    }

    /// Two routes 0 → 1 → 9 (cheap) and 0 → 2 → 9 (fee 1,000 more).
    static func diamond(cheap: RoutingGraph.Edge = edge(3, 1, 9, base: 10)) -> RoutingGraph {
        RoutingGraph(edges: [edge(1, 0, 1), edge(2, 0, 2), cheap, edge(4, 2, 9, base: 1_010)])
    }

    @Test("the cheapest route wins; capacity, disabled channels and HTLC bounds are skipped")
    func skipping() throws {
        #expect(try Self.diamond().findRoute(query(0, 9, 5_000)).path == [1, 9])
        #expect(try Self.diamond(cheap: edge(3, 1, 9, base: 10, capacity: 4_999)).findRoute(query(0, 9, 5_000)).path == [2, 9])
        #expect(try Self.diamond(cheap: edge(3, 1, 9, base: 10, capacity: 5_000)).findRoute(query(0, 9, 5_000)).path == [1, 9])
        #expect(try Self.diamond(cheap: edge(3, 1, 9, base: 10, enabled: false)).findRoute(query(0, 9, 5_000)).path == [2, 9])
        #expect(try Self.diamond(cheap: edge(3, 1, 9, base: 10, min: 5_001)).findRoute(query(0, 9, 5_000)).path == [2, 9])
        #expect(try Self.diamond(cheap: edge(3, 1, 9, base: 10, max: 4_999)).findRoute(query(0, 9, 5_000)).path == [2, 9])
        // The HTLC bounds apply to the amount over the channel, fees included on upstream channels.
        let bounded = RoutingGraph(edges: [edge(1, 0, 1, max: 5_009), edge(3, 1, 9, base: 10)])
        #expect(throws: RoutingError.self) { try bounded.findRoute(query(0, 9, 5_000)) }
        let fits = RoutingGraph(edges: [edge(1, 0, 1, max: 5_010), edge(3, 1, 9, base: 10)])
        #expect(try fits.findRoute(query(0, 9, 5_000)).totalAmount == Amount(5_010))
    }

    @Test("the payer pays no fee and adds no delta on its own channel")
    func payerChargesNothing() throws {
        let graph = RoutingGraph(edges: [edge(1, 0, 1, base: 999, ppm: 999, delta: 999_999), edge(2, 1, 2, base: 7, delta: 120_000)])
        let route = try graph.findRoute(query(0, 2, 100))
        #expect(route.totalAmount == Amount(107))
        #expect(route.hops[0].fee == Amount(7))
        #expect(route.expiry == t0 + 3_600_000 + 120_000)
    }

    @Test("a route is at most maxHops channels")
    func maxHops() throws {
        let long = Self.line(12)
        #expect(throws: RoutingError.self) { try long.findRoute(query(0, 12, 1_000)) }
        var eleven = RoutingParameters()
        eleven.maxHops = 11
        #expect(throws: RoutingError.self) { try long.findRoute(query(0, 12, 1_000), parameters: eleven) }
        var twelve = RoutingParameters()
        twelve.maxHops = 12
        #expect(try long.findRoute(query(0, 12, 1_000), parameters: twelve).hops.count == 12)
        #expect(try Self.line(10).findRoute(query(0, 10, 1_000)).hops.count == 10)
    }

    @Test("no route: unknown target, wrong direction, excluded channels; bad queries are refused")
    func noRoute() throws {
        let graph = Self.diamond()
        #expect(failure { try graph.findRoute(query(9, 0, 5)) }?.isNoRoute == true)
        #expect(failure { try graph.findRoute(query(0, 77, 5)) }?.isNoRoute == true)
        var q = query(0, 9, 5)
        q.excludedChannels = [channel(3), channel(4)]
        #expect(failure { try graph.findRoute(q) }?.isNoRoute == true)
        q = query(0, 9, 5)
        q.excludedNodes = [node(1)]
        #expect(try graph.findRoute(q).path == [2, 9])
        q = query(0, 9, 5)
        q.maxFee = Amount(9)
        #expect(failure { try graph.findRoute(q) }?.isNoRoute == true)
        #expect(failure { try graph.findRoute(query(0, 9, 0)) }?.kind == "invalid_query")
        #expect(failure { try graph.findRoute(query(0, 0, 5)) }?.kind == "invalid_query")
        #expect(RoutingError.noRoute("x").wireCode == .noRouteFound)
    }

    @Test("a long expiry is risk: a cheaper route that locks money far longer loses")
    func lockRisk() throws {
        // 0 → 1 → 9: fee 10, 10 days of delta; 0 → 2 → 9: fee 20, 1 minute.
        let graph = RoutingGraph(edges: [edge(1, 0, 1), edge(2, 0, 2), edge(3, 1, 9, base: 10, delta: 864_000_000),
                                         edge(4, 2, 9, base: 20, delta: 60_000)])
        // risk of the slow hop: ⌊10,010 · 864,000,000 · 10 / 3.6·10¹²⌋ = 24 > 10 more fee.
        let route = try graph.findRoute(query(0, 9, 10_000))
        #expect(route.path == [2, 9])
        #expect(route.cost == 20) // fee 20 + ⌊10,020 · 60,000 · 10 / 3.6·10¹²⌋ = 0
    }

    @Test("k alternative routes, cheapest first, each different")
    func alternatives() throws {
        // Three disjoint two-hop routes with fees 10, 20, 30 and a shortcut sharing route 1's first channel.
        let graph = RoutingGraph(edges: [edge(1, 0, 1), edge(2, 0, 2), edge(3, 0, 3),
                                         edge(11, 1, 9, base: 10), edge(12, 2, 9, base: 20), edge(13, 3, 9, base: 30),
                                         edge(14, 1, 4, base: 5), edge(15, 4, 9, base: 20)])
        let routes = try graph.findRoutes(query(0, 9, 1_000), count: 4)
        #expect(routes.map(\.path) == [[1, 9], [2, 9], [1, 4, 9], [3, 9]])
        #expect(routes.map(\.totalFees) == [Amount(10), Amount(20), Amount(25), Amount(30)])
        #expect(try graph.findRoutes(query(0, 9, 1_000), count: 10).count == 4)
        #expect(Set(routes.map(\.channelIDs)).count == 4)
    }

    @Test("a graph from gossip: the end that publishes an update is the payer end")
    func fromGossip() throws {
        let graph = try GossipGraphFixture.graph()
        let routing = RoutingGraph(graph, asset: GossipGraphFixture.asset)
        #expect(routing.edgeCount == 2)
        let q = RouteQuery(source: GossipGraphFixture.keys[0].address, target: GossipGraphFixture.keys[2].address, amount: Amount(1_000), now: t0)
        let route = try routing.findRoute(q)
        #expect(route.hops.map(\.nodeID) == [GossipGraphFixture.keys[1].address, GossipGraphFixture.keys[2].address])
        #expect(route.totalFees == Amount(5 + 2)) // key 1's update: base 5, 2,000 ppm of 1,000
        // No update from the other ends: no edge back.
        let back = RouteQuery(source: GossipGraphFixture.keys[2].address, target: GossipGraphFixture.keys[0].address, amount: Amount(1), now: t0)
        #expect(throws: RoutingError.self) { try routing.findRoute(back) }
        // Each asset sees only its own channels.
        let usdt = RoutingGraph(graph, asset: try Asset(id: "USDT", decimals: 6))
        #expect(usdt.edgeCount == 1)
        #expect(usdt.edges(of: channel(3)).map(\.from) == [GossipGraphFixture.keys[0].address])
        #expect(RoutingGraph(graph, asset: try Asset(id: "USDC", decimals: 18)).edgeCount == 0)
    }

    @Test("invoice route hints reach a payee gossip does not show")
    func routeHints() throws {
        var graph = RoutingGraph(edges: [edge(1, 0, 1, base: 3)])
        let hint = try Invoice.RouteHint(nodeID: node(1), channelID: channel(50), feeBase: Amount(4), feePPM: 0, expiryDeltaMillis: 90_000,
                                         htlcMinimum: .zero, htlcMaximum: Amount(1_000_000))
        let invoice = try Invoice(payee: node(60), paymentHash: try Hash32(SHA256.hash([2])), amount: Amount(100),
                                  asset: try Asset(id: "USDC", decimals: 6), memo: "", created: t0, expiryMillis: 3_600_000, routeHints: [hint])
        for e in invoice.hintEdges { graph.add(e) }
        let route = try graph.findRoute(query(0, 60, 100))
        #expect(route.channelIDs == [channel(1), channel(50)])
        #expect(route.totalAmount == Amount(104))
        #expect(route.expiry == t0 + 3_600_000 + 90_000)
    }

    @Test("integer math: fee rounding, overflow, decay")
    func math() {
        #expect(RoutingMath.fee(amount: 999, base: 1, ppm: 1_000) == 1)
        #expect(RoutingMath.fee(amount: 1_000, base: 1, ppm: 1_000) == 2)
        #expect(RoutingMath.fee(amount: .max, base: 1, ppm: 1_000_000) == nil)
        #expect(RoutingMath.mulDiv(.max, 3, 4) == UInt128.max / 4 * 3 + 2)
        #expect(RoutingMath.decay(1_000, elapsed: 3_600_000, halfLife: 3_600_000) == 500)
        #expect(RoutingMath.decay(1_000, elapsed: 7_200_000, halfLife: 3_600_000) == 250)
        #expect(RoutingMath.decay(1_000, elapsed: 1_800_000, halfLife: 3_600_000) == 750)
        #expect(RoutingMath.decay(1_000, elapsed: 0, halfLife: 3_600_000) == 1_000)
        #expect(RoutingMath.decay(1_000, elapsed: 64 * 3_600_000, halfLife: 3_600_000) == 0)
    }
}
