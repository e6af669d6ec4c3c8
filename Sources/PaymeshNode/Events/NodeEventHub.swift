import NIOConcurrencyHelpers

/// Fans typed `NodeEvent`s out to any number of subscribers without ever slowing the publisher.
///
/// Each subscription is a bounded queue (`limit` events). When a subscriber falls behind, its
/// oldest undelivered events are dropped — never silently: the subscription counts them and hands
/// its consumer a `.dropped(count)` before the next event, and the hub keeps the total
/// (`droppedTotal`). Consumers that must not lose anything use a lossless typed feed instead
/// (peer links: `PeerManager.linkEvents()`, coalesced per peer).
public final class NodeEventHub: Sendable {
    /// Undelivered events one subscriber may hold (the `subscribe` bound of Specs/console.md §6).
    public static let bufferPerSubscriber = 1024

    private struct Subscriber {
        weak var subscription: NodeEventSubscription?
    }

    private struct State {
        /// Held weakly: a subscription nobody iterates any more ends by itself.
        var subscribers: [UInt64: Subscriber] = [:]
        var nextID: UInt64 = 0
        /// Dropped by subscriptions that have ended (live ones count their own).
        var droppedByEnded: UInt64 = 0
        var finished = false
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Every event published from now on, at most `limit` undelivered at a time. Ends when the
    /// hub finishes or the consumer's task is cancelled.
    public func subscribe(limit: Int = bufferPerSubscriber) -> NodeEventSubscription {
        precondition(limit > 0, "a subscription holds at least one event")
        return state.withLockedValue { s in
            defer { s.nextID += 1 }
            let subscription = NodeEventSubscription(id: s.nextID, limit: limit) { [weak self] id, dropped in
                self?.remove(id, dropped: dropped)
            }
            if s.finished {
                subscription.finish()
            } else {
                s.subscribers[s.nextID] = Subscriber(subscription: subscription)
            }
            return subscription
        }
    }

    /// True while anyone listens: publishers check it before building costly events.
    public var hasSubscribers: Bool { state.withLockedValue { !$0.subscribers.isEmpty } }

    public var subscriberCount: Int { state.withLockedValue { $0.subscribers.count } }

    /// Events dropped by slow subscribers since the hub started.
    public var droppedTotal: UInt64 {
        let (ended, live) = state.withLockedValue { s in (s.droppedByEnded, s.subscribers.values.compactMap(\.subscription)) }
        return live.reduce(ended) { $0 + $1.dropped }
    }

    public func publish(_ event: NodeEvent) {
        for subscription in state.withLockedValue({ $0.subscribers.values.compactMap(\.subscription) }) { subscription.push(event) }
    }

    /// Ends every subscription (node shutdown); their consumers still get what is queued.
    public func finish() {
        let all = state.withLockedValue { s in
            s.finished = true
            defer { s.subscribers.removeAll() }
            return s.subscribers.values.compactMap(\.subscription)
        }
        for subscription in all { subscription.finish() }
    }

    private func remove(_ id: UInt64, dropped: UInt64) {
        state.withLockedValue { s in
            if s.subscribers.removeValue(forKey: id) != nil { s.droppedByEnded += dropped }
        }
    }
}

/// One subscriber's bounded queue of `NodeEvent`s (see `NodeEventHub`). One consumer; the
/// subscription ends when it is cancelled, its consumer's task is cancelled, or it is released.
public final class NodeEventSubscription: AsyncSequence, Sendable {
    /// What the consumer receives: an event, or how many events were dropped just before it.
    public enum Delivery: Hashable, Sendable {
        case event(NodeEvent)
        case dropped(UInt64)
    }

    public typealias Element = Delivery

    private struct State {
        /// Undelivered events, oldest first from `head`.
        var queue: [NodeEvent] = []
        var head = 0
        /// Dropped since the consumer last heard of it.
        var unreported: UInt64 = 0
        var dropped: UInt64 = 0
        var waiter: CheckedContinuation<Delivery?, Never>?
        var finished = false
        var reportedEnd = false

        var count: Int { queue.count - head }

        mutating func popFirst() -> NodeEvent {
            let event = queue[head]
            head += 1
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 64, head * 2 >= queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return event
        }
    }

    public let limit: Int
    private let id: UInt64
    private let state = NIOLockedValueBox(State())
    private let onEnd: @Sendable (_ id: UInt64, _ dropped: UInt64) -> Void

    init(id: UInt64, limit: Int, onEnd: @escaping @Sendable (_ id: UInt64, _ dropped: UInt64) -> Void) {
        self.id = id
        self.limit = limit
        self.onEnd = onEnd
    }

    deinit { reportEnd() }

    /// Stops receiving: the hub forgets this subscription; a waiting consumer gets nil.
    public func cancel() {
        finish()
        reportEnd()
    }

    private func reportEnd() {
        let dropped: UInt64? = state.withLockedValue { s in
            guard !s.reportedEnd else { return nil }
            s.reportedEnd = true
            return s.dropped
        }
        if let dropped { onEnd(id, dropped) }
    }

    /// Events this subscription dropped because its consumer fell behind.
    public var dropped: UInt64 { state.withLockedValue { $0.dropped } }

    /// Undelivered events (at most `limit`).
    public var pendingCount: Int { state.withLockedValue { $0.count } }

    func push(_ event: NodeEvent) {
        let waiter: CheckedContinuation<Delivery?, Never>? = state.withLockedValue { s in
            guard !s.finished else { return nil }
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            if s.count == limit {
                _ = s.popFirst()
                s.dropped += 1
                s.unreported += 1
            }
            s.queue.append(event)
            return nil
        }
        waiter?.resume(returning: .event(event))
    }

    func finish() {
        let waiter: CheckedContinuation<Delivery?, Never>? = state.withLockedValue { s in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next delivery; nil once finished (after the queued ones) or cancelled.
    func next() async -> Delivery? {
        let delivery = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Delivery?, Never>) in
                let ready: Delivery?? = state.withLockedValue { s in
                    if s.unreported > 0 {
                        defer { s.unreported = 0 }
                        return .some(.dropped(s.unreported))
                    }
                    if s.count > 0 { return .some(.event(s.popFirst())) }
                    if s.finished || Task.isCancelled { return .some(nil) }
                    precondition(s.waiter == nil, "one consumer per subscription")
                    s.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Delivery?, Never>? = state.withLockedValue { s in
                s.finished = true
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: nil)
        }
        if delivery == nil { reportEnd() }
        return delivery
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let subscription: NodeEventSubscription
        public mutating func next() async -> Delivery? { await subscription.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(subscription: self) }
}
