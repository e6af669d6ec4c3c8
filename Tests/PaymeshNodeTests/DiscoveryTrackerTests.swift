import PaymeshCrypto
import PaymeshDiscovery
import PaymeshNode
import Testing

/// The sans-IO bookkeeping between `Discovery` events and the peer manager.
struct DiscoveryTrackerTests {
    let me = address(1), a = address(2), b = address(3)

    func peer(_ name: String, _ id: EthereumAddress, port: UInt16 = 9000, host: String = "127.0.0.1") -> DiscoveredPeer {
        DiscoveredPeer(instanceName: name, peerID: id.description, host: host, port: port, txt: ["id": id.description, "v": "paymesh/1"])
    }

    @Test func foundAndRemovedPeersBecomeFoundAndLostOnce() {
        var t = DiscoveryTracker(local: me)
        #expect(t.on(.daemonAvailable) == [.status(DiscoveryStatus(active: true, reason: nil))])
        #expect(t.on(.daemonAvailable) == [])
        #expect(t.on(.found(peer("pa", a, port: 9001))) == [.found(a, PeerEndpoint(host: "127.0.0.1", port: 9001))])
        #expect(t.on(.found(peer("pa", a, port: 9001))) == [], "a repeated report changes nothing")
        #expect(t.on(.found(peer("pa", a, port: 9002))) == [.found(a, PeerEndpoint(host: "127.0.0.1", port: 9002))], "a new port is re-announced")
        #expect(t.on(.published(instanceName: "paymesh-00000000")) == [])
        #expect(t.publishedName == "paymesh-00000000")
        #expect(t.on(.removed(instanceName: "pa")) == [.lost(a)])
        #expect(t.on(.removed(instanceName: "pa")) == [])
        #expect(t.services.isEmpty)
    }

    @Test func ourOwnIdAndMalformedIdsAreShownButNeverDialled() {
        var t = DiscoveryTracker(local: me)
        #expect(t.on(.found(peer("self", me))) == [])
        let bad = DiscoveredPeer(instanceName: "odd", peerID: "0xnothex", host: "127.0.0.1", port: 1, txt: [:])
        #expect(t.on(.found(bad)) == [])
        #expect(t.services.map(\.peer.instanceName) == ["odd", "self"])
        #expect(t.services.map(\.isSelf) == [false, true])
        #expect(t.on(.removed(instanceName: "self")) == [])
        #expect(t.on(.removed(instanceName: "odd")) == [])
    }

    @Test func anIdUnderTwoNamesIsLostWithTheLastName() {
        var t = DiscoveryTracker(local: me)
        // Lowercase ids in TXT (no EIP-55 checksum) are accepted.
        let lower = DiscoveredPeer(instanceName: "pb", peerID: b.lowercaseHex, host: "127.0.0.1", port: 7001, txt: [:])
        #expect(t.on(.found(lower)) == [.found(b, PeerEndpoint(host: "127.0.0.1", port: 7001))])
        #expect(t.on(.found(peer("pb #2", b, port: 7002))) == [.found(b, PeerEndpoint(host: "127.0.0.1", port: 7002))])
        #expect(t.on(.removed(instanceName: "pb #2")) == [.found(b, PeerEndpoint(host: "127.0.0.1", port: 7001))])
        #expect(t.on(.removed(instanceName: "pb")) == [.lost(b)])
    }

    @Test func losingTheDaemonLosesEveryPeerAndSaysWhyOnce() {
        var t = DiscoveryTracker(local: me)
        _ = t.on(.daemonAvailable)
        _ = t.on(.found(peer("pa", a)))
        _ = t.on(.found(peer("pb", b)))
        let actions = t.on(.daemonUnavailable(reason: "avahi-daemon is not running"))
        #expect(actions == [.lost(a), .lost(b),
                            .status(.off("avahi-daemon is not running" + DiscoveryTracker.unavailableSuffix))])
        #expect(t.daemon == .unavailable(reason: "avahi-daemon is not running"))
        #expect(t.on(.daemonUnavailable(reason: "avahi-daemon is not running")) == [])
        #expect(t.publishedName == nil && t.services.isEmpty)
        #expect(t.on(.daemonAvailable) == [.status(DiscoveryStatus(active: true, reason: nil))])
    }

    @Test func retainDropsWhatIsNoLongerVisible() {
        var t = DiscoveryTracker(local: me)
        _ = t.on(.found(peer("pa", a)))
        _ = t.on(.found(peer("pb", b)))
        _ = t.on(.found(peer("self", me)))
        #expect(t.retain(instanceNames: ["pa", "pb", "self"]) == [])
        #expect(t.retain(instanceNames: ["pa"]) == [.lost(b)])
        #expect(t.services.map(\.peer.instanceName) == ["pa"])
    }

    /// `--discover-allow`: a peer outside the list is shown and counted, never dialled; its
    /// removal and the daemon going away report nothing for it.
    @Test func anAllowlistDialsOnlyItsIdsAndCountsTheOthersAsSkipped() {
        var t = DiscoveryTracker(local: me, allow: [a])
        #expect(t.on(.found(peer("pa", a, port: 9001))) == [.found(a, PeerEndpoint(host: "127.0.0.1", port: 9001))])
        #expect(t.on(.found(peer("pb", b, port: 9002))) == [.skipped(b, PeerEndpoint(host: "127.0.0.1", port: 9002))])
        #expect(t.on(.found(peer("pb", b, port: 9002))) == [], "a repeated report changes nothing and is not counted")
        #expect(t.on(.found(peer("pb", b, port: 9003))) == [.skipped(b, PeerEndpoint(host: "127.0.0.1", port: 9003))])
        #expect(t.on(.found(peer("self", me))) == [], "our own id is never dialled nor counted as skipped")
        #expect(t.skipped == 2)
        #expect(t.services.map(\.notAllowed) == [false, true, false])
        #expect(t.on(.removed(instanceName: "pb")) == [])
        _ = t.on(.found(peer("pb", b)))
        #expect(t.skipped == 3)
        #expect(t.on(.daemonUnavailable(reason: "gone")) == [.lost(a), .status(.off("gone" + DiscoveryTracker.unavailableSuffix))])
        // An empty allowlist allows none; no allowlist allows every peer.
        var none = DiscoveryTracker(local: me, allow: [])
        #expect(none.on(.found(peer("pa", a))) == [.skipped(a, PeerEndpoint(host: "127.0.0.1", port: 9000))])
        var any = DiscoveryTracker(local: me)
        #expect(any.on(.found(peer("pa", a))) == [.found(a, PeerEndpoint(host: "127.0.0.1", port: 9000))] && any.skipped == 0)
    }

    @Test func theInstanceNameIsPaymeshAndEightHexDigits() throws {
        let id = try #require(EthereumAddress(string: "0xabcdef0123456789abcdef0123456789abcdef01"))
        #expect(NodeDiscovery.instanceName(for: id) == "paymesh-abcdef01")
    }
}
