import PaymeshCrypto

/// The last `windows` heartbeats of messages, for IWANT answers and IHAVE gossip (GossipSub
/// mcache, Specs/gossip.md §9.4). Bounded per window.
struct MessageCache: Sendable {
    struct Entry: Sendable {
        var message: GossipMessage
        /// IWANT answers per peer (GossipSub gossip_retransmission).
        var served: [EthereumAddress: Int] = [:]
    }

    private var entries: [GossipMessageID: Entry] = [:]
    /// Newest window first; each holds ids in arrival order.
    private var windows: [[GossipMessageID]]
    let gossipWindows: Int
    let maxPerWindow: Int

    init(windows: Int, gossipWindows: Int, maxPerWindow: Int) {
        precondition(windows >= 1 && gossipWindows <= windows)
        self.windows = Array(repeating: [], count: windows)
        self.gossipWindows = gossipWindows
        self.maxPerWindow = maxPerWindow
    }

    var count: Int { entries.count }

    /// False when the current window is full (the message is still delivered and forwarded).
    mutating func put(_ message: GossipMessage) -> Bool {
        guard entries[message.id] == nil else { return true }
        guard windows[0].count < maxPerWindow else { return false }
        entries[message.id] = Entry(message: message)
        windows[0].append(message.id)
        return true
    }

    func contains(_ id: GossipMessageID) -> Bool { entries[id] != nil }

    /// The message for an IWANT from `peer`, counting the retransmission; nil when unknown,
    /// `.limit` when the peer already fetched it `limit` times.
    enum Fetch { case message(GossipMessage), unknown, limit }
    mutating func fetch(_ id: GossipMessageID, for peer: EthereumAddress, limit: Int) -> Fetch {
        guard var entry = entries[id] else { return .unknown }
        let n = entry.served[peer, default: 0]
        guard n < limit else { return .limit }
        entry.served[peer] = n + 1
        entries[id] = entry
        return .message(entry.message)
    }

    /// Ids of `topic` in the gossip windows, in arrival order.
    func gossipIDs(_ topic: GossipTopic) -> [GossipMessageID] {
        windows.prefix(gossipWindows).reversed().flatMap { $0 }.filter { entries[$0]?.message.topic == topic }
    }

    /// Ids of `topic` in every window, oldest first.
    func allIDs(_ topic: GossipTopic, since: UInt64) -> [GossipMessageID] {
        windows.reversed().flatMap { $0 }.filter { entries[$0].map { $0.message.topic == topic && $0.message.timestamp >= since } ?? false }
    }

    /// Heartbeat: the oldest window falls out.
    mutating func shift() {
        for id in windows.removeLast() { entries[id] = nil }
        windows.insert([], at: 0)
    }
}


/// Ids seen recently, each for `ttl` (GossipSub seen cache, §9.5). Bounded: when full, the
/// oldest entry goes first.
struct SeenCache: Sendable {
    private var expiry: [GossipMessageID: UInt64] = [:]
    private var order: [(id: GossipMessageID, expires: UInt64)] = []
    private var head = 0
    let ttl: UInt64
    let capacity: Int

    init(ttl: UInt64, capacity: Int) {
        self.ttl = ttl
        self.capacity = capacity
    }

    var count: Int { expiry.count }
    func contains(_ id: GossipMessageID) -> Bool { expiry[id] != nil }

    /// Records `id`; returns the number of entries evicted to make room (0 or 1).
    mutating func insert(_ id: GossipMessageID, now: UInt64) -> Int {
        guard expiry[id] == nil else { return 0 }
        var evicted = 0
        if expiry.count >= capacity, head < order.count {
            expiry[order[head].id] = nil
            head += 1
            evicted = 1
        }
        expiry[id] = now + ttl
        order.append((id, now + ttl))
        return evicted
    }

    mutating func expire(now: UInt64) {
        while head < order.count, order[head].expires <= now {
            if expiry[order[head].id] == order[head].expires { expiry[order[head].id] = nil }
            head += 1
        }
        if head > 1_024, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}

/// A token bucket over the injected clock (ms).
struct TokenBucket: Sendable, Hashable {
    private(set) var tokens: Double
    private var last: UInt64
    let rate: Double
    let burst: Double

    init(rate: Double, burst: Double, now: UInt64) {
        self.rate = rate
        self.burst = burst
        tokens = burst
        last = now
    }

    mutating func take(now: UInt64) -> Bool {
        if now > last {
            tokens = min(burst, tokens + Double(now - last) / 1_000 * rate)
            last = now
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    func isFull(now: UInt64) -> Bool { tokens + Double(now > last ? now - last : 0) / 1_000 * rate >= burst }
}
