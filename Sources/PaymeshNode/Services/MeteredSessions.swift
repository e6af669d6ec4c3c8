import PaymeshCrypto
public import PaymeshPay402

/// The thin driver of the gateway's `MeteredSessionBook` (Specs/http402.md §12.3): the node's clock
/// and randomness (continuation tokens: 16 random bytes, hex) around the sans-IO book.
public actor MeteredSessions {
    private var book = MeteredSessionBook()
    private let payments: PaymentsService

    public init(payments: PaymentsService) { self.payments = payments }

    /// Keeps a partly served answer; its continuation token, or nil when it cannot be kept (§12.3).
    public func open(_ session: MeteredSessionBook.Session) -> String? {
        let token = payments.random.bytes(16).hexString
        return book.open(token, session, now: payments.now()) ? token : nil
    }

    public func begin(_ token: String, service: String, method: String, path: String) -> MeteredSessionBook.Session? {
        book.begin(token, service: service, method: method, path: path, now: payments.now())
    }

    public func finish(_ token: String, served: UInt64?) { book.finish(token, served: served, now: payments.now()) }
}
