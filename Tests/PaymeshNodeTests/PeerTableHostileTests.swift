import PaymeshCrypto
import PaymeshNode
import Testing

/// Issue 7 items 7 and 8 at the peer-table level, with a manual clock.
@Suite struct PeerTableHostileTests {
    func id(_ n: Int) -> EthereumAddress {
        var bytes = [UInt8](repeating: 0, count: 20)
        bytes[0] = 0xee
        bytes[16] = UInt8(truncatingIfNeeded: n >> 24)
        bytes[17] = UInt8(truncatingIfNeeded: n >> 16)
        bytes[18] = UInt8(truncatingIfNeeded: n >> 8)
        bytes[19] = UInt8(truncatingIfNeeded: n)
        return try! EthereumAddress(rawRepresentation: bytes)
    }

    /// 23,000 throwaway identities each break the protocol and get banned: the table keeps at
    /// most `maxBans` of them, a legitimate peer is served throughout, and bans expire from the
    /// queue without scanning.
    @Test func aBanFloodIsBoundedAndALegitimatePeerIsServed() {
        var t = Table(local: address(0x0a), configuration: .init(banDuration: .seconds(600), maxBans: 1000))
        var random = FixedRandom()
        var connection: UInt64 = 1
        for n in 0..<23_000 {
            let now = at(Double(n) / 1000)
            let c = ConnectionID(connection)
            connection += 1
            _ = t.onInboundConnection(c, peer: id(n), remote: "127.0.0.9:1", now: now)
            _ = t.onConnectionClosed(c, violation: "mux protocol error", now: now, random: &random)
            if n % 1000 == 0 { _ = t.onTick(now: now) }
        }
        #expect(t.bannedCount == 1000)
        #expect(t.peers.count <= 1000, "\(t.peers.count) records kept")
        #expect(t.banQueueLength <= 2000)
        #expect(t.metrics.bansIssued == 23_000 && t.metrics.bansEvicted == 22_000)
        // The most recent violator is still refused; a legitimate peer is accepted.
        #expect(t.onInboundConnection(ConnectionID(connection), peer: id(22_999), remote: nil, now: at(23)) == [.disconnect(ConnectionID(connection), .banned)])
        _ = t.onConnectionClosed(ConnectionID(connection), now: at(23), random: &random)
        let legit = address(0x42)
        #expect(t.onInboundConnection(ConnectionID(connection + 1), peer: legit, remote: nil, now: at(23))
            == [.emit(.peerUp(legit, direction: .inbound, remote: nil))])
        // After the ban duration every ban has expired and the records are gone.
        _ = t.onTick(now: at(23 + 600))
        #expect(t.bannedCount == 0)
        #expect(t.peers.count == 1 && t.peers[legit]?.state == .connected)
        #expect(t.banQueueLength == 0)
    }

    /// Issue 8: `maxPeers` full of throwaway identities; a peer with a channel (protected) gets in
    /// at once and the newest newcomer is evicted.
    @Test func aProtectedPeerEvictsTheNewestNewcomerFromAFullTable() {
        var t = Table(local: address(0x0a), configuration: .init(maxPeers: 64))
        let payer = address(0x77)
        t.protect(payer)
        #expect(t.configuration.reservedSlots == 8)
        var accepted = 0
        for n in 0..<64 {
            let actions = t.onInboundConnection(ConnectionID(UInt64(n + 1)), peer: id(n), remote: nil, now: at(Double(n)))
            if actions == [.emit(.peerUp(id(n), direction: .inbound, remote: nil))] { accepted += 1 }
        }
        // Newcomers stop at maxPeers minus the reserved slots.
        #expect(accepted == 56 && t.metrics.rejectedTooManyPeers == 8)
        // Fill the reserved slots with protected peers (static/channel peers).
        for n in 0..<8 {
            t.protect(address(UInt8(0x80 + n)))
            #expect(t.onInboundConnection(ConnectionID(UInt64(100 + n)), peer: address(UInt8(0x80 + n)), remote: nil, now: at(70))
                == [.emit(.peerUp(address(UInt8(0x80 + n)), direction: .inbound, remote: nil))])
        }
        #expect(t.connectedCount == 64)
        // The payer restarts and reconnects: admitted, and the newest unprotected peer (id 55,
        // connected at 55 s) is closed to make room.
        #expect(t.onInboundConnection(ConnectionID(200), peer: payer, remote: nil, now: at(100))
            == [.emit(.peerUp(payer, direction: .inbound, remote: nil)), .disconnect(ConnectionID(56), .tooManyPeers)])
        #expect(t.metrics.evictedForProtected == 1)
        // A second protected arrival picks another victim, not the one already closing.
        let other = address(0x78)
        t.protect(other)
        #expect(t.onInboundConnection(ConnectionID(201), peer: other, remote: nil, now: at(101))
            == [.emit(.peerUp(other, direction: .inbound, remote: nil)), .disconnect(ConnectionID(55), .tooManyPeers)])
        // A newcomer is still refused.
        #expect(t.onInboundConnection(ConnectionID(202), peer: id(9999), remote: nil, now: at(102)) == [.disconnect(ConnectionID(202), .tooManyPeers)])
    }

    /// Issue 8: a static peer is protected without being marked, and is dialled with a full table.
    @Test func aStaticPeerIsProtected() {
        var t = Table(local: address(0x0a), configuration: .init(maxPeers: 8))
        for n in 0..<7 { _ = t.onInboundConnection(ConnectionID(UInt64(n + 1)), peer: id(n), remote: nil, now: at(Double(n))) }
        #expect(t.connectedCount == 7) // 8 minus 1 reserved
        let ep = PeerEndpoint(host: "127.0.0.2", port: 9000)
        #expect(t.addStaticPeer(ep, now: at(10)) == [.dial(Dial(endpoint: ep, expected: nil))])
        let b = address(0x0b)
        #expect(t.onDialSucceeded(Dial(endpoint: ep, expected: nil), connection: ConnectionID(50), peer: b, remote: nil, now: at(11))
            == [.emit(.peerUp(b, direction: .outbound, remote: nil))])
        #expect(t.isProtected(b))
    }
}
