public import PaymeshCrypto
public import PaymeshGossip
import PaymeshMessages

/// An in-memory network of `GossipRouter`s (Specs/gossip.md §12): a simulated clock, per-link
/// latency (FIFO per direction), a seeded generator, honest nodes each with a `NetworkGraph`, and
/// adversaries that forge, flood or replay. Frames cross links as encoded bytes, so the codec is
/// exercised too. Deterministic for a given configuration.
public struct GossipSimulation {
    public enum Topology: Sendable, Hashable {
        /// Each node dials `degree` distinct random others (so the mean degree is about 2·degree).
        case random(degree: Int)
        /// `clusters` groups with random links of `degree` inside, joined by `bridges` links per cluster.
        case clustered(clusters: Int, degree: Int, bridges: Int)
    }

    public enum Behaviour: Sendable, Hashable {
        case honest
        /// Sends PUBLISH frames claiming honest origins but signed with its own key.
        case forger
        /// Publishes its own valid, distinct node announcements as fast as `perSecond`.
        case flooder(perSecond: Int)
        /// Re-sends every frame it received, once, after the seen cache forgot it (seen TTL + 5 s).
        case replayer
    }

    public struct Configuration: Sendable {
        public var nodes = 200
        public var topology = Topology.random(degree: 4)
        public var linkLatencyMillis: UInt64 = 50
        public var latencyJitterMillis: UInt64 = 0
        public var seed: UInt64 = 1
        public var startTime: UInt64 = 1_767_225_600_000
        public var parameters = GossipParameters()
        /// Behaviour of node i (default honest).
        public var behaviours: [Int: Behaviour] = [:]
        public init() {}
    }

    enum Event {
        case frame(from: Int, to: Int, bytes: [UInt8], epoch: Int)
        case heartbeat(Int)
        case publish(Int, GossipPayload)
        case adversary(Int)
    }

    public struct Node {
        public let key: IdentityKey
        public let behaviour: Behaviour
        public internal(set) var router: GossipRouter
        public internal(set) var graph = NetworkGraph()
        /// First delivery (or own publication) time of each message.
        public internal(set) var deliveredAt: [GossipMessageID: UInt64] = [:]
        var captured: [(time: UInt64, frame: [UInt8])] = []
        var sequence: UInt64 = 0
    }

    public let configuration: Configuration
    public private(set) var nodes: [Node] = []
    public private(set) var now: UInt64
    /// Messages honest nodes published: id → (origin index, time).
    public private(set) var published: [GossipMessageID: (origin: Int, time: UInt64)] = [:]
    var links: [Int: Set<Int>] = [:]
    var indexByAddress: [EthereumAddress: Int] = [:]
    /// Per undirected link: bumped when the link goes down, so frames in flight are lost.
    var epochs: [Pair: Int] = [:]
    var linkFree: [Pair: UInt64] = [:]   // per direction: FIFO delivery
    var queue = EventQueue<Event>()
    var rng: SeededGenerator
    /// Frames that crossed a link.
    public private(set) var framesDelivered = 0
    /// Adversary index → honest nodes that found it below the graylist threshold after one of its frames.
    public private(set) var graylistedBy: [Int: Set<Int>] = [:]

    struct Pair: Hashable { let a: Int, b: Int }

    public init(_ configuration: Configuration) throws {
        self.configuration = configuration
        now = configuration.startTime
        rng = SeededGenerator(seed: configuration.seed)
        for i in 0..<configuration.nodes {
            let key = try Self.key(seed: configuration.seed, index: i)
            nodes.append(Node(key: key, behaviour: configuration.behaviours[i] ?? .honest,
                              router: GossipRouter(localID: key.address, parameters: configuration.parameters)))
            indexByAddress[key.address] = i
        }
        for (a, b) in makeTopology() { connect(a, b) }
        for i in nodes.indices {
            if nodes[i].behaviour == .honest {
                queue.push(.heartbeat(i), at: now + UInt64.random(in: 1...configuration.parameters.heartbeatMillis, using: &rng))
                for topic in GossipTopic.all {
                    perform(i, nodes[i].router.subscribe(topic, now: now, rng: &rng))
                }
            } else {
                queue.push(.adversary(i), at: now + 1_000)
            }
        }
    }

