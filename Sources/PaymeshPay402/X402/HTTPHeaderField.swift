/// One HTTP header line. Names compare case-insensitively (RFC 9110 §5.1).
public struct HTTPHeaderField: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// Header names of Specs/http402.md §2.
public enum Pay402Header {
    public static let xPayment = "X-PAYMENT"
    public static let xPaymentResponse = "X-PAYMENT-RESPONSE"
    public static let paymentRequired = "PAYMENT-REQUIRED"
    public static let paymentSignature = "PAYMENT-SIGNATURE"
    public static let paymentResponse = "PAYMENT-RESPONSE"
    public static let wwwAuthenticate = "WWW-Authenticate"
    public static let authorization = "Authorization"
    /// The Specs/errors.md code of a refused proof (§7).
    public static let errorCode = "Paymesh-Error-Code"
}

extension Array where Element == HTTPHeaderField {
    /// The values of every line named `name`, case-insensitively.
    func values(named name: String) -> [String] {
        let lower = name.lowercased()
        return filter { $0.name.lowercased() == lower }.map(\.value)
    }
}

/// Headers of metered answers and their continuations (§12.3).
public enum MeteredHeader {
    /// Request and answer: the continuation token of a metered answer not yet fully served.
    public static let `continue` = "Paymesh-Continue"
    /// Answer: atomic units the next step costs (present with `Paymesh-Continue`).
    public static let nextPrice = "Paymesh-Next-Price"
    /// Answer: units in this answer's body, the index of its first unit, the answer's total units.
    public static let units = "Paymesh-Units"
    public static let unitsFrom = "Paymesh-Units-From"
    public static let unitsTotal = "Paymesh-Units-Total"
    /// Answer: the upstream's status (the page itself is 206 when it is part of a longer answer).
    public static let upstreamStatus = "Paymesh-Upstream-Status"
}

/// Headers of per-second answers (`unit` = `second`, §12.6). A per-second answer also carries
/// `Paymesh-Continue` and `Paymesh-Next-Price` in its head; a top-up answer carries them again.
public enum TimedHeader {
    /// Answer head and top-up answer: the seconds of upstream time paid so far, decimal.
    public static let secondsPaid = "Paymesh-Seconds-Paid"
    /// Answer head: the seconds one step buys (what `Paymesh-Next-Price` pays for).
    public static let step = "Paymesh-Step-Seconds"
    /// Answer trailer: why the answer ended (`complete`, `unpaid`, `limit`, `upstream-failed`).
    public static let end = "Paymesh-End"
    /// Answer trailer: milliseconds of upstream time served, measured on the gateway's clock.
    public static let servedMillis = "Paymesh-Served-Millis"
}
