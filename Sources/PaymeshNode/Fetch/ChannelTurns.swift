import PaymeshMessages

/// Whose turn it is to present a voucher of each payer channel (Specs/http402.md §11.5). A gateway
/// takes a channel's vouchers in nonce order only (§4.3 step 5): a later voucher that reaches it
/// first pays for both requests and the earlier one is refused (1323). So a request takes its
/// channel's turn before it reads the next nonce and keeps it until the gateway answered the
/// voucher; the others queue behind it in arrival order. Plain bookkeeping (no I/O, no tasks): the
/// fetcher parks and resumes the waiting requests by ticket.
struct ChannelTurns: Sendable, Equatable {
    enum Take: Sendable, Equatable {
        /// The ticket holds the channel's turn now.
        case granted(UInt64)
        /// The ticket waits behind the channel's current holder and earlier waiters.
        case wait(UInt64)
        /// `capacity` tickets are held or waiting: refuse (1504).
        case full
    }

    /// Tickets held or waiting over all channels, at most (the requests in flight bound it anyway).
    let capacity: Int
    /// Per channel, its tickets in arrival order: the first one holds the turn.
    private var queues: [ChannelID: [UInt64]] = [:]
    private var nextTicket: UInt64 = 0
    private(set) var count = 0

    init(capacity: Int) {
        precondition(capacity > 0, "at least one turn")
        self.capacity = capacity
    }

    var isEmpty: Bool { count == 0 }

    mutating func take(_ channel: ChannelID) -> Take {
        guard count < capacity else { return .full }
        let ticket = nextTicket
        nextTicket &+= 1
        count += 1
        queues[channel, default: []].append(ticket)
        return queues[channel]!.count == 1 ? .granted(ticket) : .wait(ticket)
    }

    /// Ends `ticket` — the turn it holds is passed on, or its wait is withdrawn — and returns the
    /// ticket that was given the turn by it, if any. A ticket already ended changes nothing.
    mutating func end(_ channel: ChannelID, _ ticket: UInt64) -> UInt64? {
        guard var queue = queues[channel], let at = queue.firstIndex(of: ticket) else { return nil }
        queue.remove(at: at)
        count -= 1
        queues[channel] = queue.isEmpty ? nil : queue
        return at == 0 ? queue.first : nil
    }

    /// Whether `ticket` holds its channel's turn.
    func holds(_ channel: ChannelID, _ ticket: UInt64) -> Bool { queues[channel]?.first == ticket }
}