    /// Deterministic test keys: keccak256("paymesh-gossip-sim" ‖ seed ‖ index).
    static func key(seed: UInt64, index: Int) throws -> IdentityKey {
        var material = Array("paymesh-gossip-sim".utf8)
        for v in [seed, UInt64(index)] { for s in stride(from: 56, through: 0, by: -8) { material.append(UInt8(truncatingIfNeeded: v >> s)) } }
        return IdentityKey(privateKey: try Secp256k1.PrivateKey(rawRepresentation: Keccak256.hash(material)))
    }

    public var honestNodes: [Int] { nodes.indices.filter { nodes[$0].behaviour == .honest } }
    public func neighbours(of i: Int) -> [Int] { links[i, default: []].sorted() }

    // MARK: topology and links

    private mutating func makeTopology() -> [(Int, Int)] {
        var edges = Set<Pair>()
        func add(_ a: Int, _ b: Int) { if a != b { edges.insert(Pair(a: min(a, b), b: max(a, b))) } }
        let n = configuration.nodes
        switch configuration.topology {
        case .random(let degree):
            for i in 0..<n {
                // A ring first keeps the graph connected; then random chords.
                add(i, (i + 1) % n)
                for _ in 0..<max(0, degree - 1) { add(i, Int.random(in: 0..<n, using: &rng)) }
            }
        case .clustered(let clusters, let degree, let bridges):
            let size = max(1, n / clusters)
            func cluster(_ i: Int) -> Range<Int> { let c = min(i / size, clusters - 1); return (c * size)..<(c == clusters - 1 ? n : (c + 1) * size) }
            for i in 0..<n {
                let members = cluster(i)
                add(i, members.lowerBound + (i - members.lowerBound + 1) % members.count)
                for _ in 0..<max(0, degree - 1) { add(i, Int.random(in: members, using: &rng)) }
            }
            for c in 0..<clusters {
                let start = c * size
                for _ in 0..<bridges {
                    let other = ((c + 1 + Int.random(in: 0..<max(1, clusters - 1), using: &rng)) % clusters) * size
                    add(start + Int.random(in: 0..<size, using: &rng), min(n - 1, other + Int.random(in: 0..<size, using: &rng)))
                }
            }
        }
        return edges.sorted { ($0.a, $0.b) < ($1.a, $1.b) }.map { ($0.a, $0.b) }
    }

    public mutating func connect(_ a: Int, _ b: Int) {
        guard a != b, !links[a, default: []].contains(b) else { return }
        links[a, default: []].insert(b)
        links[b, default: []].insert(a)
        for (x, y) in [(a, b), (b, a)] where nodes[x].behaviour == .honest {
            perform(x, nodes[x].router.onPeerConnected(nodes[y].key.address, now: now))
        }
        for (x, y) in [(a, b), (b, a)] where nodes[x].behaviour != .honest {
            for topic in GossipTopic.all { transmit(x, y, GossipFrame.subscribe(topic).encoded()) }
        }
    }

    public mutating func disconnect(_ a: Int, _ b: Int) {
        guard links[a]?.remove(b) != nil else { return }
        links[b]?.remove(a)
        epochs[Pair(a: min(a, b), b: max(a, b)), default: 0] += 1
        for (x, y) in [(a, b), (b, a)] where nodes[x].behaviour == .honest {
            nodes[x].router.onPeerDisconnected(nodes[y].key.address, now: now)
        }
    }

    /// Cuts every link between `side` and the rest; returns the cut links (for `heal`).
    public mutating func partition(_ side: Set<Int>) -> [(Int, Int)] {
        var cut: [(Int, Int)] = []
        for a in side.sorted() { for b in links[a, default: []].sorted() where !side.contains(b) { cut.append((a, b)) } }
        for (a, b) in cut { disconnect(a, b) }
        return cut
    }

