import Synchronization

/// Holds the `PeerSet` and the subscribers' continuations behind one lock, so that every event
/// is computed and delivered atomically and a new subscriber's snapshot never interleaves with
/// a live event. Continuations are finished outside the lock (finishing runs `onTermination`).
final class EventHub: Sendable {
    private typealias Continuation = AsyncStream<DiscoveryEvent>.Continuation

    private struct State {
        var peers: PeerSet
        var subscribers: [UInt64: Continuation] = [:]
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    init(ownPeerID: String) {
        state = Mutex(State(peers: PeerSet(ownPeerID: ownPeerID)))
    }

    /// A new stream that first replays the current state, then receives every later event.
    func subscribe() -> AsyncStream<DiscoveryEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: DiscoveryEvent.self, bufferingPolicy: .unbounded)
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            continuation.onTermination = { [weak self] _ in self?.unsubscribe(id) }
            for event in state.peers.snapshot() { continuation.yield(event) }
            state.subscribers[id] = continuation
        }
        return stream
    }

    private func unsubscribe(_ id: UInt64) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
    }

    /// Applies one report to the peer set and delivers the resulting events to every subscriber.
    func apply(_ body: (inout PeerSet) -> [DiscoveryEvent]) {
        state.withLock { state in
            let events = body(&state.peers)
            for event in events {
                for continuation in state.subscribers.values { continuation.yield(event) }
            }
        }
    }

    func read<T: Sendable>(_ body: (PeerSet) -> T) -> T {
        state.withLock { body($0.peers) }
    }

    /// Forgets every peer and ends every stream (after `stop()`).
    func finishAll() {
        let continuations = state.withLock { state in
            let all = Array(state.subscribers.values)
            state.subscribers.removeAll()
            state.peers = PeerSet(ownPeerID: state.peers.ownPeerID)
            return all
        }
        for continuation in continuations { continuation.finish() }
    }
}
