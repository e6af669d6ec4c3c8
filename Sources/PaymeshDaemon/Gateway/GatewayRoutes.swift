public import Hummingbird
import HTTPTypes
import NIOCore
public import PaymeshCrypto
import PaymeshMessages
public import PaymeshNode
import PaymeshPay402

/// The HTTP 402 gateway (Specs/http402.md §10): `/<service>/…` for every service of the
/// `ServiceCatalog`. A request without a valid payment gets the 402 answer with every scheme at
/// once (§3); a Paymesh channel-scheme proof is verified and persisted by the payments service
/// (`acceptHTTPPayment`, as a voucher from the wire) **before** the upstream is called; the
/// upstream's answer goes back with `X-PAYMENT-RESPONSE` / `PAYMENT-RESPONSE`.
public struct GatewayRoutes: HTTPRouteGroup {
    /// A request body larger than this is refused (413) before any payment is read.
    public static let maxRequestBody = 1_024 * 1_024
    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete]
    /// Request headers not forwarded upstream: the payment proofs and hop-by-hop headers.
    static let notForwarded: Set<String> = ["x-payment", "payment-signature", "host", "connection", "content-length",
                                            "transfer-encoding", "keep-alive", "upgrade", "te", "trailer", "proxy-connection"]
    /// Upstream answer headers not forwarded: hop-by-hop (the listener writes its own framing).
    static let notReturned: Set<String> = ["connection", "content-length", "transfer-encoding", "keep-alive", "upgrade", "te", "trailer"]

    let catalog: ServiceCatalog
    let payments: PaymentsService
    let payee: EthereumAddress
    let group: any EventLoopGroup

    public init(catalog: ServiceCatalog, payments: PaymentsService, payee: EthereumAddress, group: any EventLoopGroup) {
        self.catalog = catalog
        self.payments = payments
        self.payee = payee
        self.group = group
    }

    public func register(on router: Router<BasicRequestContext>) {
        for method in Self.methods {
            router.on("/:service", method: method) { request, context in try await handle(request, context) }
            router.on("/:service/**", method: method) { request, context in try await handle(request, context) }
        }
        // CORS preflight (§3.4): a browser asks before it sends the proof headers.
        for path: RouterPath in ["/:service", "/:service/**"] {
            router.on(path, method: .options) { _, _ in
                Response(status: .noContent, headers: Self.fields(PaymentChallenge.corsHeaders + [HTTPHeaderField("Access-Control-Allow-Methods", "GET, HEAD, POST, PUT, PATCH, DELETE")]))
            }
        }
    }

    func handle(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let name = context.parameters.get("service"), let service = await catalog.service(named: name) else {
            return Response(status: .notFound)
        }
        // The body is read (bounded) before any payment is taken: an oversize request costs nothing.
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: Self.maxRequestBody) } catch {
            return Response(status: .contentTooLarge, headers: Self.fields(PaymentChallenge.corsHeaders))
        }
        let resource = await catalog.url(of: name) ?? "/\(name)"
        let requirements = PaymentRequirements.channel(price: service.price, asset: service.asset.id, decimals: service.asset.decimals,
                                                       unit: service.unit.rawValue, payee: payee, chainID: 0,
                                                       resource: resource, description: service.description)
        let headers = request.headers.map { HTTPHeaderField($0.name.rawName, $0.value) }
        let paid: HTTPPayment
        let version: Int
        do throws(Pay402Error) {
            switch try PaymentProof.parse(headers: headers) {
            case nil:
                return Self.challenge(requirements, .noPayment)
            case .l402:
                throw Pay402Error(.paymentSchemeMismatch, "this gateway does not offer L402 yet")
            case .channel(let proof):
                version = proof.x402Version
                paid = try await payments.acceptHTTPPayment(proof, requirements: requirements)
            }
        } catch {
            return Self.challenge(requirements, error)
        }
        // Paid and durable: from here on the client's money is spent, so the receipt goes back
        // with whatever the upstream answers (502 when it does not).
        let receipt = paid.receiptHeader.header(x402Version: version)
        guard let upstream = UpstreamURL(service.upstream) else { // checked when the service was added or loaded
            return Response(status: .badGateway, headers: Self.fields([receipt]))
        }
        let rest = String(request.uri.path.dropFirst(name.count + 1))
        let target = upstream.path + (rest.isEmpty ? "/" : rest) + (request.uri.query.map { "?" + $0 } ?? "")
        let forwarded = headers.filter { !Self.notForwarded.contains($0.name.lowercased()) }.map { ($0.name, $0.value) }
        do {
            let answer = try await UpstreamClient.send(method: request.method.rawValue, to: upstream, target: target, headers: forwarded,
                                                       body: body.readableBytes > 0 ? body : nil, group: group)
            var out = HTTPFields()
            for (n, v) in answer.headers where !Self.notReturned.contains(n.lowercased()) {
                if let field = HTTPField.Name(n) { out.append(HTTPField(name: field, value: v)) }
            }
            out.append(contentsOf: Self.fields([receipt] + PaymentChallenge.corsHeaders))
            return Response(status: HTTPResponse.Status(code: answer.status), headers: out, body: ResponseBody(byteBuffer: answer.body))
        } catch {
            return Response(status: .badGateway, headers: Self.fields([receipt] + PaymentChallenge.corsHeaders),
                            body: ResponseBody(byteBuffer: ByteBuffer(string: "the upstream failed; the payment stands (see the receipt)\n")))
        }
    }

    /// The 402 answer of §3 for `requirements`, with `error` naming why.
    static func challenge(_ requirements: PaymentRequirements, _ error: Pay402Error) -> Response {
        let c = PaymentChallenge(requirements: [requirements], error: error)
        return Response(status: HTTPResponse.Status(code: PaymentChallenge.status), headers: fields(c.headers),
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: c.body)))
    }

    static func fields(_ headers: [HTTPHeaderField]) -> HTTPFields {
        var out = HTTPFields()
        for h in headers { if let name = HTTPField.Name(h.name) { out.append(HTTPField(name: name, value: h.value)) } }
        return out
    }
}
