import Foundation
import PaymeshGossip
import PaymeshGossipSimulation

/// `paymesh-bench gossip`: the in-memory GossipSub simulation of issue 9 — N routers (default
/// 200) on a random topology with 50 ms simulated links — and its figures: dissemination latency
/// p50/p99 in simulated ms, copies received per node per message, and CPU time per delivered
/// message (real CPU of this process, which runs the whole network on one thread).
struct GossipBench {
    var nodes = 200
    var messages = 200
    var latencyMillis: UInt64 = 50
    var seed: UInt64 = 1

    func run() throws {
        var configuration = GossipSimulation.Configuration()
        configuration.nodes = nodes
        configuration.topology = .random(degree: 4)
        configuration.linkLatencyMillis = latencyMillis
        configuration.seed = seed
        var sim = try GossipSimulation(configuration)
        sim.run(for: 5_000)   // meshes form
        var rng = SeededGenerator(seed: seed &+ 1)
        let start = sim.now
        for k in 0..<messages {
            let origin = Int.random(in: 0..<nodes, using: &rng)
            sim.schedulePublish(from: origin, sim.sampleAnnouncement(origin, k), at: start + UInt64(k) * 20)
        }
        let cpuBefore = cpuSeconds()
        let framesBefore = sim.framesDelivered
        sim.run(for: UInt64(messages) * 20 + 10_000)
        let cpu = cpuSeconds() - cpuBefore
        let f = sim.figures()
        let deliveries = f.deliveries
        print("gossip simulation: \(nodes) routers, random topology (mean degree ≈ 8), \(latencyMillis) ms links, "
              + "\(messages) messages from random origins at 50/s")
        printRow("delivered (node × message)", "\(deliveries) of \(deliveries + f.missing)")
        printRow("dissemination latency p50 (simulated)", "\(f.latencyP50Millis) ms")
        printRow("dissemination latency p99 (simulated)", "\(f.latencyP99Millis) ms", "< 500 ms")
        printRow("dissemination latency max (simulated)", "\(f.latencyMaxMillis) ms")
        printRow("copies received per node per message", String(format: "%.2f", f.copiesPerNodePerMessage),
                 "≤ D + gossip (D = \(GossipParameters().d))")
        printRow("frames carried", "\(sim.framesDelivered - framesBefore)")
        printRow("CPU per delivered message (whole network)", String(format: "%.1f µs", cpu / Double(max(1, deliveries)) * 1e6))
        printRow("CPU total for the dissemination phase", String(format: "%.2f s", cpu))
    }

    private func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
}
