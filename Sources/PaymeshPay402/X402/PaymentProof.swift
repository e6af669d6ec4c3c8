public import PaymeshCrypto
public import PaymeshMessages

/// A payment proof presented with a request (Specs/http402.md §5), parsed but not yet verified.
public enum PaymentProof: Sendable, Hashable {
    /// x402 v1 `X-PAYMENT` or v2 `PAYMENT-SIGNATURE` in the Paymesh channel scheme.
    case channel(ChannelSchemeProof)
    /// `Authorization: L402 <macaroon>:<preimage>`.
    case l402(L402Credential)

    /// Finds and parses the proof among a request's headers, in the order of §5: `PAYMENT-SIGNATURE`,
    /// then `X-PAYMENT`, then `Authorization: L402` (or `LSAT`). nil when the request carries none
    /// (an `Authorization` of another scheme is not a payment proof). A header present more than
    /// once, too long, not base64 or not the scheme's JSON is 1320; a scheme or version other than
    /// the channel scheme is 1321.
    public static func parse(headers: [HTTPHeaderField]) throws(Pay402Error) -> PaymentProof? {
        if let value = try single(headers, Pay402Header.paymentSignature) {
            return .channel(try ChannelSchemeProof(paymentSignature: value))
        }
        if let value = try single(headers, Pay402Header.xPayment) {
            return .channel(try ChannelSchemeProof(xPayment: value))
        }
        for value in headers.values(named: Pay402Header.authorization) {
            if let credential = try L402Credential(authorization: value) { return .l402(credential) }
        }
        return nil
    }

    private static func single(_ headers: [HTTPHeaderField], _ name: String) throws(Pay402Error) -> String? {
        let values = headers.values(named: name)
        guard values.count <= 1 else { throw .malformed("\(name) appears \(values.count) times") }
        return values.first
    }
}

/// An x402 proof in the channel scheme (§4.2): the version and the scheme/network it claims, what
/// it accepted (v2 only), and the voucher.
public struct ChannelSchemeProof: Sendable, Hashable {
    public var x402Version: Int
    public var scheme: String
    public var network: String
    /// v2 `accepted`: the requirements the client says it pays (nil in v1).
    public var accepted: Accepted?
    public var voucher: PaymentUpdate

    public struct Accepted: Sendable, Hashable {
        public var asset: String
        public var payTo: EthereumAddress
        public var amount: UInt128
    }

    public init(x402Version: Int, scheme: String = ChannelScheme.name, network: String, accepted: Accepted?, voucher: PaymentUpdate) {
        self.x402Version = x402Version
        self.scheme = scheme
        self.network = network
        self.accepted = accepted
        self.voucher = voucher
    }

    /// Parses an `X-PAYMENT` value: base64(JSON{x402Version: 1, scheme, network, payload}).
    public init(xPayment value: String) throws(Pay402Error) {
        let head = try JSONCodec.decodeHeader(ProofHeadV1.self, value, what: Pay402Header.xPayment)
        guard head.x402Version == 1 else { throw .schemeMismatch("X-PAYMENT carries x402Version \(head.x402Version), not 1") }
        guard head.scheme == ChannelScheme.name else { throw .schemeMismatch("scheme is not \(ChannelScheme.name)") }
        let full = try JSONCodec.decodeHeader(ProofV1Wire.self, value, what: Pay402Header.xPayment)
        self.init(x402Version: 1, scheme: full.scheme, network: full.network, accepted: nil, voucher: try full.payload.voucher())
    }

    /// Parses a `PAYMENT-SIGNATURE` value: base64(JSON{x402Version: 2, accepted, payload, resource?}).
    public init(paymentSignature value: String) throws(Pay402Error) {
        let head = try JSONCodec.decodeHeader(ProofHeadV2.self, value, what: Pay402Header.paymentSignature)
        guard head.x402Version == 2 else {
            throw .schemeMismatch("PAYMENT-SIGNATURE carries x402Version \(head.x402Version), not 2")
        }
        guard head.accepted.scheme == ChannelScheme.name else { throw .schemeMismatch("scheme is not \(ChannelScheme.name)") }
        let full = try JSONCodec.decodeHeader(ProofV2Wire<AcceptedWire>.self, value, what: Pay402Header.paymentSignature)
        guard let payTo = EthereumAddress(string: full.accepted.payTo) else { throw .malformed("accepted.payTo is not an address") }
        let amount: Amount
        do { amount = try Amount(decimal: full.accepted.amount) } catch { throw .malformed("accepted.amount: \(error.detail)") }
        self.init(x402Version: 2, scheme: full.accepted.scheme, network: full.accepted.network,
                  accepted: Accepted(asset: full.accepted.asset, payTo: payTo, amount: amount.atomicUnits),
                  voucher: try full.payload.voucher())
    }

    /// The `X-PAYMENT` header a v1 client sends to pay `requirements` with `voucher`.
    public static func xPayment(_ voucher: PaymentUpdate, paying requirements: PaymentRequirements) -> HTTPHeaderField {
        HTTPHeaderField(Pay402Header.xPayment, JSONCodec.header(ProofV1Wire(
            x402Version: 1, scheme: requirements.scheme, network: requirements.network, payload: ChannelPayloadWire(voucher))))
    }

    /// The `PAYMENT-SIGNATURE` header a v2 client sends: `requirements` echoed as `accepted`.
    public static func paymentSignature(_ voucher: PaymentUpdate, paying requirements: PaymentRequirements) -> HTTPHeaderField {
        HTTPHeaderField(Pay402Header.paymentSignature, JSONCodec.header(ProofV2Wire(
            x402Version: 2, accepted: RequirementsV2Wire(requirements), payload: ChannelPayloadWire(voucher))))
    }
}

private struct ProofHeadV1: Decodable { var x402Version: Int; var scheme: String }
private struct ProofHeadV2: Decodable {
    struct Scheme: Decodable { var scheme: String }
    var x402Version: Int
    var accepted: Scheme
}
struct ProofV1Wire: Codable { var x402Version: Int; var scheme: String; var network: String; var payload: ChannelPayloadWire }
struct ProofV2Wire<Accepted: Codable>: Codable { var x402Version: Int; var accepted: Accepted; var payload: ChannelPayloadWire }
/// What a v2 proof's `accepted` must carry; its other keys (`extra`, `maxTimeoutSeconds`) are not read.
struct AcceptedWire: Codable { var scheme: String; var network: String; var asset: String; var amount: String; var payTo: String }
