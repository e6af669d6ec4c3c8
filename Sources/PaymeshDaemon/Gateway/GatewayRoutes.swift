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
/// upstream's answer goes back with `X-PAYMENT-RESPONSE` / `PAYMENT-RESPONSE`. With an `L402Issuer`
/// (the node routes payments) the 402 answer also carries the L402 challenge and an
/// `Authorization: L402` credential is accepted (§10.1).
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
    let l402: L402Issuer?
    /// Prices (a client's agreed price, else the dynamic quote) and SLA measurements (Specs/negotiation.md §6–§7); nil: the listed price.
    let market: ServiceMarket?
    /// Metered answers waiting for their next paid step (§12.3).
    let metered: MeteredSessions
    /// Per-second answers streaming now, and the seconds one step of them buys (§12.6).
    let timed: TimedSessions
    let secondStep: UInt64

    public init(catalog: ServiceCatalog, payments: PaymentsService, payee: EthereumAddress, group: any EventLoopGroup,
                l402: L402Issuer? = nil, market: ServiceMarket? = nil, secondStep: UInt64 = TimedSessionBook.defaultStepSeconds) {
        precondition(TimedSessionBook.stepSecondsRange.contains(secondStep), "a per-second step is 1 … 60 s")
        self.catalog = catalog
        self.l402 = l402
        self.payments = payments
        self.payee = payee
        self.group = group
        self.market = market
        metered = MeteredSessions(payments: payments)
        timed = TimedSessions(payments: payments)
        self.secondStep = secondStep
    }

    public func register(on router: Router<BasicRequestContext>) {
        for method in Self.methods {
            router.on("/:service", method: method) { request, context in try await handle(request, context) }
            router.on("/:service/**", method: method) { request, context in try await handle(request, context) }
        }
        // CORS preflight (§3.4): a browser asks before it sends the proof headers; it is offered only
        // the methods the service declares (§10.1, "Capabilities"), every method when it declares none.
        for path: RouterPath in ["/:service", "/:service/**"] {
            router.on(path, method: .options) { _, context in
                guard let name = context.parameters.get("service"), let service = await catalog.service(named: name) else {
                    return Response(status: .notFound)
                }
                return Self.preflight(service)
            }
        }
    }

    /// What one request did, for the market's load and SLA figures (Specs/negotiation.md §6–§7).
    final class Meter {
        var service: SoldService?
        var client: EthereumAddress?
        var paid = false
        var failed = false
    }

    func handle(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let market else { return try await serve(request, context, Meter()) }
        let meter = Meter(), start = market.instant()
        let response: Response
        do { response = try await serve(request, context, meter) } catch {
            if let s = meter.service { await market.requestFinished(s, client: meter.client, latencyNanos: 0, failed: false, paid: false) }
            throw error
        }
        if let s = meter.service {
            await market.requestFinished(s, client: meter.client, latencyNanos: market.instant().nanoseconds &- start.nanoseconds,
                                         failed: meter.failed, paid: meter.paid)
        }
        return response
    }

    func serve(_ request: Request, _ context: BasicRequestContext, _ meter: Meter) async throws -> Response {
        guard let name = context.parameters.get("service"), let service = await catalog.service(named: name) else {
            return Response(status: .notFound)
        }
        // A method the service does not declare is refused before any proof is read or body taken
        // (§10.1, "Capabilities"): 405, not 402, so that no client pays for an answer it cannot get.
        guard service.allows(request.method.rawValue) else { return Self.methodNotDeclared(service, request.method.rawValue) }
        // The body is read (bounded) before any payment is taken: an oversize request costs nothing.
        var request = request
        let body: ByteBuffer
        do { body = try await request.collectBody(upTo: Self.maxRequestBody) } catch {
            return Response(status: .contentTooLarge, headers: Self.fields(PaymentChallenge.corsHeaders))
        }
        let resource = await catalog.url(of: name) ?? "/\(name)"
        let headers = request.headers.map { HTTPHeaderField($0.name.rawName, $0.value) }
        if let token = headers.first(where: { $0.name.lowercased() == MeteredHeader.continue.lowercased() })?.value {
            if service.unit == .second { return await topUpTimed(token, service, request, headers, resource: resource) }
            return await continueMetered(token, service, request, headers, resource: resource)
        }
        let unit = MeteredUnit(unit: service.unit.rawValue)
        let perSecond = service.unit == .second
        // The client is the payer of the channel its proof pays through: its agreed price applies (§6).
        if case .channel(let p)? = try? PaymentProof.parse(headers: headers) { meter.client = await payments.channelPayer(p.voucher.channelID) }
        let price = await market?.price(of: service, client: meter.client).price ?? service.price
        // Counted in flight once priced: a request does not raise its own price.
        await market?.requestStarted(name)
        meter.service = service
        let requirements = Self.requirements(service, price: price, resource: resource, payee: payee, secondStep: secondStep)
        // The receipt header of a channel-scheme payment; none for an L402 token (§1 step 5).
        var receipt: [HTTPHeaderField] = []
        var payingChannel: ChannelID?
        // A per-second answer is kept from before its proof is verified: a full book refuses it, nothing taken (§12.6).
        var timedToken: String?
        do throws(Pay402Error) {
            switch try PaymentProof.parse(headers: headers) {
            case nil:
                return await challenge(service, requirements, .noPayment)
            case .l402(let credential):
                guard let l402 else {
                    throw Pay402Error(.paymentSchemeMismatch, "this node does not offer L402 (it routes no payments)")
                }
                // A reusable token for one unit's price would buy metered answers without end (§12.2).
                guard unit == nil, !perSecond else { throw Pay402Error(.paymentSchemeMismatch, "a metered service is paid through a channel only") }
                // The request's capability is its method: a holder's `<S>_capabilities=` caveat must list it (§10.1).
                _ = try await l402.authorize(credential, service: name, capability: request.method.rawValue)
            case .channel(let proof):
                if perSecond {
                    let session = TimedSessionBook.Session(channel: proof.voucher.channelID, service: name, method: request.method.rawValue,
                                                           path: request.uri.description, unitPrice: price, stepSeconds: secondStep,
                                                           startMillis: timed.nowMillis())
                    guard let token = await timed.open(session) else {
                        throw Pay402Error(.rateLimited, "\(TimedSessionBook.maxSessions) per-second answers are streaming; retry later")
                    }
                    timedToken = token
                }
                let paid = try await payments.acceptHTTPPayment(proof, requirements: requirements)
                receipt = [paid.receiptHeader.header(x402Version: proof.x402Version)]
                payingChannel = proof.voucher.channelID
            }
        } catch {
            if let timedToken { await timed.close(timedToken) }
            return await challenge(service, requirements, error)
        }
        // Paid and durable (or a valid token): from here on the client's money is spent, so the
        // receipt goes back with whatever the upstream answers (502 when it does not).
        meter.paid = true
        meter.failed = true // until the upstream answers below 500
        guard let upstream = UpstreamURL(service.upstream) else { // checked when the service was added or loaded
            if let timedToken { await timed.close(timedToken) }
            return Response(status: .badGateway, headers: Self.fields(receipt))
        }
        let rest = String(request.uri.path.dropFirst(name.count + 1))
        let target = upstream.path + (rest.isEmpty ? "/" : rest) + (request.uri.query.map { "?" + $0 } ?? "")
        let forwarded = headers.filter { !Self.notForwarded.contains($0.name.lowercased()) && !Self.isL402Credential($0) }
            .map { ($0.name, $0.value) }
        if let timedToken {
            meter.failed = false
            return await timedAnswer(token: timedToken, upstream: upstream, target: target, method: request.method.rawValue, forwarded: forwarded,
                                     body: body.readableBytes > 0 ? body : nil, receipt: receipt)
        }
        do {
            let answer = try await UpstreamClient.send(method: request.method.rawValue, to: upstream, target: target, headers: forwarded,
                                                       body: body.readableBytes > 0 ? body : nil, group: group)
            var out = HTTPFields()
            for (n, v) in answer.headers where !Self.notReturned.contains(n.lowercased()) {
                if let field = HTTPField.Name(n) { out.append(HTTPField(name: field, value: v)) }
            }
            out.append(contentsOf: Self.fields(receipt + PaymentChallenge.corsHeaders))
            meter.failed = answer.status >= 500
            if let unit, let payingChannel {
                return await firstMeteredPage(answer, unit: unit, unitPrice: price, service: name, request: request,
                                              channel: payingChannel, receipt: receipt)
            }
            return Response(status: HTTPResponse.Status(code: answer.status), headers: out, body: ResponseBody(byteBuffer: answer.body))
        } catch {
            return Response(status: .badGateway, headers: Self.fields(receipt + PaymentChallenge.corsHeaders),
                            body: ResponseBody(byteBuffer: ByteBuffer(string: "the upstream failed; the payment stands (see the receipt)\n")))
        }
    }

    /// What one request to `service` costs (§10): the channel scheme on the local domain. `price` is
    /// the price of one unit; a metered service asks for its first step (§12.2).
    static func requirements(_ service: SoldService, price: UInt128? = nil, resource: String, payee: EthereumAddress,
                             secondStep: UInt64 = TimedSessionBook.defaultStepSeconds) -> PaymentRequirements {
        let unitPrice = price ?? service.price
        let metered = service.unit == .second ? (step: secondStep, unitPrice: unitPrice)
            : MeteredUnit(unit: service.unit.rawValue).map { (step: $0.stepUnits, unitPrice: unitPrice) }
        return PaymentRequirements.channel(price: metered.map { MeteredPrice.of(units: $0.step, unitPrice: unitPrice) ?? .max } ?? unitPrice,
                                           asset: service.asset.id, decimals: service.asset.decimals, unit: service.unit.rawValue,
                                           payee: payee, chainID: 0, resource: resource, description: service.description, metered: metered)
    }

    /// The 402 answer of §3 for `service`, with the L402 challenge when this node offers L402 and
    /// can make an invoice now (§10.1; without one the answer carries the x402 challenges only).
    func challenge(_ service: SoldService, _ requirements: PaymentRequirements, _ error: Pay402Error) async -> Response {
        let offer: L402Challenge?
        // No L402 for a metered service: its invoice would buy one unit with a reusable token (§12.2).
        if MeteredUnit(unit: service.unit.rawValue) != nil || service.unit == .second { return Self.challenge(requirements, error) }
        do throws(NodeError) { offer = try await l402?.challenge(for: service) } catch { offer = nil }
        return Self.challenge(requirements, l402: offer, error)
    }

    /// The refusal of a request whose method `service` does not declare (§10.1): `405` with `Allow`
    /// (its capabilities), `Paymesh-Error-Code: 1325` and the error in a JSON body; nothing is paid.
    /// `204` with the §3.4 headers and the methods `service` may be asked for.
    static func preflight(_ service: SoldService) -> Response {
        let methods = service.capabilities.isEmpty ? methods.map(\.rawValue) : service.capabilities
        return Response(status: .noContent, headers: fields(PaymentChallenge.corsHeaders
                                                            + [HTTPHeaderField("Access-Control-Allow-Methods", methods.joined(separator: ", "))]))
    }

    static func methodNotDeclared(_ service: SoldService, _ method: String) -> Response {
        let error = Pay402Error(.serviceNotAuthorized, "\(service.name) serves \(service.capabilities.joined(separator: ", ")), not this method")
        let allow = service.capabilities.joined(separator: ", ")
        let headers = [HTTPHeaderField("Content-Type", "application/json"), HTTPHeaderField("Allow", allow),
                       HTTPHeaderField(Pay402Header.errorCode, String(error.code.rawValue))] + PaymentChallenge.corsHeaders
        return Response(status: .methodNotAllowed, headers: fields(headers),
                        // Needs no JSON escaping: a service name is `A–Z a–z 0–9 . _ -`, capabilities are method tokens.
                        body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"error\":\"\(error.description)\"}")))
    }

    /// An `Authorization: L402 …` (or `LSAT`) header: the gateway's credential, never forwarded.
    static func isL402Credential(_ field: HTTPHeaderField) -> Bool {
        guard field.name.lowercased() == "authorization" else { return false }
        let scheme = field.value.prefix { $0 != " " }.lowercased()
        return scheme == "l402" || scheme == "lsat"
    }

    /// The 402 answer of §3 for `requirements`, with `error` naming why.
    static func challenge(_ requirements: PaymentRequirements, l402: L402Challenge? = nil, _ error: Pay402Error) -> Response {
        let c = PaymentChallenge(requirements: [requirements], l402: l402, error: error)
        return Response(status: HTTPResponse.Status(code: PaymentChallenge.status), headers: fields(c.headers),
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: c.body)))
    }

    static func fields(_ headers: [HTTPHeaderField]) -> HTTPFields {
        var out = HTTPFields()
        for h in headers { if let name = HTTPField.Name(h.name) { out.append(HTTPField(name: name, value: h.value)) } }
        return out
    }
}
