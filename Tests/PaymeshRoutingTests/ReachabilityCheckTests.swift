import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshRouting
import Testing

/// The payer-side reachability check (Specs/routing.md §3.4): a payer cut off from the payee (its
/// way out disabled, too small for the amount, or too many hops away) gets NO_ROUTE_FOUND with the
/// search's own reason, without the backward search; a payer that can reach the payee is not
/// refused by it.
@Suite("Reachability check")
struct ReachabilityCheckTests {
    /// A ring 0 → 1 → … → 99 → 0 plus chords i → i + 7 (both sides large, so a backward search
    /// from the payee would settle most of it), with node 0's only way out `exit`.
    static func ring(exit: RoutingGraph.Edge) -> RoutingGraph {
        var edges = [exit]
        for i in 1..<100 { edges.append(edge(i + 1, i, (i + 1) % 100)) }
        for i in 1..<93 { edges.append(edge(100 + i, i, i + 7)) }
        return RoutingGraph(edges: edges)
    }

    func index(_ graph: RoutingGraph, _ i: Int) -> Int32 { graph.nodeIndex[node(i)]! }

    @Test("a disabled or too small way out is found from the payer's side, with the search's reason")
    func cutOff() throws {
        let parameters = RoutingParameters()
        for exit in [edge(1, 0, 1, enabled: false), edge(1, 0, 1, max: 999), edge(1, 0, 1, capacity: 999)] {
            let graph = Self.ring(exit: exit)
            #expect(graph.payerIsCutOff(source: index(graph, 0), target: index(graph, 50), amount: 1_000, maxHops: parameters.maxHops))
            let q = query(0, 50, 1_000)
            let error = failure { try graph.findRoute(q) }
            #expect(error == .noRoute(graph.noPathReason(q, parameters: parameters)))
        }
        let open = Self.ring(exit: edge(1, 0, 1, max: 1_000))
        #expect(!open.payerIsCutOff(source: index(open, 0), target: index(open, 50), amount: 1_000, maxHops: 20))
        let route = try open.findRoute(query(0, 50, 1_000), parameters: { var p = RoutingParameters(); p.maxHops = 20; return p }())
        #expect(route.target == node(50))
    }

    @Test("the hop limit: a payee more hops away than max_hops is refused, one within is not")
    func hopLimit() throws {
        let graph = PathSearchTests.line(5)
        let (s, t) = (index(graph, 0), index(graph, 5))
        #expect(graph.payerIsCutOff(source: s, target: t, amount: 1, maxHops: 4))
        #expect(!graph.payerIsCutOff(source: s, target: t, amount: 1, maxHops: 5))
        var p = RoutingParameters()
        p.maxHops = 4
        #expect(failure { try graph.findRoute(query(0, 5, 1), parameters: p) }?.isNoRoute == true)
        p.maxHops = 5
        #expect(try graph.findRoute(query(0, 5, 1), parameters: p).hops.count == 5)
    }
}
