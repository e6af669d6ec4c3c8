public import PaymeshMessages

/// The one error type of PaymeshRouting: a struct wrapping a private code, with cold-path
/// factories. Bad input (a query, an invoice string from a user or a peer, a journal call that
/// does not fit the payment's state) is one of these, never a crash.
public struct RoutingError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case noRoute(String)
        case invalidQuery(String)
        case invoiceWrongPrefix
        case invoiceTooLong(Int)
        case invoiceMalformed(String)
        case invoiceBadSignature
        case invoiceExpired(expiredAt: UInt64)
        case paymentConflict(String)
        case unknownPayment
        case paymentState(String)
        case journalFull
        case reputationMalformed(String)
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    @inline(never) public static func noRoute(_ why: String) -> Self { .init(.noRoute(why)) }
    @inline(never) public static func invalidQuery(_ why: String) -> Self { .init(.invalidQuery(why)) }
    @inline(never) public static func invoiceWrongPrefix() -> Self { .init(.invoiceWrongPrefix) }
    @inline(never) public static func invoiceTooLong(_ n: Int) -> Self { .init(.invoiceTooLong(n)) }
    @inline(never) public static func invoiceMalformed(_ why: String) -> Self { .init(.invoiceMalformed(why)) }
    @inline(never) public static func invoiceBadSignature() -> Self { .init(.invoiceBadSignature) }
    @inline(never) public static func invoiceExpired(at: UInt64) -> Self { .init(.invoiceExpired(expiredAt: at)) }
    @inline(never) public static func paymentConflict(_ why: String) -> Self { .init(.paymentConflict(why)) }
    @inline(never) public static func unknownPayment() -> Self { .init(.unknownPayment) }
    @inline(never) public static func paymentState(_ why: String) -> Self { .init(.paymentState(why)) }
    @inline(never) public static func journalFull() -> Self { .init(.journalFull) }
    @inline(never) public static func reputationMalformed(_ why: String) -> Self { .init(.reputationMalformed(why)) }

    /// A stable name for each kind (console `error.data.kind`, tests).
    public var kind: String {
        switch code {
        case .noRoute: return "no_route"
        case .invalidQuery: return "invalid_query"
        case .invoiceWrongPrefix: return "invoice_wrong_prefix"
        case .invoiceTooLong: return "invoice_too_long"
        case .invoiceMalformed: return "invoice_malformed"
        case .invoiceBadSignature: return "invoice_bad_signature"
        case .invoiceExpired: return "invoice_expired"
        case .paymentConflict: return "payment_conflict"
        case .unknownPayment: return "unknown_payment"
        case .paymentState: return "payment_state"
        case .journalFull: return "journal_full"
        case .reputationMalformed: return "reputation_malformed"
        }
    }

    /// The Specs/errors.md code when the error crosses the wire or the console: no route is
    /// NO_ROUTE_FOUND (1400); a bad invoice is MALFORMED_MESSAGE (1501); the rest are local.
    public var wireCode: PaymeshErrorCode {
        switch code {
        case .noRoute: return .noRouteFound
        case .invoiceWrongPrefix, .invoiceTooLong, .invoiceMalformed, .invoiceBadSignature, .invoiceExpired, .invalidQuery:
            return .malformedMessage
        case .paymentConflict, .unknownPayment, .paymentState, .journalFull, .reputationMalformed: return .internalError
        }
    }

    public var description: String {
        switch code {
        case .noRoute(let why): return "routing: no route: \(why)"
        case .invalidQuery(let why): return "routing: invalid query: \(why)"
        case .invoiceWrongPrefix: return "invoice: does not start with \(Invoice.prefix)"
        case .invoiceTooLong(let n): return "invoice: \(n) characters > \(Invoice.maxStringLength)"
        case .invoiceMalformed(let why): return "invoice: malformed: \(why)"
        case .invoiceBadSignature: return "invoice: signature is not by the payee"
        case .invoiceExpired(let at): return "invoice: expired at \(at) (unix ms)"
        case .paymentConflict(let why): return "payment: conflict: \(why)"
        case .unknownPayment: return "payment: unknown payment id"
        case .paymentState(let why): return "payment: \(why)"
        case .journalFull: return "payment: journal full of unfinished payments"
        case .reputationMalformed(let why): return "reputation: stored record malformed: \(why)"
        }
    }
}
