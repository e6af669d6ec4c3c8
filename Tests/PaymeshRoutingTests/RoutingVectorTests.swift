import PaymeshMessages
@testable import PaymeshRouting
import PaymeshTestSupport
import Testing

/// Specs/vectors/routing.json: routes computed by an independent Python transcription of
/// Specs/routing.md §3 (scripts/vectors/gen_routing_vectors.py).
@Suite("Routing vectors")
struct RoutingVectorTests {
    struct Vectors: Decodable {
        struct Edge: Decodable {
            let channel: Int, from: Int, to: Int, capacity: UInt64, fee_base: UInt64, fee_ppm: UInt64
            let htlc_min: UInt64, htlc_max: UInt64, expiry_delta: UInt64, enabled: Bool
        }
        struct Parameters: Decodable { let max_hops: Int, max_total_expiry: UInt64, risk_ppm_per_hour: UInt64 }
        struct Query: Decodable {
            struct Expected: Decodable {
                struct Hop: Decodable { let node: Int, channel: Int, amount: String, expiry: UInt64, fee: String }
                let hops: [Hop], cost: String
            }
            let description: String, source: Int, target: Int, amount: String, now: UInt64, final_expiry_delta: UInt64
            let expected: Expected?
        }
        let graph: [Edge]
        let parameters: Parameters
        let queries: [Query]
    }

    @Test("each query finds exactly the expected route, or none")
    func vectors() throws {
        let v = try TestVectors.load(Vectors.self, spec: "routing.json")
        let graph = RoutingGraph(edges: v.graph.map { e in
            edge(e.channel, e.from, e.to, base: UInt128(e.fee_base), ppm: e.fee_ppm, delta: e.expiry_delta, capacity: UInt128(e.capacity),
                 min: UInt128(e.htlc_min), max: UInt128(e.htlc_max), enabled: e.enabled)
        })
        var parameters = RoutingParameters()
        parameters.maxHops = v.parameters.max_hops
        parameters.maxTotalExpiryMillis = v.parameters.max_total_expiry
        parameters.riskFactorPPMPerHour = v.parameters.risk_ppm_per_hour
        #expect(v.queries.count == 5)
        for q in v.queries {
            let query = RouteQuery(source: node(q.source), target: node(q.target), amount: try Amount(decimal: q.amount), now: q.now,
                                   finalExpiryDeltaMillis: q.final_expiry_delta)
            guard let expected = q.expected else {
                #expect(throws: RoutingError.self, "\(q.description)") { try graph.findRoute(query, parameters: parameters) }
                continue
            }
            let route = try graph.findRoute(query, parameters: parameters)
            #expect(route.path == expected.hops.map(\.node), "\(q.description)")
            #expect(route.channelIDs == expected.hops.map { channel($0.channel) }, "\(q.description)")
            #expect(route.hops.map(\.amount.description) == expected.hops.map(\.amount), "\(q.description)")
            #expect(route.hops.map(\.expiry) == expected.hops.map(\.expiry), "\(q.description)")
            #expect(route.hops.map(\.fee.description) == expected.hops.map(\.fee), "\(q.description)")
            #expect(String(route.cost) == expected.cost, "\(q.description)")
        }
    }
}