    public mutating func heal(_ cut: [(Int, Int)]) { for (a, b) in cut { connect(a, b) } }

    private mutating func transmit(_ from: Int, _ to: Int, _ bytes: [UInt8]) {
        let pair = Pair(a: min(from, to), b: max(from, to))
        let direction = Pair(a: from, b: to)
        var arrival = now + configuration.linkLatencyMillis
        if configuration.latencyJitterMillis > 0 { arrival += UInt64.random(in: 0...configuration.latencyJitterMillis, using: &rng) }
        arrival = max(arrival, linkFree[direction] ?? 0)
        linkFree[direction] = arrival
        queue.push(.frame(from: from, to: to, bytes: bytes, epoch: epochs[pair, default: 0]), at: arrival)
    }

    // MARK: running

    /// Schedules honest node `i` to sign and publish `payload` at `time` (its own timestamp).
    public mutating func schedulePublish(from i: Int, _ payload: GossipPayload, at time: UInt64) {
        queue.push(.publish(i, payload), at: time)
    }

    /// A node announcement unique to (node, sequence): the simulations' usual payload.
    public func sampleAnnouncement(_ i: Int, _ sequence: Int) -> GossipPayload {
        let key = nodes[i].key
        // The identity key doubles as onion key in the simulation.
        return .node(try! NodeAnnouncement(alias: "n\(i)-\(sequence)", addresses: ["127.0.0.1:\(9000 + i)"],
                                           features: ["payments/1", "gossip/1"], onionKey: key.publicKey))
    }

    public mutating func run(until end: UInt64) {
        while let t = queue.nextTime, t <= end {
            let (time, event) = queue.pop()!
            now = time
            handle(event)
        }
        now = max(now, end)
    }

    public mutating func run(for millis: UInt64) { run(until: now + millis) }

    private mutating func handle(_ event: Event) {
        switch event {
        case .frame(let from, let to, let bytes, let epoch):
            let pair = Pair(a: min(from, to), b: max(from, to))
            guard epochs[pair, default: 0] == epoch, links[from]?.contains(to) == true else { return }
            if nodes[from].behaviour == .honest { perform(from, nodes[from].router.onSent(to: nodes[to].key.address)) }
            framesDelivered += 1
            if nodes[to].behaviour == .honest {
                // Borrow the graph out of the node so the router and its validator are two disjoint values.
                var graph = NetworkGraph()
                swap(&graph, &nodes[to].graph)
                let actions = nodes[to].router.onBytes(bytes, from: nodes[from].key.address, now: now, validator: &graph)
                swap(&graph, &nodes[to].graph)
                if nodes[from].behaviour != .honest {
                    let router = nodes[to].router
                    if router.score(of: nodes[from].key.address, now: now) < router.parameters.score.graylistThreshold {
                        graylistedBy[from, default: []].insert(to)
                    }
                }
                perform(to, actions)
            } else if nodes[to].behaviour == .replayer, nodes[to].captured.count < 10_000 {
                nodes[to].captured.append((now, bytes))
            }
        case .heartbeat(let i):
            guard nodes[i].behaviour == .honest else { return }
            perform(i, nodes[i].router.onHeartbeat(now: now, rng: &rng))
            queue.push(.heartbeat(i), at: now + configuration.parameters.heartbeatMillis)
        case .publish(let i, let payload):
            guard let message = try? GossipMessage.sign(payload, timestamp: now, with: nodes[i].key) else { return }
            if nodes[i].behaviour == .honest {
                _ = nodes[i].graph.validate(message, now: now)
                published[message.id] = (i, now)
                nodes[i].deliveredAt[message.id] = now
                perform(i, nodes[i].router.publish(message, now: now))
            } else {
                for peer in links[i, default: []].sorted() { transmit(i, peer, GossipFrame.publish(message).encoded()) }
            }
        case .adversary(let i):
            act(i)
        }
    }

