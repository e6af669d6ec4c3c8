import Testing
@testable import PaymeshDiscovery

@Suite struct PeerSetTests {
    static let ownID = "0xabcdef0123456789abcdef0123456789abcdef01"
    static let otherID = "0x2222222222222222222222222222222222222222"

    private func peer(_ name: String, id: String = otherID, port: UInt16 = 9000) -> DiscoveredPeer {
        DiscoveredPeer(instanceName: name, peerID: id, host: "127.0.0.1", port: port, txt: ["id": id, "v": "paymesh/1"])
    }

    @Test func foundOnceThenUpdatedThenRemoved() {
        var set = PeerSet(ownPeerID: Self.ownID)
        #expect(set.onResolved(peer("a"), interface: 1) == [.found(peer("a"))])
        #expect(set.onResolved(peer("a"), interface: 1) == [])
        #expect(set.onResolved(peer("a", port: 9001), interface: 1) == [.found(peer("a", port: 9001))])
        #expect(set.peers == [peer("a", port: 9001)])
        #expect(set.onRemoved(instanceName: "a", interface: 1) == [.removed(instanceName: "a")])
        #expect(set.onRemoved(instanceName: "a", interface: 1) == [])
        #expect(set.peers.isEmpty)
    }

    @Test func removedOnlyWhenGoneFromEveryInterface() {
        var set = PeerSet(ownPeerID: Self.ownID)
        _ = set.onResolved(peer("a"), interface: 1)
        #expect(set.onResolved(peer("a"), interface: 2) == [])
        #expect(set.onRemoved(instanceName: "a", interface: 1) == [])
        #expect(set.peers.count == 1)
        #expect(set.onRemoved(instanceName: "a", interface: 2) == [.removed(instanceName: "a")])
    }

    @Test func removalOfUnknownServiceIsIgnored() {
        var set = PeerSet(ownPeerID: Self.ownID)
        #expect(set.onRemoved(instanceName: "never-resolved", interface: 1) == [])
    }

    @Test func ownPeerIDIsFilteredWhateverItsCase() {
        var set = PeerSet(ownPeerID: Self.ownID)
        let upper = "0x" + Self.ownID.dropFirst(2).uppercased()
        #expect(set.onResolved(peer("other-process-with-our-key", id: upper), interface: 1) == [])
        #expect(set.onResolved(peer("node"), interface: 1) == [.found(peer("node"))])
    }

    @Test func publishedNameChangesAreReportedOnce() {
        var set = PeerSet(ownPeerID: Self.ownID)
        #expect(set.onPublished(instanceName: "node") == [.published(instanceName: "node")])
        #expect(set.onPublished(instanceName: "node") == [])
        #expect(set.onUnpublished() == [])
        #expect(set.publishedName == nil)
        #expect(set.onPublished(instanceName: "node #2") == [.published(instanceName: "node #2")])
        #expect(set.publishedName == "node #2")
    }

    @Test func daemonLossRemovesEveryPeerAndIsReportedOnce() {
        var set = PeerSet(ownPeerID: Self.ownID)
        #expect(set.onDaemonAvailable() == [.daemonAvailable])
        #expect(set.onDaemonAvailable() == [])
        _ = set.onPublished(instanceName: "me")
        _ = set.onResolved(peer("b"), interface: 1)
        _ = set.onResolved(peer("a"), interface: 1)
        #expect(set.onDaemonUnavailable(reason: "gone") == [
            .removed(instanceName: "a"), .removed(instanceName: "b"), .daemonUnavailable(reason: "gone"),
        ])
        #expect(set.publishedName == nil)
        #expect(set.onDaemonUnavailable(reason: "still gone") == [])
        #expect(set.daemon == .unavailable(reason: "gone"))
        #expect(set.onDaemonAvailable() == [.daemonAvailable])
    }

    @Test func snapshotReplaysState() {
        var set = PeerSet(ownPeerID: Self.ownID)
        #expect(set.snapshot() == [])
        _ = set.onDaemonAvailable()
        _ = set.onPublished(instanceName: "me")
        _ = set.onResolved(peer("b"), interface: 1)
        _ = set.onResolved(peer("a"), interface: 1)
        #expect(set.snapshot() == [.daemonAvailable, .published(instanceName: "me"), .found(peer("a")), .found(peer("b"))])
    }

    @Test func hubDeliversSnapshotThenLiveEventsAndEndsStreams() async {
        let hub = EventHub(ownPeerID: Self.ownID)
        hub.apply { $0.onDaemonAvailable() }
        let stream = hub.subscribe()
        hub.apply { $0.onResolved(peer("a"), interface: 1) }
        hub.finishAll()
        var received: [DiscoveryEvent] = []
        for await event in stream { received.append(event) }
        #expect(received == [.daemonAvailable, .found(peer("a"))])
        #expect(hub.read { $0.peers.isEmpty })
    }
}
