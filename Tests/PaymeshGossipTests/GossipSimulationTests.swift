import PaymeshGossip
import PaymeshGossipSimulation
import Testing

/// Many routers in memory (Specs/gossip.md §12): a simulated clock, per-link latency, seeded
/// randomness. Assertions are on deliveries, scores and counters; no wall-clock timing.
@Suite("Gossip simulation")
struct GossipSimulationTests {
    static func configuration(nodes: Int, topology: GossipSimulation.Topology, seed: UInt64,
                              behaviours: [Int: GossipSimulation.Behaviour] = [:]) -> GossipSimulation.Configuration {
        var c = GossipSimulation.Configuration()
        c.nodes = nodes
        c.topology = topology
        c.seed = seed
        c.linkLatencyMillis = 50
        c.latencyJitterMillis = 20
        c.behaviours = behaviours
        return c
    }

    /// Publishes `count` messages from random honest nodes, spaced `spacing` ms apart from `start`.
    static func publish(_ sim: inout GossipSimulation, count: Int, start: UInt64, spacing: UInt64, seed: UInt64, tag: Int = 0) {
        var rng = SeededGenerator(seed: seed)
        let honest = sim.honestNodes
        for k in 0..<count {
            let origin = honest[Int.random(in: 0..<honest.count, using: &rng)]
            sim.schedulePublish(from: origin, sim.sampleAnnouncement(origin, tag * 10_000 + k), at: start + UInt64(k) * spacing)
        }
    }

    static func report(_ name: String, _ f: GossipSimulation.Figures) {
        print("gossip sim \(name): \(f.honestNodes) honest nodes, \(f.messages) messages, missing \(f.missing), "
              + "latency p50 \(f.latencyP50Millis) ms p99 \(f.latencyP99Millis) ms max \(f.latencyMaxMillis) ms, "
              + "copies/node/message \(String(format: "%.2f", f.copiesPerNodePerMessage))")
    }

    @Test func randomTopologyReachesEveryNode() throws {
        var sim = try GossipSimulation(Self.configuration(nodes: 150, topology: .random(degree: 4), seed: 7))
        sim.run(for: 3_000)   // meshes form
        Self.publish(&sim, count: 30, start: sim.now, spacing: 50, seed: 1)
        sim.run(for: 10_000)
        let f = sim.figures()
        Self.report("random 150", f)
        #expect(f.messages == 30 && f.missing == 0)
        #expect(f.copiesPerNodePerMessage < Double(GossipParameters().dHigh), "amplification bounded by the mesh")
        for i in sim.honestNodes {
            #expect(sim.nodes[i].router.counters.invalid == 0 && sim.nodes[i].router.counters.droppedTotal == sim.nodes[i].router.counters.dropped[.ignored, default: 0])
        }
    }

    @Test func clusteredTopologyReachesEveryNode() throws {
        var sim = try GossipSimulation(Self.configuration(nodes: 120, topology: .clustered(clusters: 6, degree: 4, bridges: 2), seed: 11))
        sim.run(for: 3_000)
        Self.publish(&sim, count: 20, start: sim.now, spacing: 100, seed: 2)
        sim.run(for: 10_000)
        let f = sim.figures()
        Self.report("clustered 120", f)
        #expect(f.messages == 20 && f.missing == 0)
    }

