public import PaymeshMessages

/// The gateway's metered answers not yet fully served (Specs/http402.md §12.3): the upstream's
/// answer, buffered, waiting for the client's next paid step. Sans-IO and bounded: time (unix ms)
/// and tokens are passed in; at most `maxSessions` sessions and `maxBufferedBytes` bytes are held,
/// a session idle for `idleMillis` is dropped, and one step of a session is paid at a time.
public struct MeteredSessionBook: Sendable {
    public static let maxSessions = 1_024
    /// 64 MiB buffered at most (four upstream answers of the gateway's 16 MiB maximum).
    public static let maxBufferedBytes = 64 * 1_024 * 1_024
    /// A session whose next step is not paid within 60 s is forgotten (the gateway's proof timeout).
    public static let idleMillis: UInt64 = 60_000

    public struct Session: Sendable {
        public var channel: ChannelID
        public var service: String
        public var method: String
        public var path: String
        public var status: Int
        public var headers: [HTTPHeaderField]
        public var body: MeteredBody
        public var unitPrice: UInt128
        /// Units served so far (paid for, sent).
        public var served: UInt64
        public var lastUsed: UInt64
        /// A step of this session is being paid (its voucher is being stored).
        public var busy = false

        public init(channel: ChannelID, service: String, method: String, path: String, status: Int, headers: [HTTPHeaderField],
                    body: MeteredBody, unitPrice: UInt128, served: UInt64, now: UInt64 = 0) {
            self.channel = channel
            self.service = service
            self.method = method
            self.path = path
            self.status = status
            self.headers = headers
            self.body = body
            self.unitPrice = unitPrice
            self.served = served
            lastUsed = now
        }

        public var remaining: UInt64 { body.totalUnits - served }
        /// Units of the next step: a whole step, or what remains.
        public var nextUnits: UInt64 { min(body.unit.stepUnits, remaining) }
        /// Its price (exact: the gateway knows what remains, so only the first step is paid blind).
        public var nextPrice: UInt128 { MeteredPrice.of(units: nextUnits, unitPrice: unitPrice) ?? .max }
    }

    private var sessions: [String: Session] = [:]
    private var buffered = 0

    public init() {}

    public var count: Int { sessions.count }
    public var bufferedBytes: Int { buffered }

    /// Keeps `session` under `token`, dropping idle sessions, then the least recently used ones,
    /// until it fits. False when one answer alone is above the byte bound (it is not kept).
    public mutating func open(_ token: String, _ session: Session, now: UInt64) -> Bool {
        expire(now: now)
        var session = session
        session.lastUsed = now
        session.busy = false
        let size = session.body.bytes.count
        guard size <= Self.maxBufferedBytes else { return false }
        while sessions.count >= Self.maxSessions || buffered + size > Self.maxBufferedBytes,
              let oldest = sessions.filter({ !$0.value.busy }).min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            remove(oldest.key)
        }
        guard sessions.count < Self.maxSessions, buffered + size <= Self.maxBufferedBytes else { return false }
        remove(token)
        sessions[token] = session
        buffered += size
        return true
    }

    /// The session a continuation names, marked busy until `finish`: nil when unknown, idle too
    /// long, for another service, method or path, or already paying a step (§12.3 step 1).
    public mutating func begin(_ token: String, service: String, method: String, path: String, now: UInt64) -> Session? {
        expire(now: now)
        guard var s = sessions[token], !s.busy, s.service == service, s.method == method, s.path == path else { return nil }
        s.busy = true
        s.lastUsed = now
        sessions[token] = s
        return s
    }

    /// Ends the step `begin` started: `served` units are now served (a refused step: unchanged).
    /// The session is forgotten once everything is served.
    public mutating func finish(_ token: String, served: UInt64?, now: UInt64) {
        guard var s = sessions[token] else { return }
        s.busy = false
        s.lastUsed = now
        if let served { s.served = served }
        if s.remaining == 0 { remove(token) } else { sessions[token] = s }
    }

    public mutating func expire(now: UInt64) {
        for (token, s) in sessions where !s.busy && now >= s.lastUsed + Self.idleMillis { remove(token) }
    }

    private mutating func remove(_ token: String) {
        guard let s = sessions.removeValue(forKey: token) else { return }
        buffered -= s.body.bytes.count
    }
}
