/// The 402 answer with every scheme at once (Specs/http402.md §3): the x402 v1 JSON body, the x402
/// v2 `PAYMENT-REQUIRED` header, the L402 `WWW-Authenticate` header when the gateway offers L402,
/// and CORS headers that let a browser client read the challenge. A value: the HTTP driver writes
/// `status`, `headers` and `body` as they are.
public struct PaymentChallenge: Sendable, Hashable {
    public static let status = 402

    /// x402 requirements, most preferred first (at most `Pay402Limits.maxRequirements`).
    public var requirements: [PaymentRequirements]
    /// The L402 offer, when the gateway sells this resource for a routed payment.
    public var l402: L402Challenge?
    /// Why the request was refused: "payment required", or the refused proof's error (§7).
    public var error: Pay402Error

    public init(requirements: [PaymentRequirements], l402: L402Challenge? = nil,
                error: Pay402Error = .noPayment) {
        precondition(requirements.count <= Pay402Limits.maxRequirements, "too many payment requirements")
        self.requirements = requirements
        self.l402 = l402
        self.error = error
    }

    /// `error` as x402 carries it: "<code> <NAME>: <detail>".
    public var errorText: String { error.description }

    /// The v1 body: {x402Version: 1, error, accepts: [PaymentRequirements v1]}.
    public var body: [UInt8] {
        JSONCodec.encode(ChallengeV1Wire(x402Version: 1, error: errorText, accepts: requirements.map(RequirementsV1Wire.init)))
    }

    /// The `PAYMENT-REQUIRED` value: base64(JSON{x402Version: 2, error, resource, accepts}).
    public var paymentRequiredHeader: String {
        let resource = requirements.first.map { ResourceWire(url: $0.resource, description: $0.description, mimeType: $0.mimeType) }
        return JSONCodec.header(ChallengeV2Wire(x402Version: 2, error: errorText, resource: resource,
                                                accepts: requirements.map(RequirementsV2Wire.init)))
    }

    /// Every header of the answer, in this order: Content-Type, Cache-Control, PAYMENT-REQUIRED,
    /// WWW-Authenticate (L402 only), Paymesh-Error-Code, then the CORS headers (§3.4).
    public var headers: [HTTPHeaderField] {
        var out = [HTTPHeaderField("Content-Type", "application/json"), HTTPHeaderField("Cache-Control", "no-store"),
                   HTTPHeaderField(Pay402Header.paymentRequired, paymentRequiredHeader)]
        if let l402 { out.append(HTTPHeaderField(Pay402Header.wwwAuthenticate, l402.headerValue)) }
        out.append(HTTPHeaderField(Pay402Header.errorCode, String(error.code.rawValue)))
        out += Self.corsHeaders
        return out
    }

    /// CORS (§3.4): any origin may read the challenge and send the proof headers.
    public static let corsHeaders: [HTTPHeaderField] = [
        HTTPHeaderField("Access-Control-Allow-Origin", "*"),
        HTTPHeaderField("Access-Control-Allow-Headers",
                        "Authorization, Content-Type, \(Pay402Header.xPayment), \(Pay402Header.paymentSignature), \(MeteredHeader.continue)"),
        HTTPHeaderField("Access-Control-Expose-Headers",
                        "\(Pay402Header.paymentRequired), \(Pay402Header.paymentResponse), \(Pay402Header.xPaymentResponse), "
                            + "\(Pay402Header.wwwAuthenticate), \(Pay402Header.errorCode), \(MeteredHeader.continue), \(MeteredHeader.nextPrice), "
                            + "\(MeteredHeader.units), \(MeteredHeader.unitsFrom), \(MeteredHeader.unitsTotal), \(MeteredHeader.upstreamStatus), "
                            + "\(TimedHeader.secondsPaid), \(TimedHeader.step)"),
    ]
}

private struct ChallengeV1Wire: Encodable {
    var x402Version: Int
    var error: String
    var accepts: [RequirementsV1Wire]
}

private struct ResourceWire: Encodable {
    var url: String
    var description: String
    var mimeType: String
}

private struct ChallengeV2Wire: Encodable {
    var x402Version: Int
    var error: String
    var resource: ResourceWire?
    var accepts: [RequirementsV2Wire]
}
