public import PaymeshNode
import PaymeshTestSupport

/// Driving gossip on a `TestNetwork`: the manual clock moves one heartbeat at a time, and between
/// moves the test waits (woken by the gossip services' change signals, never by polling) until the
/// network is quiet: every gossip node has run the heartbeat due by now and every frame queued
/// anywhere has been received.
extension TestNetwork {
    /// The running nodes that run gossip.
    public var gossipNodes: [TestNode] { nodes.filter { $0.isRunning && $0.setup.gossip != nil } }

    /// True when every gossip node ran the heartbeat due by now and Σ frames sent = Σ frames
    /// received over the gossip nodes (no frame in flight). Only meaningful when gossip nodes talk
    /// to gossip nodes only.
    public func gossipQuiet() async -> Bool {
        var sent = 0, received = 0
        for node in gossipNodes {
            let p = await node.gossip.progress()
            guard let next = p.nextHeartbeat, next > clock.now else { return false }
            sent += p.framesSent
            received += p.framesReceived
        }
        return sent == received
    }

    /// Waits until `check` holds, re-checking after every change of any gossip node's router or
    /// graph; fails with `TimedOut(what)` after `timeout` seconds of real time.
    public func waitForGossip(_ what: String, timeout: Double = 30, _ check: @escaping @Sendable () async -> Bool) async throws {
        let streams = gossipNodes.compactMap { $0.gossip.watchChanges() }
        let (merged, sink) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        try await withTimeout(timeout, what) {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for s in streams { group.addTask { for await _ in s { sink.yield() } } }
                defer { group.cancelAll() }
                if await check() { return }
                for await _ in merged {
                    if await check() { return }
                }
            }
        }
    }

    /// Moves time one heartbeat (`step`) at a time, letting the network go quiet after each move,
    /// until `condition` holds; throws after `maxSteps` moves naming `what`.
    public func runGossip(_ what: String, step: Duration = .seconds(1), maxSteps: Int = 30,
                          until condition: @escaping @Sendable () async -> Bool) async throws {
        for _ in 0...maxSteps {
            try await waitForGossip("gossip quiet (\(what))") { await self.gossipQuiet() }
            if await condition() { return }
            advance(by: step)
        }
        throw TimedOut("\(what) after \(maxSteps) heartbeats", after: 0)
    }
}
