/// Protocol error codes, numbered as AgentPay numbers them (Specs/errors.md).
///
/// A struct rather than an enum so that a code this node does not know (a newer peer's) can
/// still be carried, logged and relayed; `name` is nil for such codes.
public struct PaymeshErrorCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// Codes a peer may send in ERROR.code, PAYMENT_ACK.error_code and HTLC_CANCEL.reason.
    public static let wireRange: ClosedRange<UInt64> = 1_000...1_999

    // Channel (1000–1004 AgentPay; 1005 Paymesh)
    public static let channelNotFound = Self(rawValue: 1000)
    public static let channelAlreadyExists = Self(rawValue: 1001)
    public static let channelNotActive = Self(rawValue: 1002)
    public static let channelDepositInvalid = Self(rawValue: 1003)
    public static let channelCloseMismatch = Self(rawValue: 1004)
    public static let channelLimitExceeded = Self(rawValue: 1005)
    // Payment / voucher (1100–1105 AgentPay; 1106 Paymesh)
    public static let insufficientFunds = Self(rawValue: 1100)
    public static let invalidSignature = Self(rawValue: 1101)
    public static let expiredPayment = Self(rawValue: 1102)
    public static let duplicateNonce = Self(rawValue: 1103)
    public static let invalidAmount = Self(rawValue: 1104)
    public static let nonceTooOld = Self(rawValue: 1105)
    public static let assetMismatch = Self(rawValue: 1106)
    // Identity / trust (1200–1202)
    public static let trustBelowMinimum = Self(rawValue: 1200)
    public static let identityNotVerified = Self(rawValue: 1201)
    public static let peerBlacklisted = Self(rawValue: 1202)
    // Gateway / x402 (1300–1303)
    public static let resourceNotFound = Self(rawValue: 1300)
    public static let paymentRequired = Self(rawValue: 1301)
    public static let insufficientPayment = Self(rawValue: 1302)
    public static let invalidProof = Self(rawValue: 1303)
    // HTTP 402 gateway proofs (1320–1326 Paymesh; Specs/http402.md §7)
    public static let paymentProofMalformed = Self(rawValue: 1320)
    public static let paymentSchemeMismatch = Self(rawValue: 1321)
    public static let wrongPayee = Self(rawValue: 1322)
    public static let proofReplayed = Self(rawValue: 1323)
    public static let tokenExpired = Self(rawValue: 1324)
    public static let serviceNotAuthorized = Self(rawValue: 1325)
    public static let meteredSessionUnknown = Self(rawValue: 1326)
    // Routing (1400–1402 AgentPay; 1403–1411 Paymesh; Specs/onion.md §5.3)
    public static let noRouteFound = Self(rawValue: 1400)
    public static let htlcTimeout = Self(rawValue: 1401)
    public static let htlcRoutingFailed = Self(rawValue: 1402)
    public static let feeInsufficient = Self(rawValue: 1403)
    public static let expiryTooSoon = Self(rawValue: 1404)
    public static let unknownPaymentHash = Self(rawValue: 1405)
    public static let invalidOnion = Self(rawValue: 1406)
    public static let unknownNextPeer = Self(rawValue: 1407)
    public static let temporaryChannelFailure = Self(rawValue: 1408)
    public static let finalIncorrectAmount = Self(rawValue: 1409)
    public static let finalIncorrectExpiry = Self(rawValue: 1410)
    public static let expiryTooFar = Self(rawValue: 1411)
    // Routed payments at the payer (Paymesh; Specs/routing.md §6, invoice.md §4)
    public static let paymentIDConflict = Self(rawValue: 1420)
    public static let invoiceExpired = Self(rawValue: 1421)
    // A2A paid skills (Paymesh; Specs/a2a.md §6)
    public static let a2aTaskNotFound = Self(rawValue: 1460)
    public static let a2aTaskNotPayable = Self(rawValue: 1461)
    public static let a2aSkillNotFound = Self(rawValue: 1462)
    public static let a2aExtensionRequired = Self(rawValue: 1463)
    public static let a2aRequestMalformed = Self(rawValue: 1464)
    // Buying over HTTP at the client (Paymesh; Specs/http402.md §11, console `http.fetch`)
    public static let fetchChallengeMalformed = Self(rawValue: 1480)
    public static let fetchNoPayableScheme = Self(rawValue: 1481)
    public static let fetchPriceAboveMax = Self(rawValue: 1482)
    public static let fetchAlreadyPaid = Self(rawValue: 1483)
    public static let fetchURLRefused = Self(rawValue: 1484)
    public static let fetchKeyConflict = Self(rawValue: 1485)
    public static let fetchPaymentRefused = Self(rawValue: 1486)
    public static let fetchFailed = Self(rawValue: 1487)
    public static let fetchChannelOpenRefused = Self(rawValue: 1488)
    public static let fetchPayeeUnreachable = Self(rawValue: 1489)
    // Negotiation, pricing and SLA (Paymesh; Specs/negotiation.md)
    public static let negotiationNotFound = Self(rawValue: 1440)
    public static let negotiationExpired = Self(rawValue: 1441)
    public static let negotiationOutOfTurn = Self(rawValue: 1442)
    public static let negotiationLimit = Self(rawValue: 1443)
    public static let negotiationTermsRefused = Self(rawValue: 1444)
    public static let negotiationUnsigned = Self(rawValue: 1445)
    public static let negotiationIDConflict = Self(rawValue: 1446)
    public static let slaEvidenceInvalid = Self(rawValue: 1447)
    public static let paymentInterrupted = Self(rawValue: 1412)
    // Protocol (1500–1504 AgentPay; 1505 Paymesh)
    public static let unsupportedMessage = Self(rawValue: 1500)
    public static let malformedMessage = Self(rawValue: 1501)
    public static let internalError = Self(rawValue: 1502)
    public static let negotiationNotSupported = Self(rawValue: 1503)
    public static let rateLimited = Self(rawValue: 1504)
    public static let unsupportedVersion = Self(rawValue: 1505)

    /// Every code this implementation names, in numeric order.
    public static let allKnown: [PaymeshErrorCode] = names.keys.sorted { $0.rawValue < $1.rawValue }

    /// The SCREAMING_SNAKE name from Specs/errors.md, or nil for a code this node does not know.
    public var name: String? { Self.names[self] }

    public var description: String { "\(rawValue) \(name ?? "UNKNOWN_ERROR")" }

    private static let names: [PaymeshErrorCode: String] = [
        .channelNotFound: "CHANNEL_NOT_FOUND",
        .channelAlreadyExists: "CHANNEL_ALREADY_EXISTS",
        .channelNotActive: "CHANNEL_NOT_ACTIVE",
        .channelDepositInvalid: "CHANNEL_DEPOSIT_INVALID",
        .channelCloseMismatch: "CHANNEL_CLOSE_MISMATCH",
        .channelLimitExceeded: "CHANNEL_LIMIT_EXCEEDED",
        .insufficientFunds: "INSUFFICIENT_FUNDS",
        .invalidSignature: "INVALID_SIGNATURE",
        .expiredPayment: "EXPIRED_PAYMENT",
        .duplicateNonce: "DUPLICATE_NONCE",
        .invalidAmount: "INVALID_AMOUNT",
        .nonceTooOld: "NONCE_TOO_OLD",
        .assetMismatch: "ASSET_MISMATCH",
        .trustBelowMinimum: "TRUST_BELOW_MINIMUM",
        .identityNotVerified: "IDENTITY_NOT_VERIFIED",
        .peerBlacklisted: "PEER_BLACKLISTED",
        .resourceNotFound: "RESOURCE_NOT_FOUND",
        .paymentRequired: "PAYMENT_REQUIRED",
        .insufficientPayment: "INSUFFICIENT_PAYMENT",
        .invalidProof: "INVALID_PROOF",
        .paymentProofMalformed: "PAYMENT_PROOF_MALFORMED",
        .paymentSchemeMismatch: "PAYMENT_SCHEME_MISMATCH",
        .wrongPayee: "WRONG_PAYEE",
        .proofReplayed: "PROOF_REPLAYED",
        .tokenExpired: "TOKEN_EXPIRED",
        .serviceNotAuthorized: "SERVICE_NOT_AUTHORIZED",
        .meteredSessionUnknown: "METERED_SESSION_UNKNOWN",
        .noRouteFound: "NO_ROUTE_FOUND",
        .htlcTimeout: "HTLC_TIMEOUT",
        .htlcRoutingFailed: "HTLC_ROUTING_FAILED",
        .feeInsufficient: "FEE_INSUFFICIENT",
        .expiryTooSoon: "EXPIRY_TOO_SOON",
        .unknownPaymentHash: "UNKNOWN_PAYMENT_HASH",
        .invalidOnion: "INVALID_ONION",
        .unknownNextPeer: "UNKNOWN_NEXT_PEER",
        .temporaryChannelFailure: "TEMPORARY_CHANNEL_FAILURE",
        .finalIncorrectAmount: "FINAL_INCORRECT_AMOUNT",
        .finalIncorrectExpiry: "FINAL_INCORRECT_EXPIRY",
        .expiryTooFar: "EXPIRY_TOO_FAR",
        .paymentIDConflict: "PAYMENT_ID_CONFLICT",
        .invoiceExpired: "INVOICE_EXPIRED",
        .a2aTaskNotFound: "A2A_TASK_NOT_FOUND",
        .a2aTaskNotPayable: "A2A_TASK_NOT_PAYABLE",
        .a2aSkillNotFound: "A2A_SKILL_NOT_FOUND",
        .a2aExtensionRequired: "A2A_EXTENSION_REQUIRED",
        .a2aRequestMalformed: "A2A_REQUEST_MALFORMED",
        .fetchChallengeMalformed: "FETCH_CHALLENGE_MALFORMED",
        .fetchNoPayableScheme: "FETCH_NO_PAYABLE_SCHEME",
        .fetchPriceAboveMax: "FETCH_PRICE_ABOVE_MAX",
        .fetchAlreadyPaid: "FETCH_ALREADY_PAID",
        .fetchURLRefused: "FETCH_URL_REFUSED",
        .fetchKeyConflict: "FETCH_KEY_CONFLICT",
        .fetchPaymentRefused: "FETCH_PAYMENT_REFUSED",
        .fetchFailed: "FETCH_FAILED",
        .fetchChannelOpenRefused: "FETCH_CHANNEL_OPEN_REFUSED",
        .fetchPayeeUnreachable: "FETCH_PAYEE_UNREACHABLE",
        .negotiationNotFound: "NEGOTIATION_NOT_FOUND",
        .negotiationExpired: "NEGOTIATION_EXPIRED",
        .negotiationOutOfTurn: "NEGOTIATION_OUT_OF_TURN",
        .negotiationLimit: "NEGOTIATION_LIMIT",
        .negotiationTermsRefused: "NEGOTIATION_TERMS_REFUSED",
        .negotiationUnsigned: "NEGOTIATION_UNSIGNED",
        .negotiationIDConflict: "NEGOTIATION_ID_CONFLICT",
        .slaEvidenceInvalid: "SLA_EVIDENCE_INVALID",
        .paymentInterrupted: "PAYMENT_INTERRUPTED",
        .unsupportedMessage: "UNSUPPORTED_MESSAGE",
        .malformedMessage: "MALFORMED_MESSAGE",
        .internalError: "INTERNAL_ERROR",
        .negotiationNotSupported: "NEGOTIATION_NOT_SUPPORTED",
        .rateLimited: "RATE_LIMITED",
        .unsupportedVersion: "UNSUPPORTED_VERSION",
    ]
}
