import PaymeshCrypto
import PaymeshMessages

extension RoutingGraph {
    /// The cheapest route for `query` (Specs/routing.md §3): Dijkstra from the payee back to the
    /// payer, so that each hop's amount and expiry are known when its fee and risk are priced.
    /// Throws `noRoute` (1400) with the reason when none exists.
    public func findRoute(_ query: RouteQuery, reputation: ReputationTracker? = nil,
                          parameters: RoutingParameters = RoutingParameters()) throws(RoutingError) -> Route {
        try findRoute(query, penalties: reputation.map { penalties($0, now: query.now) }, parameters: parameters)
    }

    /// The reputation tracker's view of this graph at `now` (decayed counts and liquidity hints
    /// indexed by node and edge): build it once per change of the tracker and reuse it across
    /// searches (each `findRoutes` does).
    public func penalties(_ reputation: ReputationTracker, now: UInt64) -> RoutingPenalties {
        RoutingPenalties(graph: self, reputation: reputation, now: now)
    }

    /// `findRoute` with prepared penalties (nil: no history).
    public func findRoute(_ query: RouteQuery, penalties: RoutingPenalties?,
                          parameters: RoutingParameters = RoutingParameters()) throws(RoutingError) -> Route {
        guard query.amount > .zero else { throw .invalidQuery("amount must be > 0") }
        guard query.source != query.target else { throw .invalidQuery("source and target are the same node") }
        guard query.finalExpiryDeltaMillis <= parameters.maxTotalExpiryMillis else {
            throw .invalidQuery("final expiry delta \(query.finalExpiryDeltaMillis) ms > \(parameters.maxTotalExpiryMillis) ms")
        }
        guard parameters.maxHops >= 1 else { throw .invalidQuery("maxHops must be ≥ 1") }
        guard let target = nodeIndex[query.target], !incoming[Int(target)].isEmpty else {
            throw .noRoute("no channel reaches \(query.target)")
        }
        guard let source = nodeIndex[query.source] else { throw .noRoute("no channel leaves \(query.source)") }
        precondition(penalties.map { $0.nodeCount == nodeCount && $0.edgeCount == edgeCount } ?? true, "penalties of another graph")
        let context = SearchContext(graph: self, query: query, penalties: penalties)
        return try search(query, source: source, target: target, context: context, parameters: parameters)
    }

    /// Up to `count` routes, cheapest first (routing.md §3.5): each route chosen is "expanded" —
    /// the search is repeated with each of its channels excluded in turn, on top of the exclusions
    /// that found it; a search that finds a route already seen is expanded the same way, so a
    /// route hidden behind a cheaper one is still reached. The cheapest candidate not yet returned
    /// comes next. At most `count · maxHops · 4` searches.
    public func findRoutes(_ query: RouteQuery, count: Int, reputation: ReputationTracker? = nil,
                           parameters: RoutingParameters = RoutingParameters()) throws(RoutingError) -> [Route] {
        guard count >= 1 else { throw .invalidQuery("count must be ≥ 1") }
        let prepared = reputation.map { penalties($0, now: query.now) }
        let first = try findRoute(query, penalties: prepared, parameters: parameters)
        var alternatives = Alternatives(first: first, maxSearches: count * max(parameters.maxHops, 1) * 4)
        let search = { (excluded: Set<ChannelID>) -> Route? in
            var q = query
            q.excludedChannels = excluded
            return try? self.findRoute(q, penalties: prepared, parameters: parameters)
        }
        alternatives.expand(first, excluded: query.excludedChannels, search: search)
        var routes = [first]
        while routes.count < count, let next = alternatives.popCheapest() {
            routes.append(next.route)
            alternatives.expand(next.route, excluded: next.excluded, search: search)
        }
        return routes
    }

