import Foundation
import PaymeshCrypto
import PaymeshNode
import PaymeshTestSupport
import Testing

/// Typed internal peer events (issue 8): delivered to internal consumers without loss, bounded by
/// the number of peers (coalesced per peer), independent of the node's event hub (whose slow
/// subscribers drop, counted).
@Suite struct PeerLinkEventsTests {
    /// A consumer that does not read while a peer flaps and a hub subscriber overflows (it keeps
    /// only the newest 1,024 events, which used to push `peer.down` out before payments read it)
    /// still learns that the old connection went down and which one is current.
    @Test func aSlowConsumerLosesNoStateAndStaysBounded() async throws {
        try await withTimeout(90) {
            let a = try await RunningNode.start(), b = try await RunningNode.start()
            let peers = a.started.peers
            let links = peers.linkEvents()
            let hub = peers.events.subscribe()
            var hubEvents = hub.makeAsyncIterator()
            func waitHub(up: Bool) async {
                while let d = await hubEvents.next() {
                    switch d {
                    case .event(.peer(.peerUp(b.started.id, _, _))) where up: return
                    case .event(.peer(.peerDown(b.started.id, _))) where !up: return
                    default: continue
                    }
                }
            }
            let cycles = 5
            for _ in 0..<cycles {
                #expect(try await peers.connect(b.started.listen) == b.started.id)
                await waitHub(up: true)
                try await peers.disconnect(b.started.id)
                await waitHub(up: false)
                #expect(links.pendingCount <= PeerLinkEvents.maxPendingPerPeer)
            }
            #expect(try await peers.connect(b.started.listen) == b.started.id)
            await waitHub(up: true)
            // Flood the hub far past its per-subscriber buffer: the subscriber that does not read drops, counted.
            let flood = 3 * NodeEventHub.bufferPerSubscriber
            for i in 0..<flood { peers.events.publish(.discoveryStatus(.off("flood \(i)"))) }
            #expect(hub.dropped >= UInt64(flood - NodeEventHub.bufferPerSubscriber))
            #expect(peers.events.droppedTotal >= hub.dropped)
            #expect(await hubEvents.next() == .dropped(hub.dropped), "the subscriber hears how many it lost")

            #expect(links.pendingCount == 2)
            var got: [PeerLinkEvent] = []
            var iterator = links.makeAsyncIterator()
            while links.pendingCount > 0, let e = await iterator.next() { got.append(e) }
            #expect(got.count == 2)
            #expect(got.first.map { !$0.isUp && $0.peer == b.started.id } == true, "first: the old connection is down")
            #expect(got.last.map { $0.isUp && $0.peer == b.started.id } == true, "last: the current connection is up")
            if case .up(_, let connection)? = got.last { #expect(await peers.connection(to: b.started.id) === connection) }
            let counters = links.counters
            #expect(counters.delivered == 2)
            #expect(counters.coalesced == UInt64(2 * cycles + 1 - 2), "every other event was merged, none lost")
            await a.stop()
            await b.stop()
        }
    }
}
