import NIOConcurrencyHelpers

/// A "something changed" signal for watchers that re-read a service's state (the gossip service
/// re-reading the payments layer's channels; tests waiting for the gossip mesh to settle): each
/// watcher holds the newest signal only (bounded, never lossy in effect: a pending signal means
/// "look again"). Unlike the `NodeEventHub`, watching costs the publisher nothing per event.
public final class ChangeSignal: Sendable {
    public static let maxWatchers = 64
    private let state = NIOLockedValueBox<(next: Int, watchers: [Int: AsyncStream<Void>.Continuation], finished: Bool)>((0, [:], false))

    /// A stream that yields after each change (coalesced); finished when the service stops. Nil
    /// when `maxWatchers` already watch.
    public func watch() -> AsyncStream<Void>? {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id: Int? = state.withLockedValue { s in
            guard !s.finished, s.watchers.count < Self.maxWatchers else { return nil }
            s.next += 1
            s.watchers[s.next] = continuation
            return s.next
        }
        guard let id else { return nil }
        continuation.onTermination = { [weak self] _ in self?.state.withLockedValue { _ = $0.watchers.removeValue(forKey: id) } }
        return stream
    }

    func signal() {
        let watchers = state.withLockedValue { Array($0.watchers.values) }
        for w in watchers { w.yield() }
    }

    func finish() {
        let watchers = state.withLockedValue { s in
            s.finished = true
            defer { s.watchers = [:] }
            return Array(s.watchers.values)
        }
        for w in watchers { w.finish() }
    }
}
