/// Every deadline of a driver in one place: a min-heap of (deadline, key), sans-IO. The driver owns
/// one, feeds it from its injected clock and keeps a single task asleep until `earliest`; when
/// `schedule` reports a new earliest deadline the driver re-arms that task (no task per timer).
///
/// Entries are deduplicated per (key, deadline): scheduling the same key at the same instant twice
/// keeps one entry. What a key means when it fires is the driver's business (a fired key whose
/// owner has gone is ignored there), so nothing is ever cancelled here: entries leave when due.
struct DeadlineQueue<Key: Hashable & Sendable>: Sendable {
    struct Entry: Hashable, Sendable {
        let deadline: NodeInstant
        let key: Key
    }

    /// Bounded: every key a driver schedules is owned by something bounded (a channel, a waiter, a
    /// streaming session). Past this many entries something is leaking: a precondition, not a drop.
    static var maxEntries: Int { 1_000_000 }

    private var heap: [Entry] = []
    private var present: Set<Entry> = []

    var count: Int { heap.count }
    var isEmpty: Bool { heap.isEmpty }
    /// The deadline the driver's task should sleep until (nil: nothing scheduled).
    var earliest: NodeInstant? { heap.first?.deadline }

    /// Adds `key` at `deadline`. True when it became the earliest entry: re-arm the sleeper.
    @discardableResult
    mutating func schedule(_ key: Key, at deadline: NodeInstant) -> Bool {
        let entry = Entry(deadline: deadline, key: key)
        guard present.insert(entry).inserted else { return false }
        precondition(heap.count < Self.maxEntries, "deadline queue over \(Self.maxEntries) entries")
        let before = earliest
        heap.append(entry)
        siftUp(heap.count - 1)
        return before.map { deadline < $0 } ?? true
    }

    /// Removes and returns every key due at `now`, earliest first (ties in no particular order).
    mutating func popDue(now: NodeInstant) -> [Key] {
        var due: [Key] = []
        while let first = heap.first, first.deadline <= now {
            due.append(first.key)
            present.remove(first)
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                siftDown(0)
            }
        }
        return due
    }

    private mutating func siftUp(_ index: Int) {
        var child = index
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ index: Int) {
        var parent = index
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

/// The one task a driver keeps asleep on its injected clock until the earliest deadline of its
/// `DeadlineQueue`. Re-armed (the old sleeper cancelled) only when an earlier deadline arrives;
/// `fire` gets the sleeper's generation, which the driver passes to `woke` to ignore a sleeper
/// that was replaced while its wake-up was already on the way.
struct DeadlineSleeper {
    private var task: Task<Void, Never>?
    private var armed: NodeInstant?
    private var generation: UInt64 = 0

    /// Sleeps until `earliest` unless a sleeper is already armed for that instant or earlier.
    mutating func arm(_ earliest: NodeInstant?, clock: any NodeClock, fire: @escaping @Sendable (UInt64) async -> Void) {
        guard let at = earliest else { return }
        if task != nil, let armed, armed <= at { return }
        task?.cancel()
        armed = at
        generation += 1
        let g = generation
        task = Task {
            do { try await clock.sleep(until: at) } catch { return }
            await fire(g)
        }
    }

    /// True when `generation` is the current sleeper: it is done, the driver pops what is due
    /// and arms again.
    mutating func woke(_ generation: UInt64) -> Bool {
        guard generation == self.generation else { return false }
        task = nil
        armed = nil
        return true
    }

    mutating func stop() {
        task?.cancel()
        task = nil
        armed = nil
    }
}