    private mutating func perform(_ i: Int, _ actions: [GossipAction]) {
        for action in actions {
            switch action {
            case .send(let frame, let peer):
                guard let j = index(of: peer) else { continue }
                transmit(i, j, frame.encoded())
            case .deliver(let message):
                if nodes[i].deliveredAt[message.id] == nil { nodes[i].deliveredAt[message.id] = now }
            case .misbehaviour, .closeStream, .announceSignatures:
                break
            }
        }
    }

    private func index(of address: EthereumAddress) -> Int? { indexByAddress[address] }

    // MARK: adversaries

    private mutating func act(_ i: Int) {
        let peers = links[i, default: []].sorted()
        switch nodes[i].behaviour {
        case .honest:
            return
        case .forger:
            // A message in an honest node's name, signed with the forger's key.
            let victim = honestNodes[Int.random(in: 0..<honestNodes.count, using: &rng)]
            nodes[i].sequence += 1
            let body = GossipMessage.encodeBody(sampleAnnouncement(victim, 1_000_000 + Int(nodes[i].sequence)),
                                                origin: nodes[victim].key.address, timestamp: now)
            if let raw = try? nodes[i].key.personalSign(message: GossipMessage.signingTag + body),
               let signature = try? Signature65(raw), let forged = try? GossipMessage(body: body, signature: signature) {
                for peer in peers { transmit(i, peer, GossipFrame.publish(forged).encoded()) }
            }
            queue.push(.adversary(i), at: now + 100)
        case .flooder(let perSecond):
            nodes[i].sequence += 1
            queue.push(.publish(i, sampleAnnouncement(i, Int(nodes[i].sequence))), at: now)
            queue.push(.adversary(i), at: now + max(1, 1_000 / UInt64(max(1, perSecond))))
        case .replayer:
            let window = configuration.parameters.seenTTLMillis + 5_000
            let old = nodes[i].captured.filter { $0.time + window < now }
            nodes[i].captured.removeAll { $0.time + window < now }
            for frame in old.prefix(50) { for peer in peers { transmit(i, peer, frame.frame) } }
            queue.push(.adversary(i), at: now + 1_000)
        }
    }

    // MARK: figures

    public struct Figures: Sendable {
        public var messages = 0
        public var honestNodes = 0
        public var deliveries = 0
        public var missing = 0
        public var latencyP50Millis: UInt64 = 0
        public var latencyP99Millis: UInt64 = 0
        public var latencyMaxMillis: UInt64 = 0
        /// PUBLISH frames received per honest node per message (GossipSub amplification).
        public var copiesPerNodePerMessage = 0.0
    }

    /// Dissemination of the honest messages published so far, over the honest nodes.
    public func figures() -> Figures {
        var f = Figures()
        let honest = honestNodes
        f.messages = published.count
        f.honestNodes = honest.count
        var latencies: [UInt64] = []
        for (id, origin) in published {
            for i in honest where i != origin.origin {
                if let t = nodes[i].deliveredAt[id] {
                    latencies.append(t - origin.time)
                    f.deliveries += 1
                } else {
                    f.missing += 1
                }
            }
        }
        latencies.sort()
        if !latencies.isEmpty {
            f.latencyP50Millis = latencies[latencies.count / 2]
            f.latencyP99Millis = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
            f.latencyMaxMillis = latencies.last!
        }
        let copies = honest.reduce(0) { $0 + nodes[$1].router.counters.messagesReceived }
        if f.messages > 0, !honest.isEmpty { f.copiesPerNodePerMessage = Double(copies) / Double(honest.count * f.messages) }
        return f
    }

    /// Honest nodes that have not received honest message `id`.
    public func missing(_ id: GossipMessageID) -> [Int] {
        honestNodes.filter { nodes[$0].deliveredAt[id] == nil }
    }
}