    private func search(_ query: RouteQuery, source: Int32, target: Int32, context: SearchContext,
                        parameters: RoutingParameters) throws(RoutingError) -> Route {
        // A payer that cannot reach the payee at all is found out from its side, before the
        // backward search would settle everything the payee is reachable from (routing.md §3.4).
        if payerIsCutOff(source: source, target: target, amount: query.amount.atomicUnits, maxHops: parameters.maxHops) {
            throw .noRoute(noPathReason(query, parameters: parameters))
        }
        let n = nodeCount
        var cost = [UInt128](repeating: .max, count: n)
        var amount = [UInt128](repeating: 0, count: n)
        var delta = [UInt64](repeating: 0, count: n)
        var hopCount = [UInt8](repeating: 0, count: n)
        var next = [Int32](repeating: -1, count: n)
        var settled = [Bool](repeating: false, count: n)
        let maxHops = UInt8(clamping: parameters.maxHops)
        let maxFee = query.maxFee?.atomicUnits ?? .max
        let requested = query.amount.atomicUnits
        let edgeSlot = context.tables.edgeSlot, edgeExtras = context.tables.edgeExtras
        let index = searchIndexIsCurrent ? searchIndex : SearchIndex(self)
        let sourceIndex = Int(source)

        cost[Int(target)] = 0
        amount[Int(target)] = requested
        delta[Int(target)] = query.finalExpiryDeltaMillis
        var heap = MinHeap()
        heap.push(0, Int32(target))
        index.from.withUnsafeBufferPointer { inFrom in
        index.edge.withUnsafeBufferPointer { inEdge in
        index.slots.withUnsafeBufferPointer { slots in
        index.start.withUnsafeBufferPointer { start in
        while let (c, y32) = heap.pop() {
            let y = Int(y32)
            if settled[y] || c != cost[y] { continue }
            settled[y] = true
            if y32 == source { break }
            let amountY = amount[y], deltaY = delta[y], hopsY = hopCount[y], costY = cost[y]
            guard hopsY < maxHops else { continue }
            for i in Int(start[y])..<Int(start[y + 1]) {
                let x = Int(inFrom[i])
                if settled[x] || context.nodeExcluded[x] { continue }
                let t = slots[i]
                if amountY < t.minAmount || amountY > t.maxAmount { continue }
                let e = Int(inEdge[i])
                var extra = SearchContext.EdgeExtra.empty
                if !edgeSlot.isEmpty, edgeSlot[e] >= 0 {
                    extra = edgeExtras[Int(edgeSlot[e])]
                    if extra.excluded || amountY > extra.maxSendable { continue }
                }
                // The payer charges itself nothing and adds no delta (routing.md §3.1).
                var fee: UInt128 = 0, addedDelta: UInt64 = 0
                if x != sourceIndex {
                    guard let f = RoutingMath.fee(amount: amountY, base: t.feeBase, ppm: t.feePPM) else { continue }
                    fee = f
                    addedDelta = t.expiryDelta
                }
                let (amountX, o) = amountY.addingReportingOverflow(fee)
                if o || amountX - requested > maxFee { continue }
                let deltaX = deltaY + addedDelta
                if deltaX > parameters.maxTotalExpiryMillis { continue }
                let risk = RoutingMath.mulDiv(amountX, UInt128(addedDelta) * UInt128(parameters.riskFactorPPMPerHour),
                                              RoutingMath.ppm * RoutingMath.millisPerHour) ?? .max
                let penalty = context.penalty(node: y, extra: extra, amount: amountY, parameters: parameters)
                let costX = RoutingMath.saturatingAdd(RoutingMath.saturatingAdd(RoutingMath.saturatingAdd(costY, fee), risk), penalty)
                if costX < cost[x] || (costX == cost[x] && hopsY + 1 < hopCount[x]) {
                    cost[x] = costX
                    amount[x] = amountX
                    delta[x] = deltaX
                    hopCount[x] = hopsY + 1
                    next[x] = Int32(e)
                    heap.push(costX, Int32(x))
                }
            }
        }
        }
        }
        }
        }
        guard settled[Int(source)] else { throw .noRoute(noPathReason(query, parameters: parameters)) }
        // Walk the labels from the payer to the payee.
        var hops: [Route.Hop] = []
        var node = Int(source)
        while node != Int(target) {
            let e = Int(next[node])
            let y = Int(terms[e].to)
            let isFinal = y == Int(target)
            let nextAmount = isFinal ? amount[y] : amount[Int(terms[Int(next[y])].to)]
            hops.append(Route.Hop(nodeID: nodeIDs[y], channelID: channelIDs[e], amount: Amount(amount[y]),
                                  expiry: query.now + delta[y], fee: Amount(amount[y] - nextAmount),
                                  expiryDeltaMillis: isFinal ? 0 : terms[Int(next[y])].expiryDelta))
            node = y
        }
        return Route(source: query.source, hops: hops, cost: cost[Int(source)])
    }
}

