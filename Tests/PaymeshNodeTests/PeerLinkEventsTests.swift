import Foundation
import PaymeshCrypto
import PaymeshNode
import PaymeshTestSupport
import Testing

/// Typed internal peer events (issue 8): delivered to internal consumers without loss, bounded by
/// the number of peers (coalesced per peer), independent of the console's JSON event hub.
@Suite struct PeerLinkEventsTests {
    /// A consumer that does not read while a peer flaps and the console hub overflows (the hub keeps
    /// only the newest 1,024 events per subscriber, which used to push `peer.down` out before
    /// payments read it) still learns that the old connection went down and which one is current.
    @Test func aSlowConsumerLosesNoStateAndStaysBounded() async throws {
        try await withTimeout(90) {
            let a = try await RunningNode.start(), b = try await RunningNode.start()
            let peers = a.started.peers
            let links = peers.linkEvents()
            let hub = peers.events.subscribe()
            var hubEvents = hub.makeAsyncIterator()
            func waitHub(_ type: String) async {
                while let e = await hubEvents.next() { if e.type == type, e.data["id"]?.stringValue == b.started.id.description { return } }
            }
            let cycles = 5
            for _ in 0..<cycles {
                #expect(try await peers.connect(b.started.listen) == b.started.id)
                await waitHub("peer.up")
                try await peers.disconnect(b.started.id)
                await waitHub("peer.down")
                #expect(links.pendingCount <= PeerLinkEvents.maxPendingPerPeer)
            }
            #expect(try await peers.connect(b.started.listen) == b.started.id)
            await waitHub("peer.up")
            // Flood the console hub far past its per-subscriber buffer.
            for i in 0..<(3 * EventHub.bufferPerSubscriber) { peers.events.publish(NodeEvent("test.flood", ["i": JSONValue(i)])) }

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
