import NIOConcurrencyHelpers

/// Fans node events out to any number of subscribers. A subscriber that falls behind loses its
/// oldest undelivered events (each keeps at most `bufferPerSubscriber`), never slows the node.
public final class EventHub: Sendable {
    public static let bufferPerSubscriber = 1024

    private let subscribers = NIOLockedValueBox<[UInt64: AsyncStream<NodeEvent>.Continuation]>([:])
    private let nextID = NIOLockedValueBox<UInt64>(0)

    public init() {}

    /// A stream of every event published from now on; ends when the hub finishes or the
    /// consumer stops iterating (cancellation).
    public func subscribe() -> AsyncStream<NodeEvent> {
        let (stream, continuation) = AsyncStream<NodeEvent>.makeStream(bufferingPolicy: .bufferingNewest(Self.bufferPerSubscriber))
        let id = nextID.withLockedValue { n in defer { n += 1 }; return n }
        subscribers.withLockedValue { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLockedValue { $0.removeValue(forKey: id) }
        }
        return stream
    }

    public func publish(_ event: NodeEvent) {
        for c in subscribers.withLockedValue({ Array($0.values) }) { c.yield(event) }
    }

    public var subscriberCount: Int { subscribers.withLockedValue { $0.count } }

    /// Ends every subscription (node shutdown).
    public func finish() {
        for c in subscribers.withLockedValue({ s in defer { s.removeAll() }; return Array(s.values) }) { c.finish() }
    }
}
