import NIOConcurrencyHelpers
public import PaymeshCrypto
public import PaymeshTransport

/// A peer came up or went down: the typed event internal consumers (payments, later gossip)
/// receive from `PeerManager.linkEvents()`, without loss (the `NodeEventHub` may drop for slow subscribers).
public enum PeerLinkEvent: Sendable {
    /// `peer` is connected through `connection` (the one the peer table kept).
    case up(EthereumAddress, any PeerConnection)
    /// `peer`'s connection is gone.
    case down(EthereumAddress, reason: String)

    public var peer: EthereumAddress {
        switch self {
        case .up(let p, _), .down(let p, _): p
        }
    }

    public var isUp: Bool {
        if case .up = self { true } else { false }
    }
}

/// One internal subscriber's queue of `PeerLinkEvent`s: nothing is dropped, and it is bounded by
/// the number of peers because the undelivered events of one peer are coalesced to at most two —
/// `[down, up]` (the consumer learns that the old connection is gone and which one is current).
/// An `up` replaced by a newer `up`, or cancelled by a later `down`, is counted in `coalesced`.
public final class PeerLinkEvents: AsyncSequence, Sendable {
    public typealias Element = PeerLinkEvent

    /// At most this many undelivered events per peer (see the type's comment).
    public static let maxPendingPerPeer = 2

    private struct State {
        /// Peers with undelivered events, oldest first; each appears once.
        var order: [EthereumAddress] = []
        var pending: [EthereumAddress: [PeerLinkEvent]] = [:]
        var waiter: CheckedContinuation<PeerLinkEvent?, Never>?
        var finished = false
        var delivered: UInt64 = 0
        var coalesced: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    init() {}

    /// Events handed to the consumer, and events merged into newer ones of the same peer.
    public var counters: (delivered: UInt64, coalesced: UInt64) { state.withLockedValue { ($0.delivered, $0.coalesced) } }

    /// Undelivered events (at most `maxPendingPerPeer` per peer).
    public var pendingCount: Int { state.withLockedValue { $0.pending.values.reduce(0) { $0 + $1.count } } }

    func push(_ event: PeerLinkEvent) {
        let waiter: CheckedContinuation<PeerLinkEvent?, Never>? = state.withLockedValue { s in
            guard !s.finished else { return nil }
            if let w = s.waiter, s.order.isEmpty {
                s.waiter = nil
                s.delivered += 1
                return w
            }
            let peer = event.peer
            var list = s.pending[peer] ?? []
            if list.isEmpty { s.order.append(peer) }
            switch (event, list.last) {
            case (.up, .up?), (.down, .down?):
                list[list.count - 1] = event // the newer of the same kind replaces the older
                s.coalesced += 1
            case (.down, .up?):
                list.removeLast() // an up the consumer never saw, cancelled
                s.coalesced += 1
                if list.isEmpty { list.append(event) } else { s.coalesced += 1 } // the earlier down stands
            default:
                list.append(event)
            }
            precondition(list.count <= Self.maxPendingPerPeer)
            s.pending[peer] = list
            return nil
        }
        waiter?.resume(returning: event)
    }

    func finish() {
        let waiter: CheckedContinuation<PeerLinkEvent?, Never>? = state.withLockedValue { s in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next event; nil once finished (after the pending ones are delivered) or cancelled.
    func next() async -> PeerLinkEvent? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<PeerLinkEvent?, Never>) in
                let result: PeerLinkEvent?? = state.withLockedValue { s in
                    if let peer = s.order.first {
                        var list = s.pending[peer]!
                        let event = list.removeFirst()
                        if list.isEmpty {
                            s.pending[peer] = nil
                            s.order.removeFirst()
                        } else {
                            s.pending[peer] = list
                        }
                        s.delivered += 1
                        return .some(event)
                    }
                    if s.finished || Task.isCancelled { return .some(nil) }
                    precondition(s.waiter == nil, "one consumer per subscription")
                    s.waiter = continuation
                    return .none
                }
                if let result { continuation.resume(returning: result) }
            }
        } onCancel: {
            let waiter: CheckedContinuation<PeerLinkEvent?, Never>? = state.withLockedValue { s in
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: nil)
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let events: PeerLinkEvents
        public mutating func next() async -> PeerLinkEvent? { await events.next() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(events: self) }
}
