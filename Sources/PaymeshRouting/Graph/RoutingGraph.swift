public import PaymeshCrypto
public import PaymeshMessages

/// The directed view of the channel graph that path search walks (Specs/routing.md §2): one
/// `Edge` per channel end that forwards, i.e. per (channel, payer end). Gossiped channels are
/// one-way (payer → payee); an announcement names its ends only in byte order (`peer_a <
/// peer_b`), so the direction comes from the CHANNEL_UPDATEs: the end that publishes an update
/// forwards **from itself** over the channel (gossip.md §7.2). An end that published no update
/// gives no edge. Stored as flat arrays indexed by small integers so that a search over 10⁴
/// nodes and 5·10⁴ channels touches no dictionary and no reference count in its inner loop.
public struct RoutingGraph: Sendable {
    /// One forwarding direction of a channel: `from` locks HTLCs on `channelID` towards `to`.
    public struct Edge: Sendable, Hashable {
        public var channelID: ChannelID
        public var from: EthereumAddress
        public var to: EthereumAddress
        /// The announced capacity (the channel's deposit): no HTLC above it can pass.
        public var capacity: Amount
        public var feeBase: Amount
        public var feePPM: UInt64
        public var htlcMinimum: Amount
        public var htlcMaximum: Amount
        public var expiryDeltaMillis: UInt64
        public var enabled: Bool

        public init(channelID: ChannelID, from: EthereumAddress, to: EthereumAddress, capacity: Amount, feeBase: Amount,
                    feePPM: UInt64, htlcMinimum: Amount, htlcMaximum: Amount, expiryDeltaMillis: UInt64, enabled: Bool = true) {
            self.channelID = channelID
            self.from = from
            self.to = to
            self.capacity = capacity
            self.feeBase = feeBase
            self.feePPM = feePPM
            self.htlcMinimum = htlcMinimum
            self.htlcMaximum = htlcMaximum
            self.expiryDeltaMillis = expiryDeltaMillis
            self.enabled = enabled
        }
    }

    /// An edge's terms as the search reads them: plain integers, no references.
    struct Terms: Sendable {
        var from: Int32
        var to: Int32
        var capacity: UInt128
        var feeBase: UInt128
        var feePPM: UInt64
        var htlcMinimum: UInt128
        var htlcMaximum: UInt128
        var expiryDelta: UInt64
        var enabled: Bool
    }

    public private(set) var nodeIDs: [EthereumAddress] = []
    private(set) var nodeIndex: [EthereumAddress: Int32] = [:]
    private(set) var channelIDs: [ChannelID] = []
    private(set) var terms: [Terms] = []
    /// Per node, the edges that end at it (the search runs from the payee backwards).
    private(set) var incoming: [[Int32]] = []
    /// Per node, the edges that start at it (the payer-side reachability check walks them).
    private(set) var outgoing: [[Int32]] = []
    /// Per channel id, its edges (one per forwarding end).
    private(set) var edgesByChannel: [ChannelID: [Int32]] = [:]
    /// `incoming` flattened for the search's inner loop (see `SearchIndex`); stale after an `add`
    /// until `prepareForSearch()` (a search on a stale graph builds a temporary one).
    private(set) var searchIndex = SearchIndex()
    private(set) var searchIndexIsCurrent = true

    public init() {}

    public init(edges: some Sequence<Edge>) {
        for edge in edges { add(edge) }
        prepareForSearch()
    }

    /// Rebuilds the search's flat index after `add`s (O(edges)). Searches on a graph changed since
    /// are correct without it, but each builds the index itself.
    public mutating func prepareForSearch() {
        guard !searchIndexIsCurrent else { return }
        searchIndex = SearchIndex(self)
        searchIndexIsCurrent = true
    }

    public var nodeCount: Int { nodeIDs.count }
    public var edgeCount: Int { terms.count }

