/// Vouchers signed and sent but not yet acknowledged, oldest first: (nonce, cumulative amount).
/// A queue over one array whose consumed prefix is dropped in bulk, so steady pipelining does not
/// allocate.
struct InFlightVouchers: Sendable, Hashable {
    private var items: [(nonce: UInt64, amount: UInt128)] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }
    var count: Int { items.count - head }

    mutating func append(nonce: UInt64, amount: UInt128) {
        if head > 0, head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4_096, head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        items.append((nonce, amount))
    }

    /// Removes every entry with nonce ≤ `nonce`; returns the amount of `nonce` when it was queued.
    mutating func acknowledge(through nonce: UInt64) -> UInt128? {
        var found: UInt128?
        while head < items.count, items[head].nonce <= nonce {
            if items[head].nonce == nonce { found = items[head].amount }
            head += 1
        }
        return found
    }

    /// Removes one entry (a rejected voucher); returns whether it was queued.
    mutating func remove(nonce: UInt64) -> Bool {
        guard let i = items[head...].firstIndex(where: { $0.nonce == nonce }) else { return false }
        items.remove(at: i)
        return true
    }

    func amount(of nonce: UInt64) -> UInt128? { items[head...].first(where: { $0.nonce == nonce })?.amount }

    mutating func removeAll() {
        items.removeAll(keepingCapacity: true)
        head = 0
    }

    static func == (a: Self, b: Self) -> Bool {
        a.items[a.head...].elementsEqual(b.items[b.head...]) { $0.nonce == $1.nonce && $0.amount == $1.amount }
    }

    func hash(into h: inout Hasher) {
        for item in items[head...] { h.combine(item.nonce); h.combine(item.amount) }
    }
}
