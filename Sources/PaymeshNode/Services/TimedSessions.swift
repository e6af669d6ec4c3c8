import PaymeshCrypto
public import PaymeshPay402

/// The thin driver of the gateway's `TimedSessionBook` (Specs/http402.md §12.6): the node's
/// monotonic clock (milliseconds) and randomness (tokens: 16 random bytes, hex) around the sans-IO
/// book, and a wake-up for the answer's stream when a top-up of it finishes.
public actor TimedSessions {
    private var book = TimedSessionBook()
    private var wakers: [String: @Sendable () -> Void] = [:]
    private let payments: PaymentsService

    public init(payments: PaymentsService) { self.payments = payments }

    /// Milliseconds on the node's monotonic clock (injected: tests move it themselves).
    public nonisolated func nowMillis() -> UInt64 { payments.clock.now.nanoseconds / 1_000_000 }

    /// Suspends until the node's monotonic clock reads `millis`.
    public nonisolated func sleep(untilMillis millis: UInt64) async throws {
        try await payments.clock.sleep(until: NodeInstant(nanoseconds: millis.multipliedReportingOverflow(by: 1_000_000).overflow
                                                           ? .max : millis * 1_000_000))
    }

    public var count: Int { book.count }

    /// Keeps a new answer (before its first proof is verified); its token, nil when the book is full.
    public func open(_ session: TimedSessionBook.Session) -> String? {
        let token = payments.random.bytes(16).hexString
        return book.open(token, session) ? token : nil
    }

    /// The upstream call starts now; `wake` is called when a top-up of the answer finishes.
    public func start(_ token: String, wake: @escaping @Sendable () -> Void) -> TimedSessionBook.Session? {
        book.start(token, now: nowMillis())
        wakers[token] = wake
        return book.session(token)
    }

    public func onOutput(_ token: String, bytes: Int) -> TimedSessionBook.Decision { book.onOutput(token, bytes: bytes, now: nowMillis()) }
    public func onTimer(_ token: String) -> TimedSessionBook.Decision { book.onTimer(token, now: nowMillis()) }
    public func release(_ token: String) { book.release(token) }
    public func session(_ token: String) -> TimedSessionBook.Session? { book.session(token) }

    public func beginTopUp(_ token: String, service: String, method: String, path: String) -> TimedSessionBook.Session? {
        book.beginTopUp(token, service: service, method: method, path: path, now: nowMillis())
    }

    @discardableResult
    public func finishTopUp(_ token: String, paid: Bool) -> TimedSessionBook.Session? {
        let s = book.finishTopUp(token, paid: paid)
        wakers[token]?()
        return s
    }

    public func close(_ token: String) {
        book.close(token)
        wakers[token] = nil
    }
}
