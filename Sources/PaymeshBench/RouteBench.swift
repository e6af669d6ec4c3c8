import Foundation
import PaymeshCrypto
import PaymeshGossipSimulation
import PaymeshMessages
import PaymeshRouting

/// `paymesh-bench route [--nodes N] [--channels M] [--searches S] [--history H] [--seed X]`: path search on a
/// synthetic graph (default 10,000 nodes and 50,000 one-way channels: a ring so every node is
/// reachable, the rest random with a preference for low-numbered "hub" nodes), p50 / p99 per search
/// between random node pairs, with and without a reputation tracker that has seen failures.
struct RouteBench {
    var nodes = 10_000
    var channels = 50_000
    var searches = 2_000
    /// Attempts recorded in the reputation tracker before the second measurement.
    var history = 2_000
    var seed: UInt64 = 1

    func run() throws {
        var rng = SeededGenerator(seed: seed)
        let ids = (0..<nodes).map { i in
            try! EthereumAddress(rawRepresentation: [UInt8](repeating: 0, count: 12) + withUnsafeBytes(of: UInt64(i + 1).bigEndian) { Array($0) })
        }
        func channelID(_ i: Int) -> ChannelID {
            try! ChannelID([UInt8](repeating: 0, count: 24) + withUnsafeBytes(of: UInt64(i + 1).bigEndian) { Array($0) })
        }
        var edges: [RoutingGraph.Edge] = []
        edges.reserveCapacity(channels)
        for i in 0..<channels {
            let from: Int, to: Int
            if i < nodes {
                (from, to) = (i, (i + 1) % nodes)
            } else {
                from = rng.hubbed(nodes)
                var t = rng.hubbed(nodes)
                if t == from { t = (t + 1) % nodes }
                to = t
            }
            edges.append(RoutingGraph.Edge(
                channelID: channelID(i), from: ids[from], to: ids[to], capacity: Amount(UInt128(rng.next() % 10_000_000 + 100_000)),
                feeBase: Amount(UInt128(rng.next() % 100)), feePPM: rng.next() % 5_000, htlcMinimum: .zero,
                htlcMaximum: Amount(UInt128(rng.next() % 5_000_000 + 50_000)), expiryDeltaMillis: 60_000 * (rng.next() % 60 + 1),
                enabled: rng.next() % 50 != 0))
        }
        let buildStart = nowNanos()
        let graph = RoutingGraph(edges: edges)
        let buildMillis = Double(nowNanos() - buildStart) / 1e6
        print("route: synthetic graph of \(graph.nodeCount) nodes, \(graph.edgeCount) one-way channels (seed \(seed)), built in \(String(format: "%.0f", buildMillis)) ms")

        // A tracker that has seen `history` attempts (failures and successes) over random routes.
        var reputation = ReputationTracker()
        let now: UInt64 = 1_767_225_600_000
        var warmed = 0
        while warmed < history {
            let q = RouteQuery(source: ids[rng.below(nodes)], target: ids[rng.below(nodes)], amount: Amount(10_000), now: now)
            guard q.source != q.target, let route = try? graph.findRoute(q) else { continue }
            let outcome: AttemptOutcome = rng.next() % 3 == 0
                ? .failed(hopIndex: rng.below(route.hops.count), code: .temporaryChannelFailure, latencyMillis: 50)
                : .succeeded(latencyMillis: 20 + rng.next() % 200)
            reputation.record(outcome, route: route, now: now)
            warmed += 1
        }

        let prepareStart = nowNanos()
        let prepared = graph.penalties(reputation, now: now + 60_000)
        let prepareMillis = Double(nowNanos() - prepareStart) / 1e6
        print(String(format: "reputation of %d nodes and %d channels prepared for search in %.1f ms (once per change of the tracker)",
                     reputation.snapshot(now: now).nodes.count, reputation.snapshot(now: now).channels.count, prepareMillis))
        for (label, tracker) in [("path search, no history", RoutingPenalties?.none), ("path search, \(history) attempts of history", prepared)] {
            var times: [Double] = [], foundTimes: [Double] = [], missTimes: [Double] = []
            var found = 0, hops = 0
            times.reserveCapacity(searches)
            while times.count < searches {
                let q = RouteQuery(source: ids[rng.below(nodes)], target: ids[rng.below(nodes)], amount: Amount(UInt128(rng.next() % 100_000 + 1)),
                                   now: now + 60_000)
                guard q.source != q.target else { continue }
                let start = nowNanos()
                let route = try? graph.findRoute(q, penalties: tracker)
                let millis = Double(nowNanos() - start) / 1e6
                times.append(millis)
                if let route { found += 1; hops += route.hops.count; foundTimes.append(millis) } else { missTimes.append(millis) }
            }
            printRow(label, String(format: "p50 %.2f ms, p99 %.2f ms", percentile(times, 50), percentile(times, 99)), "goal p99 ≤ 10 ms")
            print(String(format: "    %d searches, %d found a route (mean %.1f hops; p50 %.2f ms, p99 %.2f ms), %d found none (p50 %.2f ms, p99 %.2f ms)",
                         times.count, found, found == 0 ? 0 : Double(hops) / Double(found), percentile(foundTimes, 50), percentile(foundTimes, 99),
                         missTimes.count, percentile(missTimes, 50), percentile(missTimes, 99)))
        }
    }
}

/// The p-th percentile (nearest rank below) of `values`; 0 when empty.
private func percentile(_ values: [Double], _ p: Int) -> Double {
    guard !values.isEmpty else { return 0 }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, sorted.count * p / 100)]
}

extension SeededGenerator {
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    /// Skewed towards low indices (min of two draws): a few well-connected hubs, as in real networks.
    mutating func hubbed(_ n: Int) -> Int { min(below(n), below(n)) }
}
