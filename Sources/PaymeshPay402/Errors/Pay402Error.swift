public import PaymeshMessages

/// The one error type of PaymeshPay402: why a payment proof presented over HTTP was refused, with
/// the Specs/errors.md code to report in the 402 answer (Specs/http402.md §7). A client's bad proof
/// is a `Pay402Error`; our own broken invariant is a `precondition`.
public struct Pay402Error: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: PaymeshErrorCode
    /// Human-readable; never echoes the client's raw bytes (parsed numbers may appear).
    public let detail: String

    public init(_ code: PaymeshErrorCode, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// "1323 PROOF_REPLAYED: nonce 4 is not above 5": the `error` text of a 402 answer (§7).
    public var description: String { "\(code.rawValue) \(code.name ?? "UNKNOWN_ERROR"): \(detail)" }

    /// The `error` of an answer to a request that presented no proof.
    public static let noPayment = Pay402Error(.paymentRequired, "payment required")

    @inline(never) static func malformed(_ why: String) -> Pay402Error { .init(.paymentProofMalformed, why) }
    @inline(never) static func schemeMismatch(_ why: String) -> Pay402Error { .init(.paymentSchemeMismatch, why) }
    @inline(never) static func wrongPayee(_ why: String) -> Pay402Error { .init(.wrongPayee, why) }
    @inline(never) static func unknownChannel(_ why: String) -> Pay402Error { .init(.channelNotFound, why) }
    @inline(never) static func channelNotActive(_ why: String) -> Pay402Error { .init(.channelNotActive, why) }
    @inline(never) static func invalidSignature(_ why: String) -> Pay402Error { .init(.invalidSignature, why) }
    @inline(never) static func replayed(_ why: String) -> Pay402Error { .init(.proofReplayed, why) }
    @inline(never) static func underpaid(_ why: String) -> Pay402Error { .init(.insufficientPayment, why) }
    @inline(never) static func overDeposit(_ why: String) -> Pay402Error { .init(.insufficientFunds, why) }
    @inline(never) static func invalidProof(_ why: String) -> Pay402Error { .init(.invalidProof, why) }
    @inline(never) static func expired(_ why: String) -> Pay402Error { .init(.tokenExpired, why) }
    @inline(never) static func notAuthorized(_ why: String) -> Pay402Error { .init(.serviceNotAuthorized, why) }
}
