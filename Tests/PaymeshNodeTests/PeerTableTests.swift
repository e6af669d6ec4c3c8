import PaymeshCrypto
import PaymeshNode
import PaymeshTestSupport
import Testing

/// The peer table without sockets: dialing, backoff, bans, limits, discovery, pings.
@Suite struct PeerTableTests {
    let a = address(0x0a), b = address(0x0b), c = address(0x0c)
    let epB = PeerEndpoint(host: "127.0.0.2", port: 9000)
    let epC = PeerEndpoint(host: "127.0.0.3", port: 9000)
    /// No jitter (factor 1): delays equal the backoff ceiling 0.5 s, 1 s, 2 s, …
    var noJitter = FixedRandom(value: 0)

    func table(_ configure: (inout Table.Configuration) -> Void = { _ in }) -> Table {
        var config = Table.Configuration(backoff: BackoffPolicy(initial: .milliseconds(500), maximum: .seconds(8)),
                                         banDuration: .seconds(60), pingInterval: .seconds(10), stableAfter: .seconds(30))
        configure(&config)
        return Table(local: a, configuration: config)
    }

    /// `t` with B connected through static endpoint `epB` on connection 1 at time `now`.
    mutating func connectedToB(_ t: inout Table, now: TestInstant = at(0)) {
        #expect(t.addStaticPeer(epB, now: now) == [.dial(Dial(endpoint: epB, expected: nil))])
        #expect(t.onDialSucceeded(Dial(endpoint: epB, expected: nil), connection: ConnectionID(1), peer: b, remote: "127.0.0.2:9000", now: now)
            == [.emit(.peerUp(b, direction: .outbound, remote: "127.0.0.2:9000"))])
    }

    @Test mutating func staticPeerIsDialledAndItsIdentityLearned() {
        var t = table()
        connectedToB(&t)
        #expect(t.peers[b]?.state == .connected)
        #expect(t.peers[b]?.addresses == [epB: .static])
        #expect(t.endpoints.isEmpty)
        #expect(t.connection(to: b) == ConnectionID(1))
        #expect(t.connectedPeers == [b])
    }

    @Test mutating func unreachableStaticEndpointIsRetriedWithGrowingBackoff() {
        var t = table()
        let dial = Dial(endpoint: epB, expected: nil)
        #expect(t.addStaticPeer(epB, now: at(0)) == [.dial(dial)])
        #expect(t.onDialFailed(dial, .unreachable("refused"), now: at(0), random: &noJitter) == [.scheduleRetry(dial, at: at(0.5))])
        #expect(t.onTick(now: at(0.4)) == [])
        #expect(t.onTick(now: at(0.5)) == [.dial(dial)])
        #expect(t.onDialFailed(dial, .unreachable("refused"), now: at(0.5), random: &noJitter) == [.scheduleRetry(dial, at: at(1.5))])
        #expect(t.onTick(now: at(1.5)) == [.dial(dial)])
        #expect(t.onDialFailed(dial, .unreachable("refused"), now: at(1.5), random: &noJitter) == [.scheduleRetry(dial, at: at(3.5))])
        #expect(t.endpoints[epB]?.lastError == "refused")
        #expect(t.metrics.dialsFailed == 3)
    }

    @Test func backoffIsExponentialCappedAndJittered() {
        let policy = BackoffPolicy(initial: .milliseconds(500), maximum: .seconds(8), multiplier: 2, jitter: 0.5)
        #expect((0...7).map { policy.ceiling(attempt: $0) } == [0.5, 1, 2, 4, 8, 8, 8, 8].map { Duration.seconds($0) })
        #expect(policy.ceiling(attempt: 10_000) == .seconds(8))
        var random = SplitMix64(seed: 42)
        var seen = Set<Duration>()
        for attempt in 0..<40 {
            let d = policy.delay(attempt: attempt, using: &random)
            let ceiling = policy.ceiling(attempt: attempt)
            #expect(d <= ceiling && d >= ceiling / 2, "attempt \(attempt): \(d)")
            seen.insert(d)
        }
        #expect(seen.count > 30, "jitter spreads delays")
        var top = FixedRandom(value: .max)
        #expect(policy.delay(attempt: 0, using: &top) < .milliseconds(251))
    }

    @Test mutating func connectedPeerIsRedialledWithBackoffAfterItDrops() {
        var t = table()
        connectedToB(&t)
        let redial = Dial(endpoint: epB, expected: b)
        #expect(t.onConnectionClosed(ConnectionID(1), error: "reset", now: at(1), random: &noJitter)
            == [.emit(.peerDown(b, reason: "reset")), .scheduleRetry(redial, at: at(1.5))])
        #expect(t.peers[b]?.state == .backingOff(until: at(1.5)))
        #expect(t.onTick(now: at(1.5)) == [.dial(redial)])
        #expect(t.peers[b]?.state == .connecting)
        #expect(t.onDialFailed(redial, .unreachable("refused"), now: at(1.5), random: &noJitter) == [.scheduleRetry(redial, at: at(2.5))])
        #expect(t.onTick(now: at(2.4)) == [])
        #expect(t.onTick(now: at(2.5)) == [.dial(redial)])
        #expect(t.onDialSucceeded(redial, connection: ConnectionID(2), peer: b, remote: nil, now: at(2.5))
            == [.emit(.peerUp(b, direction: .outbound, remote: nil))])
        // Flapping (dropped after 1 s, not stable): the backoff keeps growing (third step: 2 s).
        #expect(t.onConnectionClosed(ConnectionID(2), now: at(3.5), random: &noJitter)
            == [.emit(.peerDown(b, reason: "closed by peer")), .scheduleRetry(redial, at: at(5.5))])
    }

    @Test mutating func aStableConnectionResetsTheBackoff() {
        var t = table()
        connectedToB(&t)
        let redial = Dial(endpoint: epB, expected: b)
        _ = t.onConnectionClosed(ConnectionID(1), now: at(1), random: &noJitter)
        _ = t.onTick(now: at(1.5))
        _ = t.onDialFailed(redial, .unreachable("x"), now: at(1.5), random: &noJitter) // attempt 2
        _ = t.onTick(now: at(3.5))
        _ = t.onDialSucceeded(redial, connection: ConnectionID(2), peer: b, remote: nil, now: at(3.5))
        #expect(t.peers[b]?.attempt == 2)
        // Up for 60 s ≥ stableAfter (30 s): the next redial waits the first step again.
        #expect(t.onConnectionClosed(ConnectionID(2), now: at(63.5), random: &noJitter).last == .scheduleRetry(redial, at: at(64)))
    }

    @Test mutating func anInboundOnlyPeerIsNotRedialledAndIsForgotten() {
        var t = table()
        #expect(t.onInboundConnection(ConnectionID(5), peer: c, remote: "127.0.0.3:50000", now: at(0))
            == [.emit(.peerUp(c, direction: .inbound, remote: "127.0.0.3:50000"))])
        #expect(t.onConnectionClosed(ConnectionID(5), now: at(1), random: &noJitter) == [.emit(.peerDown(c, reason: "closed by peer"))])
        #expect(t.peers[c] == nil)
        #expect(t.onTick(now: at(100)) == [])
    }

    // MARK: Dial deduplication

    @Test func preferredDirectionIsTheLowerAddressDial() {
        #expect(Table.preferredDirection(local: a, remote: b) == .outbound)
        #expect(Table.preferredDirection(local: b, remote: a) == .inbound)
        #expect(Table.keepsNewConnection(local: a, remote: b, existing: .inbound, new: .outbound))
        #expect(!Table.keepsNewConnection(local: a, remote: b, existing: .outbound, new: .inbound))
        #expect(Table.keepsNewConnection(local: b, remote: a, existing: .outbound, new: .inbound))
        #expect(!Table.keepsNewConnection(local: b, remote: a, existing: .inbound, new: .outbound))
        #expect(!Table.keepsNewConnection(local: a, remote: b, existing: .outbound, new: .outbound))
    }

    /// Simultaneous dials: A dials B (connection "ab") while B dials A ("ba"). Whatever order
    /// each side sees them complete in, both keep "ab" (dialled by the lower address, A) and
    /// close "ba", and neither reports the peer down.
    @Test(arguments: [(true, true), (true, false), (false, true), (false, false)])
    func simultaneousDialsKeepTheSameConnectionOnBothSides(aSeesOwnDialFirst: Bool, bSeesOwnDialFirst: Bool) {
        var random = FixedRandom()
        var sideA = Table(local: a), sideB = Table(local: b)
        let ab = (atA: ConnectionID(1), atB: ConnectionID(11)), ba = (atA: ConnectionID(2), atB: ConnectionID(12))
        let dialB = Dial(endpoint: epB, expected: b), dialA = Dial(endpoint: PeerEndpoint(host: "127.0.0.4", port: 9000), expected: a)

        var closedAtA: [ConnectionID] = [], closedAtB: [ConnectionID] = []
        func closes(_ actions: [Action]) -> [ConnectionID] {
            actions.compactMap { if case .disconnect(let id, .duplicate) = $0 { id } else { nil } }
        }
        if aSeesOwnDialFirst {
            closedAtA += closes(sideA.onDialSucceeded(dialB, connection: ab.atA, peer: b, remote: nil, now: at(0)))
            closedAtA += closes(sideA.onInboundConnection(ba.atA, peer: b, remote: nil, now: at(0)))
        } else {
            closedAtA += closes(sideA.onInboundConnection(ba.atA, peer: b, remote: nil, now: at(0)))
            closedAtA += closes(sideA.onDialSucceeded(dialB, connection: ab.atA, peer: b, remote: nil, now: at(0)))
        }
        if bSeesOwnDialFirst {
            closedAtB += closes(sideB.onDialSucceeded(dialA, connection: ba.atB, peer: a, remote: nil, now: at(0)))
            closedAtB += closes(sideB.onInboundConnection(ab.atB, peer: a, remote: nil, now: at(0)))
        } else {
            closedAtB += closes(sideB.onInboundConnection(ab.atB, peer: a, remote: nil, now: at(0)))
            closedAtB += closes(sideB.onDialSucceeded(dialA, connection: ba.atB, peer: a, remote: nil, now: at(0)))
        }
        #expect(closedAtA == [ba.atA])
        #expect(closedAtB == [ba.atB])
        #expect(sideA.connection(to: b) == ab.atA)
        #expect(sideB.connection(to: a) == ab.atB)
        // The duplicate's close is not a peer-down on either side.
        #expect(sideA.onConnectionClosed(ba.atA, now: at(1), random: &random) == [])
        #expect(sideB.onConnectionClosed(ba.atB, now: at(1), random: &random) == [])
        #expect(sideA.peers[b]?.state == .connected && sideB.peers[a]?.state == .connected)
        #expect(sideA.metrics.duplicatesClosed == 1 && sideB.metrics.duplicatesClosed == 1)
    }

    @Test mutating func aSecondOwnDialToTheSamePeerIsClosed() {
        var t = table()
        connectedToB(&t)
        let other = PeerEndpoint(host: "127.0.9.9", port: 9000)
        let (_, actions) = try! t.onConnectRequested(other, now: at(1))
        #expect(actions == [.dial(Dial(endpoint: other, expected: nil))])
        #expect(t.onDialSucceeded(Dial(endpoint: other, expected: nil), connection: ConnectionID(2), peer: b, remote: nil, now: at(1))
            == [.disconnect(ConnectionID(2), .duplicate)])
        #expect(t.connection(to: b) == ConnectionID(1))
        #expect(t.peers[b]?.addresses == [epB: .static, other: .manual])
    }

    /// The peer dialled us twice: we keep both until it closes one (its side of the rule);
    /// if it closes the one we use, the other takes over without a peer-down.
    @Test func twoInboundConnectionsFromOnePeerFailOverWithoutPeerDown() {
        var t = table()
        var random = FixedRandom()
        _ = t.onInboundConnection(ConnectionID(1), peer: c, remote: nil, now: at(0))
        #expect(t.onInboundConnection(ConnectionID(2), peer: c, remote: nil, now: at(0)) == [])
        #expect(t.onConnectionClosed(ConnectionID(1), now: at(1), random: &random) == [])
        #expect(t.connection(to: c) == ConnectionID(2))
        #expect(t.onConnectionClosed(ConnectionID(2), now: at(2), random: &random) == [.emit(.peerDown(c, reason: "closed by peer"))])
    }

    @Test func connectionsPerPeerAreCapped() {
        var t = table { $0.maxConnectionsPerPeer = 2 }
        _ = t.onInboundConnection(ConnectionID(1), peer: c, remote: nil, now: at(0))
        #expect(t.onInboundConnection(ConnectionID(2), peer: c, remote: nil, now: at(0)) == [])
        #expect(t.onInboundConnection(ConnectionID(3), peer: c, remote: nil, now: at(0)) == [.disconnect(ConnectionID(3), .duplicate)])
    }

    // MARK: Never ourselves

    @Test func discoveryOfOurselvesIsIgnored() {
        var t = table()
        #expect(t.onPeerDiscovered(a, at: epB, now: at(0)) == [])
        #expect(t.discovered.isEmpty && t.peers.isEmpty)
    }

    @Test mutating func anEndpointThatTurnsOutToBeUsIsNeverDialledAgain() throws {
        var t = table()
        let dial = Dial(endpoint: epB, expected: nil)
        _ = t.addStaticPeer(epB, now: at(0))
        #expect(t.onDialFailed(dial, .selfConnection, now: at(0), random: &noJitter) == [])
        #expect(t.selfEndpoints == [epB])
        #expect(t.onTick(now: at(100)) == [])
        #expect(t.addStaticPeer(epB, now: at(100)) == [])
        #expect(throws: NodeError.self) { try t.onConnectRequested(epB, now: at(100)) }
    }

    @Test mutating func aStaticAddressNowAnsweringWithAnotherIdentityIsRelearned() {
        var t = table()
        connectedToB(&t)
        let redial = Dial(endpoint: epB, expected: b)
        _ = t.onConnectionClosed(ConnectionID(1), now: at(1), random: &noJitter)
        _ = t.onTick(now: at(1.5))
        _ = t.onDialFailed(redial, .unexpectedPeer, now: at(1.5), random: &noJitter)
        #expect(t.peers[b] == nil, "B has no address left")
        #expect(t.onTick(now: at(1.6)) == [.dial(Dial(endpoint: epB, expected: nil))])
    }

    // MARK: Limits and bans

    @Test func inboundBeyondTheMaximumPeerCountIsRefused() {
        var t = table { $0.maxPeers = 2 }
        _ = t.onInboundConnection(ConnectionID(1), peer: b, remote: nil, now: at(0))
        _ = t.onInboundConnection(ConnectionID(2), peer: c, remote: nil, now: at(0))
        #expect(t.onInboundConnection(ConnectionID(3), peer: address(0x0d), remote: nil, now: at(0)) == [.disconnect(ConnectionID(3), .tooManyPeers)])
        #expect(t.metrics.rejectedTooManyPeers == 1)
        #expect(t.connectedCount == 2)
    }

    @Test func aDiscoveredPeerWaitsForRoomThenIsDialled() {
        var t = table { $0.maxPeers = 1 }
        var random = FixedRandom()
        _ = t.onInboundConnection(ConnectionID(1), peer: b, remote: nil, now: at(0))
        #expect(t.onPeerDiscovered(c, at: epC, now: at(0)) == [.emit(.discoveryFound(c, epC))])
        #expect(t.onTick(now: at(1)).isEmpty)
        _ = t.onConnectionClosed(ConnectionID(1), now: at(2), random: &random)
        #expect(t.onTick(now: at(2)) == [.dial(Dial(endpoint: epC, expected: c))])
    }

    @Test mutating func aProtocolViolatorIsDisconnectedBannedAndLaterRedialled() {
        var t = table()
        connectedToB(&t)
        #expect(t.onProtocolViolation(b, reason: "bad frame", now: at(1))
            == [.emit(.peerBanned(b, reason: "bad frame", duration: .seconds(60))), .disconnect(ConnectionID(1), .protocolViolation("bad frame"))])
        #expect(t.onConnectionClosed(ConnectionID(1), now: at(1), random: &noJitter)
            == [.emit(.peerDown(b, reason: "protocol violation: bad frame"))])
        #expect(t.peers[b]?.state == .banned(until: at(61)))
        #expect(t.onTick(now: at(30)) == [])
        // While banned, its connections are refused…
        #expect(t.onInboundConnection(ConnectionID(2), peer: b, remote: nil, now: at(30)) == [.disconnect(ConnectionID(2), .banned)])
        #expect { try t.onConnectRequested(epB, now: at(30)) } throws: { ($0 as? NodeError)?.name == "PEER_BLACKLISTED" }
        // …and once the ban expires the static peer is dialled again.
        #expect(t.onTick(now: at(61)) == [.dial(Dial(endpoint: epB, expected: b))])
        #expect(t.metrics.bansIssued == 1 && t.metrics.rejectedBanned == 1)
    }

    @Test func aConnectionTheTransportClosedForAViolationBansThePeer() {
        var t = table()
        var random = FixedRandom()
        _ = t.onInboundConnection(ConnectionID(1), peer: c, remote: nil, now: at(0))
        #expect(t.onConnectionClosed(ConnectionID(1), violation: "mux protocol error", now: at(1), random: &random)
            == [.emit(.peerDown(c, reason: "protocol violation: mux protocol error")),
                .emit(.peerBanned(c, reason: "mux protocol error", duration: .seconds(60)))])
        #expect(t.peers[c]?.isBanned == true)
    }

    // MARK: Operator actions, discovery, pings, shutdown

    @Test mutating func disconnectHoldsThePeerUntilConnect() throws {
        var t = table()
        connectedToB(&t)
        #expect(try t.onDisconnectRequested(b) == [.disconnect(ConnectionID(1), .requested)])
        #expect(t.onConnectionClosed(ConnectionID(1), now: at(1), random: &noJitter) == [.emit(.peerDown(b, reason: "disconnect requested"))])
        #expect(t.peers[b]?.state == .disconnected && t.peers[b]?.held == true)
        #expect(t.onTick(now: at(100)) == [])
        #expect { try t.onDisconnectRequested(b) } throws: { ($0 as? NodeError)?.name == "PEER_NOT_CONNECTED" }
        #expect { try t.onDisconnectRequested(c) } throws: { ($0 as? NodeError)?.name == "PEER_NOT_FOUND" }
        let (outcome, actions) = try t.onConnectRequested(epB, now: at(100))
        #expect(outcome == .dialing(Dial(endpoint: epB, expected: b)) && actions == [.dial(Dial(endpoint: epB, expected: b))])
    }

    @Test mutating func connectToAConnectedPeerReportsIt() throws {
        var t = table()
        connectedToB(&t)
        let (outcome, actions) = try t.onConnectRequested(epB, now: at(1))
        #expect(outcome == .alreadyConnected(b) && actions.isEmpty)
    }

    @Test func discoveredPeersAreDialledAndForgottenWhenLost() {
        var t = table()
        var random = FixedRandom()
        let dial = Dial(endpoint: epC, expected: c)
        #expect(t.onPeerDiscovered(c, at: epC, now: at(0)) == [.emit(.discoveryFound(c, epC)), .dial(dial)])
        #expect(t.onPeerDiscovered(c, at: epC, now: at(1)) == [], "re-announcement changes nothing")
        #expect(t.onDialFailed(dial, .unreachable("refused"), now: at(1), random: &random) == [.scheduleRetry(dial, at: at(1.5))])
        #expect(t.onPeerLost(c, now: at(1.2)) == [.emit(.discoveryLost(c))])
        #expect(t.discovered.isEmpty)
        #expect(t.onTick(now: at(10)) == [], "no redial of a peer that is gone")
    }

    @Test func aDiscoveredPeerAlreadyConnectedIsNotDialled() {
        var t = table()
        _ = t.onInboundConnection(ConnectionID(1), peer: c, remote: nil, now: at(0))
        #expect(t.onPeerDiscovered(c, at: epC, now: at(0)) == [.emit(.discoveryFound(c, epC))])
    }

    @Test mutating func keepalivePingsAreSentOneAtATimeAndRecordTheRTT() {
        var t = table()
        connectedToB(&t)
        #expect(t.onTick(now: at(5)) == [])
        #expect(t.onTick(now: at(10)) == [.ping(ConnectionID(1))])
        #expect(t.onTick(now: at(25)) == [], "one ping outstanding")
        t.onPingResult(b, rtt: .milliseconds(3), scheduled: true, now: at(25))
        #expect(t.peers[b]?.rtt == .milliseconds(3))
        #expect(t.peers[b]?.lastSeen == at(25))
        #expect(t.onTick(now: at(35)) == [.ping(ConnectionID(1))])
        #expect(t.peers[b]?.counters.pingsSent == 2 && t.peers[b]?.counters.pingsAnswered == 1)
        t.onTraffic(b, bytesIn: 100, bytesOut: 40, messagesIn: 2, messagesOut: 1, now: at(36))
        #expect(t.peers[b]?.counters.bytesIn == 100 && t.peers[b]?.counters.messagesOut == 1)
    }

    @Test mutating func aDialThatLosesToAnInboundConnectionIsIgnored() {
        var t = table()
        connectedToB(&t)
        let redial = Dial(endpoint: epB, expected: b)
        _ = t.onConnectionClosed(ConnectionID(1), now: at(1), random: &noJitter)
        _ = t.onTick(now: at(1.5))
        _ = t.onInboundConnection(ConnectionID(2), peer: b, remote: nil, now: at(1.6))
        #expect(t.onDialFailed(redial, .unreachable("refused"), now: at(1.7), random: &noJitter) == [])
        #expect(t.peers[b]?.state == .connected)
    }

    @Test mutating func shutdownClosesEverythingAndStopsDialling() {
        var t = table()
        connectedToB(&t)
        _ = t.onInboundConnection(ConnectionID(2), peer: c, remote: nil, now: at(0))
        #expect(t.onShutdown() == [.disconnect(ConnectionID(1), .shutdown), .disconnect(ConnectionID(2), .shutdown)])
        #expect(t.onInboundConnection(ConnectionID(3), peer: address(0x0d), remote: nil, now: at(1)) == [.disconnect(ConnectionID(3), .shutdown)])
        _ = t.onConnectionClosed(ConnectionID(1), now: at(1), random: &noJitter)
        #expect(t.peers[b]?.state == .disconnected)
        #expect(t.onTick(now: at(100)) == [])
    }
}
