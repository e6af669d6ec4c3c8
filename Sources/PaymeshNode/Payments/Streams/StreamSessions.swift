import PaymeshChannels
import PaymeshMessages

/// A metered session over one payer channel (Specs/channels.md §11).
struct StreamEntry {
    var session: StreamingSession
    let channel: ChannelID
    var vouchers = 0
    var lastNonce: UInt64 = 0
}

/// A session as the console shows it.
public struct StreamView: Hashable, Sendable {
    public var id: String
    public var channel: ChannelID
    public var unit: UsageUnit
    public var price: UInt128
    public var cap: UInt128
    public var paid: UInt128
    public var paidUnits: UInt64
    public var status: String
    public var vouchers: Int
    public var lastNonce: UInt64
}

/// The node's streaming sessions (sans-IO): each session's metering (`StreamingSession`) and what
/// its vouchers were. The driver pays the steps they return through the channel book and schedules
/// the ticks of per-second sessions on its deadline queue.
struct StreamSessions {
    /// A per-second session bills the time since its last tick this often.
    static let tickMillis: UInt64 = 250
    /// At most this many sessions run at once (`stream.start` beyond is refused).
    static let maxSessions = 10_000
    /// The newest this many stopped sessions stay queryable (`stream.info`, `stream.list`);
    /// older ones are forgotten (Specs/console.md §8).
    static let maxStopped = 100

    private var entries: [String: StreamEntry] = [:]
    /// Stopped sessions' last views, oldest first (at most `maxStopped`).
    private var stopped: [StreamView] = []
    private var nextID: UInt64 = 1

    /// Sessions running or paused (stopped ones are not counted).
    var count: Int { entries.count }

    func channel(of name: String) -> ChannelID? { entries[name]?.channel }

    /// Starts a session on payer channel `channel`; returns its name.
    mutating func start(channel: ChannelID, rate: StreamRate, cap: UInt128, now: UInt64) -> String {
        let name = "s\(nextID)"
        nextID += 1
        entries[name] = StreamEntry(session: StreamingSession(id: name, rate: rate, cap: cap, now: now), channel: channel)
        return name
    }

    mutating func recordUsage(_ name: String, units: UInt64, now: UInt64, available: UInt128) -> StreamingSession.Step? {
        entries[name]?.session.recordUsage(units: units, now: now, available: available)
    }

    /// Bills the time since the last tick of a per-second session (nil: the session is gone).
    mutating func tick(_ name: String, now: UInt64, available: UInt128) -> StreamingSession.Step? {
        entries[name]?.session.onTimerTick(now: now, available: available)
    }

    func isPerSecond(_ name: String) -> Bool { entries[name]?.session.rate.unit == .second }

    func taskID(of name: String) -> String? { entries[name]?.session.taskID }

    /// A voucher of the session was signed.
    mutating func paid(_ name: String, nonce: UInt64) {
        entries[name]?.vouchers += 1
        entries[name]?.lastNonce = nonce
    }

    /// The channel refused the session's payment: the session pauses.
    mutating func refused(_ name: String, _ increment: UInt128, code: UInt16) {
        entries[name]?.session.paymentRefused(increment, code: code)
    }

    /// Stops the session; its last view, kept in the bounded history of stopped sessions.
    mutating func stop(_ name: String) -> StreamView? {
        entries[name]?.session.stop()
        guard let last = view(name) else { return nil }
        entries[name] = nil
        stopped.append(last)
        if stopped.count > Self.maxStopped { stopped.removeFirst(stopped.count - Self.maxStopped) }
        return last
    }

    /// Why a session cannot resume, or nil once it runs again (with `cap` when given).
    enum ResumeRefusal: Equatable {
        case unknown
        case stopped
        case capBelowPaid(paid: UInt128)
    }

    /// Resumes a paused session (paused time is not billed), optionally with a new cap; a
    /// running session only takes the new cap.
    mutating func resume(_ name: String, cap: UInt128?, now: UInt64) -> ResumeRefusal? {
        guard var entry = entries[name] else { return stopped.contains { $0.id == name } ? .stopped : .unknown }
        if let cap, !entry.session.setCap(cap) { return .capBelowPaid(paid: entry.session.paid) }
        entry.session.resume(now: now)
        entries[name] = entry
        return nil
    }

    /// Every session: running and paused ones, then the stopped ones kept, each by number.
    var views: [StreamView] {
        let live = entries.keys.compactMap { view($0) }
        return (live + stopped).sorted { Self.number($0.id) < Self.number($1.id) }
    }

    private static func number(_ name: String) -> UInt64 { UInt64(name.dropFirst()) ?? 0 }

    /// A session as it is now: running, paused, or stopped and still kept; nil otherwise.
    func view(_ name: String) -> StreamView? {
        guard let e = entries[name] else { return stopped.last { $0.id == name } }
        let status: String
        switch e.session.status {
        case .running: status = "running"
        case .stopped: status = "stopped"
        case .paused(let reason): status = "paused:\(reason)"
        }
        return StreamView(id: name, channel: e.channel, unit: e.session.rate.unit, price: e.session.rate.price, cap: e.session.cap,
                          paid: e.session.paid, paidUnits: e.session.paidUnits, status: status, vouchers: e.vouchers, lastNonce: e.lastNonce)
    }
}
