import Testing
import PaymeshDiscovery

/// Runs start.sh once for the suite's gate; the output says why when it cannot.
enum DaemonGate {
    static let firstStart = AvahiDaemonControl.start()
    static var ready: Bool {
        if firstStart.status != 0 { print("PaymeshDiscoveryTests: skipping real-daemon tests: \(firstStart.output)") }
        return firstStart.status == 0
    }
}

/// Real avahi-daemon on loopback (scripts/avahi/avahi-daemon.conf: allow-interfaces=lo).
/// Serialized: the tests share one daemon, and some stop and restart it.
@Suite(.serialized, .enabled(if: DaemonGate.ready, "scripts/avahi/start.sh cannot start avahi-daemon"))
struct RealDaemonTests {
    /// Distinguishes this run's instances from any other Paymesh node on the same daemon.
    let tag = String(UInt32.random(in: 0...UInt32.max), radix: 36)

    init() throws {
        let started = AvahiDaemonControl.start()
        try #require(started.status == 0, "start.sh: \(started.output)")
    }

    private static func randomPeerID() -> String {
        "0x" + (0..<40).map { _ in String(Int.random(in: 0..<16), radix: 16) }.joined()
    }

    private func node(_ name: String, port: UInt16, txt: [String: String] = [:]) throws -> Discovery {
        try Discovery(instanceName: name, port: port, peerID: Self.randomPeerID(), txt: txt)
    }

    @Test(.timeLimit(.minutes(1)))
    func twoNodesFindEachOtherWithTheirTXT() async throws {
        let a = try node("pm-a-\(tag)", port: 40101, txt: ["role": "alice"])
        let b = try node("pm-b-\(tag)", port: 40102, txt: ["role": "bob"])
        defer { a.stop(); b.stop() }
        let ra = EventRecorder(a.start())
        let rb = EventRecorder(b.start())

        let seenByA = try #require(await ra.found("pm-b-\(tag)"), "A did not find B: \(ra.all)")
        let seenByB = try #require(await rb.found("pm-a-\(tag)"), "B did not find A: \(rb.all)")
        #expect(seenByA == DiscoveredPeer(instanceName: "pm-b-\(tag)", peerID: b.peerID, host: "127.0.0.1", port: 40102,
                                          txt: ["id": b.peerID, "v": "paymesh/1", "role": "bob"]))
        #expect(seenByB.peerID == a.peerID)
        #expect(seenByB.port == 40101)
        #expect(seenByB.txt["role"] == "alice")
        #expect(a.currentPeers.contains(seenByA))
        #expect(a.publishedInstanceName == "pm-a-\(tag)")
        #expect(ra.all.first == .daemonAvailable)
        #expect(!a.currentPeers.contains { $0.peerID == a.peerID || $0.instanceName == "pm-a-\(tag)" })
    }

    @Test(.timeLimit(.minutes(1)))
    func stoppingANodeIsNoticedAsRemoved() async throws {
        let a = try node("pm-a-\(tag)", port: 40111)
        let b = try node("pm-b-\(tag)", port: 40112)
        defer { a.stop() }
        let ra = EventRecorder(a.start())
        let rb = EventRecorder(b.start())
        _ = try #require(await ra.found("pm-b-\(tag)"), "A did not find B: \(ra.all)")
        _ = try #require(await rb.found("pm-a-\(tag)"), "B did not find A: \(rb.all)")

        b.stop()
        let removed = await ra.first { $0 == .removed(instanceName: "pm-b-\(tag)") }
        #expect(removed != nil, "A did not notice B leaving: \(ra.all)")
        #expect(!a.currentPeers.contains { $0.instanceName == "pm-b-\(tag)" })
        #expect(b.currentPeers.isEmpty)
        #expect(b.publishedInstanceName == nil)
    }

    @Test(.timeLimit(.minutes(1)))
    func sameInstanceNameIsResolvedToDistinctNames() async throws {
        let name = "pm-dup-\(tag)"
        let a = try node(name, port: 40121)
        let b = try node(name, port: 40122)
        defer { a.stop(); b.stop() }
        let ra = EventRecorder(a.start())
        #expect(await ra.published() == name)
        let rb = EventRecorder(b.start())
        let renamed = try #require(await rb.published(), "B never got a name: \(rb.all)")
        #expect(renamed == "\(name) #2")
        #expect(b.publishedInstanceName == renamed)

        let seenByA = try #require(await ra.found(renamed), "A did not find B: \(ra.all)")
        let seenByB = try #require(await rb.found(name), "B did not find A: \(rb.all)")
        #expect(seenByA.peerID == b.peerID && seenByA.port == 40122)
        #expect(seenByB.peerID == a.peerID && seenByB.port == 40121)
    }

    @Test(.timeLimit(.minutes(1)))
    func startsWithoutDaemonAndResumesWhenItAppears() async throws {
        let stopped = AvahiDaemonControl.stop()
        try #require(stopped.status == 0, "stop.sh: \(stopped.output)")
        let a = try node("pm-a-\(tag)", port: 40131)
        let b = try node("pm-b-\(tag)", port: 40132)
        defer { a.stop(); b.stop() }
        let ra = EventRecorder(a.start())
        let rb = EventRecorder(b.start())

        let down = await ra.first(within: .seconds(3)) { if case .daemonUnavailable = $0 { true } else { false } }
        guard case .daemonUnavailable(let reason) = down else {
            Issue.record("no .daemonUnavailable without a daemon: \(ra.all)")
            return
        }
        #expect(reason.contains("avahi-daemon"))
        #expect(!a.isDaemonAvailable)
        #expect(a.publishedInstanceName == nil)

        let started = AvahiDaemonControl.start()
        try #require(started.status == 0, "start.sh: \(started.output)")
        #expect(await ra.first { $0 == .daemonAvailable } != nil, "A never saw the daemon: \(ra.all)")
        #expect(await ra.found("pm-b-\(tag)") != nil, "A did not find B after the daemon came up: \(ra.all)")
        #expect(await rb.found("pm-a-\(tag)") != nil, "B did not find A after the daemon came up: \(rb.all)")
        #expect(a.isDaemonAvailable)
    }

    @Test(.timeLimit(.minutes(1)))
    func daemonRestartRemovesPeersThenRepublishes() async throws {
        let a = try node("pm-a-\(tag)", port: 40141)
        let b = try node("pm-b-\(tag)", port: 40142)
        defer { a.stop(); b.stop() }
        let ra = EventRecorder(a.start())
        let rb = EventRecorder(b.start())
        _ = try #require(await ra.found("pm-b-\(tag)"), "A did not find B: \(ra.all)")
        _ = try #require(await rb.found("pm-a-\(tag)"), "B did not find A: \(rb.all)")

        let stopped = AvahiDaemonControl.stop()
        try #require(stopped.status == 0, "stop.sh: \(stopped.output)")
        let mark = ra.all.count
        #expect(await ra.first(after: 0) { $0 == .removed(instanceName: "pm-b-\(tag)") } != nil, "\(ra.all)")
        #expect(await ra.first(after: 0) { if case .daemonUnavailable = $0 { true } else { false } } != nil, "\(ra.all)")
        #expect(a.currentPeers.isEmpty)

        let started = AvahiDaemonControl.start()
        try #require(started.status == 0, "start.sh: \(started.output)")
        let after = mark
        #expect(await ra.found("pm-b-\(tag)", after: after) != nil, "A did not find B again: \(ra.all)")
        #expect(await ra.published(after: after) == "pm-a-\(tag)", "A did not re-publish: \(ra.all)")
    }
}