    /// Adds an edge, or replaces the terms of the edge with the same channel id and `from`.
    /// Self-loops are ignored.
    public mutating func add(_ edge: Edge) {
        guard edge.from != edge.to else { return }
        searchIndexIsCurrent = false
        let from = index(of: edge.from), to = index(of: edge.to)
        let t = Terms(from: from, to: to, capacity: edge.capacity.atomicUnits, feeBase: edge.feeBase.atomicUnits,
                      feePPM: edge.feePPM, htlcMinimum: edge.htlcMinimum.atomicUnits, htlcMaximum: edge.htlcMaximum.atomicUnits,
                      expiryDelta: edge.expiryDeltaMillis, enabled: edge.enabled)
        if let existing = edgesByChannel[edge.channelID]?.first(where: { terms[Int($0)].from == from }) {
            let old = terms[Int(existing)]
            if old.to != to {
                incoming[Int(old.to)].removeAll { $0 == existing }
                incoming[Int(to)].append(existing)
            }
            terms[Int(existing)] = t
            return
        }
        let e = Int32(terms.count)
        terms.append(t)
        channelIDs.append(edge.channelID)
        incoming[Int(to)].append(e)
        outgoing[Int(from)].append(e)
        edgesByChannel[edge.channelID, default: []].append(e)
    }

    /// The edges of a channel (for the console and tests).
    public func edges(of channel: ChannelID) -> [Edge] {
        (edgesByChannel[channel] ?? []).map { edge(Int($0)) }
    }

    func edge(_ e: Int) -> Edge {
        let t = terms[e]
        return Edge(channelID: channelIDs[e], from: nodeIDs[Int(t.from)], to: nodeIDs[Int(t.to)], capacity: Amount(t.capacity),
                    feeBase: Amount(t.feeBase), feePPM: t.feePPM, htlcMinimum: Amount(t.htlcMinimum),
                    htlcMaximum: Amount(t.htlcMaximum), expiryDeltaMillis: t.expiryDelta, enabled: t.enabled)
    }

    private mutating func index(of node: EthereumAddress) -> Int32 {
        if let i = nodeIndex[node] { return i }
        let i = Int32(nodeIDs.count)
        nodeIDs.append(node)
        nodeIndex[node] = i
        incoming.append([])
        outgoing.append([])
        return i
    }
}

/// The edges into each node in one flat array (compressed sparse rows), in `incoming` order, with
/// disabled edges left out and the terms the search's inner loop tests stored next to each other:
/// the search scans a node's slots contiguously instead of chasing one array per node and loading
/// two cache lines of `Terms` per edge (a 10,000-node graph's `Terms` alone is 5.6 MB).
struct SearchIndex: Sendable {
    struct Slot: Sendable {
        /// min(htlc_maximum, capacity): the most the edge carries.
        var maxAmount: UInt128
        var minAmount: UInt128
        var feeBase: UInt128
        var feePPM: UInt64
        var expiryDelta: UInt64
    }
    /// Node y's slots are `start[y] ..< start[y + 1]`.
    var start: [Int32] = [0]
    var from: [Int32] = []
    var edge: [Int32] = []
    var slots: [Slot] = []

    init() {}

    init(_ graph: RoutingGraph) {
        start = []
        start.reserveCapacity(graph.nodeCount + 1)
        from.reserveCapacity(graph.edgeCount)
        edge.reserveCapacity(graph.edgeCount)
        slots.reserveCapacity(graph.edgeCount)
        for list in graph.incoming {
            start.append(Int32(from.count))
            for e in list {
                let t = graph.terms[Int(e)]
                guard t.enabled else { continue }
                from.append(t.from)
                edge.append(e)
                slots.append(Slot(maxAmount: min(t.htlcMaximum, t.capacity), minAmount: t.htlcMinimum, feeBase: t.feeBase,
                                  feePPM: t.feePPM, expiryDelta: t.expiryDelta))
            }
        }
        start.append(Int32(from.count))
    }
}