extension RoutingGraph {
    /// At most this many nodes are visited by the payer-side reachability check; past it the
    /// backward search decides alone.
    static let reachabilityCheckBudget = 512

    /// True when no path of at most `maxHops` enabled edges, each able to carry `amount`
    /// (htlc_maximum and capacity ≥ the amount the payee receives), leads from `source` to
    /// `target`, found by a breadth-first walk forward from the payer that visits at most
    /// `reachabilityCheckBudget` nodes. Every route the search could return is such a path, so a
    /// true answer never hides a route; false means "reached, or too big to tell cheaply".
    func payerIsCutOff(source: Int32, target: Int32, amount: UInt128, maxHops: Int) -> Bool {
        var visited: Set<Int32> = [source]
        var frontier: [Int32] = [source]
        var depth = 0
        while !frontier.isEmpty, depth < maxHops {
            depth += 1
            var nextFrontier: [Int32] = []
            for x in frontier {
                for e in outgoing[Int(x)] {
                    let t = terms[Int(e)]
                    guard t.enabled, amount <= t.htlcMaximum, amount <= t.capacity else { continue }
                    if t.to == target { return false }
                    guard visited.insert(t.to).inserted else { continue }
                    if visited.count > Self.reachabilityCheckBudget { return false }
                    nextFrontier.append(t.to)
                }
            }
            frontier = nextFrontier
        }
        return true
    }

    func noPathReason(_ query: RouteQuery, parameters: RoutingParameters) -> String {
        "no path of at most \(parameters.maxHops) hops with enough capacity from \(query.source) to \(query.target) for \(query.amount)"
    }
}

/// The tracker's decayed counts and hints, indexed by the graph's node and edge numbers.
public struct RoutingPenalties: Sendable {
    struct NodeTerms: Sendable {
        var successes: UInt64 = 0
        var failures: UInt64 = 0
        var latency: UInt64 = 0
    }

    struct EdgeExtra: Sendable {
        var successes: UInt64 = 0
        var failures: UInt64 = 0
        var maxSendable: UInt128 = .max
        var excluded = false
        static let empty = EdgeExtra()
    }

    let nodeCount: Int
    let edgeCount: Int
    var nodeTerms: [NodeTerms] = []
    /// Per edge, an index into `edgeExtras`, or −1; empty when no edge has anything extra.
    var edgeSlot: [Int32] = []
    var edgeExtras: [EdgeExtra] = []

    init(nodeCount: Int, edgeCount: Int) {
        self.nodeCount = nodeCount
        self.edgeCount = edgeCount
    }

    init(graph: RoutingGraph, reputation: ReputationTracker, now: UInt64) {
        self.init(nodeCount: graph.nodeCount, edgeCount: graph.edgeCount)
        let halfLife = reputation.parameters.reputationHalfLifeMillis
        if !reputation.nodes.isEmpty {
            nodeTerms = [NodeTerms](repeating: NodeTerms(), count: graph.nodeCount)
            for (id, record) in reputation.nodes {
                guard let i = graph.nodeIndex[id] else { continue }
                let r = record.decayed(to: now, halfLife: halfLife)
                nodeTerms[Int(i)] = NodeTerms(successes: r.successes, failures: r.failures, latency: r.latencyMillis ?? 0)
            }
        }
        for (id, record) in reputation.channels {
            guard let edges = graph.edgesByChannel[id] else { continue }
            let r = record.decayed(to: now, halfLife: halfLife)
            for e in edges {
                let s = slot(e)
                edgeExtras[s].successes = r.successes
                edgeExtras[s].failures = r.failures
            }
        }
        for (direction, hint) in reputation.activeHints where now < hint.learnedAt + reputation.parameters.liquidityHintMillis {
            guard let from = graph.nodeIndex[direction.from],
                  let e = graph.edgesByChannel[direction.channelID]?.first(where: { graph.terms[Int($0)].from == from }) else { continue }
            let s = slot(e)
            edgeExtras[s].maxSendable = min(edgeExtras[s].maxSendable, hint.maxSendable)
        }
    }

    mutating func slot(_ e: Int32) -> Int {
        if edgeSlot.isEmpty { edgeSlot = [Int32](repeating: -1, count: edgeCount) }
        if edgeSlot[Int(e)] < 0 {
            edgeSlot[Int(e)] = Int32(edgeExtras.count)
            edgeExtras.append(EdgeExtra())
        }
        return Int(edgeSlot[Int(e)])
    }
}

