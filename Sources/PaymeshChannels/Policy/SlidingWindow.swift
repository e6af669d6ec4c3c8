/// Timestamps of the events of the last `span` ms, at most `capacity` of them, in a ring buffer
/// that never grows after construction.
struct SlidingWindow: Sendable, Hashable {
    static let minute: UInt64 = 60_000

    let capacity: Int
    let span: UInt64
    private var times: [UInt64]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int, span: UInt64 = minute) {
        precondition(capacity >= 0)
        self.capacity = capacity
        self.span = span
        times = [UInt64](repeating: 0, count: capacity)
    }

    /// True when one more event at `now` stays within `capacity` events per `span`.
    mutating func hasRoom(now: UInt64) -> Bool {
        evict(now: now)
        return count < capacity
    }

    /// Records an event at `now`; call only after `hasRoom(now:)` returned true.
    mutating func record(now: UInt64) {
        evict(now: now)
        precondition(count < capacity, "record without room")
        times[(head + count) % capacity] = now
        count += 1
    }

    /// Drops events older than `span` (an event at t leaves the window at t + span).
    private mutating func evict(now: UInt64) {
        while count > 0 {
            let t = times[head]
            // A clock that went backwards keeps events in the window rather than freeing room.
            guard now >= t, now - t >= span else { return }
            head = (head + 1) % capacity
            count -= 1
        }
    }
}
