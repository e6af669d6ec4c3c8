import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages

/// Why a waiting call was resumed.
enum Wake: Sendable, Equatable {
    /// Something it waits on happened: a notification of one of its channels (ack, rejection,
    /// state change, refusal), a failed write or reload of one, or a change of a peer's stream.
    case event
    /// Its deadline (from the driver's deadline queue) passed.
    case deadline
    /// The service stopped.
    case shutdown
}

/// The calls waiting for channel events (`pay` for its acknowledgements, `openChannel` for the
/// answer, `closeChannel` for SETTLED, `streamUsage` for its ack): continuations, each resumed
/// once by the first event of its channels or peers, by its deadline, or at shutdown. The caller
/// re-checks its condition and waits again if it still does not hold (no polling: it only runs
/// when something it waits on happened). Sans-IO: the driver resumes what this returns.
///
/// A call is admitted once (`admit`, a token) and waits under that token as often as it needs:
/// its deadline is keyed by the token, so repeated waits until the same deadline are one entry of
/// the deadline queue, and a deadline entry left from an earlier wait resumes nothing early (the
/// waiter keeps the deadline it waits for).
struct Waiters {
    /// At most this many calls that may wait run at once (console calls and app sessions; each
    /// waits for one thing at a time). Beyond it a call is refused with 1504 RATE_LIMITED.
    static let maxWaiters = 4_096

    private struct Entry {
        let deadline: NodeInstant
        let channels: Set<ChannelID>
        let peers: Set<EthereumAddress>
        let continuation: CheckedContinuation<Wake, Never>
    }

    private var entries: [UInt64: Entry] = [:]
    private var byChannel: [ChannelID: Set<UInt64>] = [:]
    private var byPeer: [EthereumAddress: Set<UInt64>] = [:]
    private var nextToken: UInt64 = 1
    /// Calls admitted (`admit`) and not yet released: each has at most one entry.
    private var admittedTokens: Set<UInt64> = []

    var count: Int { entries.count }
    var admitted: Int { admittedTokens.count }

    /// A call that may wait starts: its token, nil when `maxWaiters` calls already run.
    mutating func admit() -> UInt64? {
        guard admittedTokens.count < Self.maxWaiters else { return nil }
        let token = nextToken
        nextToken += 1
        admittedTokens.insert(token)
        return token
    }

    /// The admitted call returned.
    mutating func release(_ token: UInt64) {
        precondition(entries[token] == nil, "a call returns only once resumed")
        admittedTokens.remove(token)
    }

    /// The admitted call `token` waits until `deadline` (the key of its deadline is the token).
    mutating func add(_ token: UInt64, until deadline: NodeInstant, channels: Set<ChannelID>, peers: Set<EthereumAddress>,
                      _ continuation: CheckedContinuation<Wake, Never>) {
        precondition(admittedTokens.contains(token) && entries[token] == nil, "only admitted calls wait, one thing at a time")
        entries[token] = Entry(deadline: deadline, channels: channels, peers: peers, continuation: continuation)
        for c in channels { byChannel[c, default: []].insert(token) }
        for p in peers { byPeer[p, default: []].insert(token) }
    }

    /// The waiter `token` if it waits for a deadline that has passed at `now`.
    mutating func take(_ token: UInt64, dueAt now: NodeInstant) -> CheckedContinuation<Wake, Never>? {
        guard let e = entries[token], e.deadline <= now else { return nil }
        return take(token)
    }

    /// The waiter `token` if it waits now, whatever it waits for (a cancelled `pay`).
    mutating func take(waiting token: UInt64) -> CheckedContinuation<Wake, Never>? { take(token) }

    /// The waiter `id`, whatever it waits for.
    private mutating func take(_ id: UInt64) -> CheckedContinuation<Wake, Never>? {
        guard let e = entries.removeValue(forKey: id) else { return nil }
        for c in e.channels {
            byChannel[c]?.remove(id)
            if byChannel[c]?.isEmpty == true { byChannel[c] = nil }
        }
        for p in e.peers {
            byPeer[p]?.remove(id)
            if byPeer[p]?.isEmpty == true { byPeer[p] = nil }
        }
        return e.continuation
    }

    /// Every waiter of `channel` (hot path: one dictionary lookup when nobody waits).
    mutating func take(channel: ChannelID) -> [CheckedContinuation<Wake, Never>] {
        guard let ids = byChannel[channel] else { return [] }
        return ids.compactMap { take($0) }
    }

    mutating func take(peer: EthereumAddress) -> [CheckedContinuation<Wake, Never>] {
        guard let ids = byPeer[peer] else { return [] }
        return ids.compactMap { take($0) }
    }

    mutating func takeAll() -> [CheckedContinuation<Wake, Never>] {
        entries.keys.compactMap { take($0) }
    }
}
