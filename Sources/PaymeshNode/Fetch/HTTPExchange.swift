public import PaymeshMessages

/// One HTTP/1.1 request and its answer, performed by the composition root's HTTP client (NIO in
/// PaymeshDaemon): the fetch driver names no sockets. Loopback only; bounded answer and time.
public protocol HTTPExchange: Sendable {
    /// Sends `method target` to `host:port`; the answer's body is refused past `maxResponseBytes`.
    func send(method: String, host: String, port: Int, target: String, headers: [(String, String)], body: [UInt8]?,
              maxResponseBytes: Int) async throws(NodeError) -> HTTPExchangeResponse

    /// As `send`, for an answer that streams (Specs/http402.md §12.6): `onHead` is called with the
    /// status and headers as soon as they arrive; the body is read to its end (or `maxResponseBytes`,
    /// or `timeoutSeconds`); the answer's trailers are appended to its headers.
    func stream(method: String, host: String, port: Int, target: String, headers: [(String, String)], body: [UInt8]?,
                maxResponseBytes: Int, timeoutSeconds: Int64,
                onHead: @escaping @Sendable (Int, [(String, String)]) -> Void) async throws -> HTTPExchangeResponse
}

public struct HTTPExchangeResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.0.lowercased() == lower }?.1
    }
}

/// What `http.fetch` asks (Specs/http402.md §11.1).
public struct FetchRequest: Sendable {
    public var url: String
    public var method: String
    public var headers: [(String, String)]
    public var body: [UInt8]?
    /// The most this request may cost (nil: pay nothing, return the 402 answer's price as an error).
    public var maxPrice: AmountInput?
    /// Names the request across retries and crashes; drawn from the node's randomness when nil.
    public var idempotencyKey: String?

    public init(url: String, method: String = "GET", headers: [(String, String)] = [], body: [UInt8]? = nil,
                maxPrice: AmountInput? = nil, idempotencyKey: String? = nil) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.maxPrice = maxPrice
        self.idempotencyKey = idempotencyKey
    }
}

/// The answer `http.fetch` returns: the final HTTP answer and what it cost.
public struct FetchResult: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var key: String
    /// Atomic units this request paid (0 when free or served from a cached L402 token).
    public var paid: UInt128
    public var asset: String?
    /// `paymesh-channel`, `l402`, or nil (nothing paid).
    public var scheme: String?
    public var channel: ChannelID?
    public var nonce: UInt64?
    /// The gateway's receipt header value (`X-PAYMENT-RESPONSE` / `PAYMENT-RESPONSE`).
    public var receipt: String?
    /// True when a proof signed by an earlier call with this key was presented (nothing new signed).
    public var reused: Bool
    /// A metered answer (Specs/http402.md §12.4): its unit, the units received and the gateway's
    /// total, and why it stopped before the end (nil: complete).
    public var unit: String? = nil
    public var units: UInt64? = nil
    public var unitsTotal: UInt64? = nil
    /// A metered purchase resumed with its key (Specs/http402.md §12.4): the first unit of `body`.
    public var unitsFrom: UInt64? = nil
    public var partial: String? = nil
    /// A per-second answer (§12.6): milliseconds of upstream time the gateway says it served.
    public var servedMillis: UInt64? = nil
    /// A channel this request opened to the payee (Specs/http402.md §11.3), which paid it.
    public var opened: ChannelID? = nil
}