/// Per-search tables: the prepared penalties plus the query's exclusions, so that the inner loop
/// reads arrays only.
struct SearchContext {
    typealias EdgeExtra = RoutingPenalties.EdgeExtra
    var nodeExcluded: [Bool]
    var tables: RoutingPenalties

    init(graph: RoutingGraph, query: RouteQuery, penalties: RoutingPenalties?) {
        nodeExcluded = [Bool](repeating: false, count: graph.nodeCount)
        for node in query.excludedNodes { if let i = graph.nodeIndex[node] { nodeExcluded[Int(i)] = true } }
        tables = penalties ?? RoutingPenalties(nodeCount: graph.nodeCount, edgeCount: graph.edgeCount)
        for channel in query.excludedChannels {
            for e in graph.edgesByChannel[channel] ?? [] { tables.edgeExtras[tables.slot(e)].excluded = true }
        }
    }

    /// The reputation penalty of routing `amount` over an edge into node `y` (routing.md §3.2).
    @inline(__always)
    func penalty(node y: Int, extra: EdgeExtra, amount: UInt128, parameters: RoutingParameters) -> UInt128 {
        let t = tables.nodeTerms.isEmpty ? RoutingPenalties.NodeTerms() : tables.nodeTerms[y]
        if t.failures == 0 && t.latency == 0 && extra.failures == 0 { return 0 }
        let attempt = RoutingMath.saturatingAdd(parameters.attemptCostBase,
                                                RoutingMath.mulDiv(amount, UInt128(parameters.attemptCostPPM), RoutingMath.ppm) ?? .max)
        let unit = UInt128(ReputationTracker.unit)
        let nodePart = RoutingMath.mulDiv(attempt, UInt128(t.failures), UInt128(t.successes) + unit) ?? .max
        let channelPart = RoutingMath.mulDiv(attempt, UInt128(extra.failures), UInt128(extra.successes) + unit) ?? .max
        let latencyPart = parameters.latencyScaleMillis == 0 ? 0
            : RoutingMath.mulDiv(attempt, UInt128(t.latency), UInt128(parameters.latencyScaleMillis)) ?? .max
        return RoutingMath.saturatingAdd(RoutingMath.saturatingAdd(nodePart, channelPart), latencyPart)
    }
}

/// The bookkeeping of `findRoutes`: routes seen (by channel sequence), exclusion sets tried,
/// candidates not yet returned, and the search budget.
struct Alternatives {
    private var seen: Set<[ChannelID]>
    private var tried: Set<Set<ChannelID>> = []
    private var candidates: [(route: Route, excluded: Set<ChannelID>)] = []
    private var searchesLeft: Int

    init(first: Route, maxSearches: Int) {
        seen = [first.channelIDs]
        searchesLeft = maxSearches
    }

    mutating func expand(_ route: Route, excluded: Set<ChannelID>, search: (Set<ChannelID>) -> Route?) {
        for channel in route.channelIDs {
            let set = excluded.union([channel])
            guard searchesLeft > 0, tried.insert(set).inserted else { continue }
            searchesLeft -= 1
            guard let found = search(set) else { continue }
            if seen.insert(found.channelIDs).inserted {
                candidates.append((found, set))
            } else {
                expand(found, excluded: set, search: search)
            }
        }
    }

    /// The candidate of lowest (cost, hops, order found).
    mutating func popCheapest() -> (route: Route, excluded: Set<ChannelID>)? {
        guard let best = candidates.indices.min(by: { a, b in
            (candidates[a].route.cost, candidates[a].route.hops.count, a) < (candidates[b].route.cost, candidates[b].route.hops.count, b)
        }) else { return nil }
        return candidates.remove(at: best)
    }
}

/// A binary min-heap of (cost, node), ordered by cost then node index (deterministic ties).
struct MinHeap {
    private var items: [(cost: UInt128, node: Int32)] = []

    mutating func push(_ cost: UInt128, _ node: Int32) {
        items.append((cost, node))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard less(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (UInt128, Int32)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, less(items[l], items[m]) { m = l }
                if r < items.count, less(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return (top.cost, top.node)
    }

    @inline(__always)
    private func less(_ a: (cost: UInt128, node: Int32), _ b: (cost: UInt128, node: Int32)) -> Bool {
        a.cost < b.cost || (a.cost == b.cost && a.node < b.node)
    }
}