    @Test func spammersAndForgersAreGraylistedWhileHonestMessagesReachEveryone() throws {
        let behaviours: [Int: GossipSimulation.Behaviour] = [3: .forger, 17: .forger, 40: .flooder(perSecond: 100),
                                                             61: .flooder(perSecond: 50), 67: .replayer, 75: .replayer]
        var configuration = Self.configuration(nodes: 80, topology: .random(degree: 4), seed: 23, behaviours: behaviours)
        // A tighter origin rate (2/s, burst 10) keeps the flooders' admitted share small: this test
        // runs in a debug build too.
        configuration.parameters.originRatePerSecond = 2
        configuration.parameters.originBurst = 10
        // A shorter seen cache and window than the defaults (same invariant: window < seen TTL), so
        // that replays past the seen cache come within a minute of simulated time.
        configuration.parameters.seenTTLMillis = 30_000
        configuration.parameters.maxMessageAgeMillis = 20_000
        var sim = try GossipSimulation(configuration)
        sim.run(for: 3_000)
        // Honest traffic for 40 s; replayers re-send what they captured 35 s later, until about 75 s.
        Self.publish(&sim, count: 40, start: sim.now, spacing: 1_000, seed: 3)
        sim.run(for: 75_000)
        let f = sim.figures()
        Self.report("80 with 6 adversaries", f)
        #expect(f.messages == 40 && f.missing == 0, "every honest message reaches every honest node")
        // Every honest neighbour graylisted its adversary, and at the end still keeps it out of
        // gossip (its score decays back towards the threshold between offences).
        for (adversary, behaviour) in behaviours.sorted(by: { $0.key < $1.key }) {
            let address = sim.nodes[adversary].key.address
            for n in sim.neighbours(of: adversary) where sim.nodes[n].behaviour == .honest {
                let router = sim.nodes[n].router
                #expect(sim.graylistedBy[adversary, default: []].contains(n), "\(behaviour) \(adversary) never graylisted by \(n)")
                #expect(router.score(of: address, now: sim.now) < router.parameters.score.gossipThreshold,
                        "\(behaviour) \(adversary) at \(n): score \(router.score(of: address, now: sim.now))")
            }
        }
        let totals = sim.honestNodes.reduce(into: GossipCounters()) { t, i in
            let c = sim.nodes[i].router.counters
            t.invalid += c.invalid
            for (k, v) in c.dropped { t.dropped[k, default: 0] += v }
        }
        print("adversary drops: \(totals.dropped.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        #expect(totals.dropped[.invalidSignature, default: 0] > 0 && totals.dropped[.timestampOutOfWindow, default: 0] > 0)
        #expect(totals.dropped[.originRateLimited, default: 0] > 0 && totals.dropped[.graylisted, default: 0] > 0)
    }

    @Test func partitionHeals() throws {
        var sim = try GossipSimulation(Self.configuration(nodes: 100, topology: .random(degree: 4), seed: 5))
        sim.run(for: 3_000)
        let west = Set(0..<50)
        let cut = sim.partition(west)
        #expect(!cut.isEmpty)
        // During the partition each side hears only itself.
        sim.schedulePublish(from: 10, sim.sampleAnnouncement(10, 1), at: sim.now + 10)
        sim.schedulePublish(from: 80, sim.sampleAnnouncement(80, 1), at: sim.now + 10)
        sim.run(for: 5_000)
        let during = sim.published.keys.sorted()
        for id in during {
            let origin = sim.published[id]!.origin
            let sameSide = sim.honestNodes.filter { west.contains($0) == west.contains(origin) }
            #expect(sim.missing(id).sorted() == sim.honestNodes.filter { !sameSide.contains($0) }.sorted())
        }
        sim.heal(cut)
        sim.run(for: 3_000)
        Self.publish(&sim, count: 10, start: sim.now, spacing: 100, seed: 9, tag: 1)
        sim.run(for: 10_000)
        for id in sim.published.keys where !during.contains(id) {
            #expect(sim.missing(id).isEmpty, "after healing every node hears every new message")
        }
    }

    @Test func churnNodesLeaveAndRejoin() throws {
        var sim = try GossipSimulation(Self.configuration(nodes: 100, topology: .random(degree: 4), seed: 31))
        sim.run(for: 3_000)
        var rng = SeededGenerator(seed: 4)
        var removed: [(Int, Int)] = []
        for node in (0..<100).shuffled(using: &rng).prefix(10) {
            for n in sim.neighbours(of: node) { removed.append((node, n)); sim.disconnect(node, n) }
        }
        Self.publish(&sim, count: 5, start: sim.now + 10, spacing: 100, seed: 6)
        sim.run(for: 5_000)
        for (a, b) in removed { sim.connect(a, b) }
        sim.run(for: 3_000)
        let before = Set(sim.published.keys)
        Self.publish(&sim, count: 10, start: sim.now, spacing: 100, seed: 8, tag: 2)
        sim.run(for: 10_000)
        for id in sim.published.keys where !before.contains(id) { #expect(sim.missing(id).isEmpty) }
    }
}
