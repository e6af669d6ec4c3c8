public import Hummingbird
import HTTPTypes
import NIOCore
public import PaymeshCrypto
public import PaymeshNode
import PaymeshPay402

/// A2A for the services this node sells (Specs/a2a.md): `GET /.well-known/agent-card.json` (one
/// skill per per-call service, the a2a-x402 extension with the price list) and `POST /a2a`, the
/// JSON-RPC endpoint of paid skills. The protocol is `A2AEndpoint`'s; this group only performs its
/// steps on `A2AService`.
public struct A2ARoutes: HTTPRouteGroup {
    public static let cardPath = "/.well-known/agent-card.json"
    public static let endpointPath = "/a2a"

    let service: A2AService

    public init(catalog: ServiceCatalog, payments: PaymentsService, payee: EthereumAddress, group: any EventLoopGroup,
                clock: any NodeClock, random: NodeRandom, version: String) {
        service = A2AService(catalog: catalog, payments: payments, payee: payee, group: group, clock: clock, random: random,
                             version: version)
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.get("/.well-known/agent-card.json") { _, _ in
            Self.json(await service.card())
        }
        router.post("/a2a") { request, _ in
            var request = request
            let activated = request.headers[values: HTTPField.Name(A2AEndpoint.extensionHeader)!]
                .flatMap { $0.split(separator: ",") }
                .contains { uri in uri.filter { $0 != " " } == A2AEndpoint.extensionURI }
            let body: ByteBuffer
            do { body = try await request.collectBody(upTo: A2AEndpoint.maxBodyBytes) } catch {
                return Response(status: .contentTooLarge, headers: GatewayRoutes.fields(PaymentChallenge.corsHeaders))
            }
            var response = Self.json(await service.handle(Array(body.readableBytesView), extensionActivated: activated))
            if activated { response.headers[HTTPField.Name(A2AEndpoint.extensionHeader)!] = A2AEndpoint.extensionURI }
            return response
        }
        router.on("/a2a", method: .options) { _, _ in
            Response(status: .noContent, headers: GatewayRoutes.fields(PaymentChallenge.corsHeaders + [
                HTTPHeaderField("Access-Control-Allow-Methods", "POST"),
                HTTPHeaderField("Access-Control-Allow-Headers", "Content-Type, \(A2AEndpoint.extensionHeader)")]))
        }
    }

    static func json(_ bytes: [UInt8]) -> Response {
        var headers = GatewayRoutes.fields(PaymentChallenge.corsHeaders)
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}

/// The driver of `A2AEndpoint`: holds the task table, verifies and persists payments through the
/// payments service exactly as the gateway does, then calls the skill's upstream.
public actor A2AService {
    let catalog: ServiceCatalog
    let payments: PaymentsService
    let payee: EthereumAddress
    let group: any EventLoopGroup
    let clock: any NodeClock
    let random: NodeRandom
    let version: String
    private var endpoint = A2AEndpoint()
    /// The method a skill's upstream is called with (Specs/a2a.md §4).
    static let skillMethod = "POST"

    init(catalog: ServiceCatalog, payments: PaymentsService, payee: EthereumAddress, group: any EventLoopGroup, clock: any NodeClock,
         random: NodeRandom, version: String) {
        self.catalog = catalog
        self.payments = payments
        self.payee = payee
        self.group = group
        self.clock = clock
        self.random = random
        self.version = version
    }

    /// Every per-call service as a skill, priced exactly as the gateway prices a request to it.
    func skills() async -> [A2ASkill] {
        var skills: [A2ASkill] = []
        // A skill runs as `POST <upstream>/` (Specs/a2a.md §4): a service that does not declare POST is no skill.
        for s in await catalog.list() where s.unit == .call && s.allows(A2AService.skillMethod) {
            let resource = await catalog.url(of: s.name) ?? "/\(s.name)"
            skills.append(A2ASkill(name: s.name, description: s.description,
                                   requirements: GatewayRoutes.requirements(s, resource: resource, payee: payee), decimals: s.asset.decimals))
        }
        return skills
    }

    func card() async -> [UInt8] {
        let base = await catalog.gatewayBase ?? ""
        return A2AEndpoint.agentCard(name: "Paymesh node \(payee)", description: "Services sold by a Paymesh node, paid through payment channels.",
                                     url: base + A2ARoutes.endpointPath, version: version, skills: await skills())
    }

    func handle(_ body: [UInt8], extensionActivated: Bool) async -> [UInt8] {
        let skills = await skills()
        let step = endpoint.onRequest(body, extensionActivated: extensionActivated, skills: skills,
                                      freshID: random.bytes(16).hexString, now: clock.unixMillis)
        guard case .pay(let pending) = step else {
            if case .reply(let bytes) = step { return bytes }
            preconditionFailure("a step is a reply or a payment")
        }
        // The service may have changed since the task was opened: a skill that no longer takes POST is
        // refused before the payment is taken (Specs/http402.md §10.1, "Capabilities").
        guard await catalog.service(named: pending.task.skill)?.allows(Self.skillMethod) == true else {
            return endpoint.onRefused(pending, Pay402Error(.serviceNotAuthorized, "\(pending.task.skill) is no longer sold as a skill (POST)"))
        }
        // Verified and persisted as a voucher from the wire, before the skill runs (Specs/a2a.md §4).
        let paid: HTTPPayment
        do throws(Pay402Error) { paid = try await payments.acceptHTTPPayment(pending.proof, requirements: pending.task.requirements) } catch {
            return endpoint.onRefused(pending, error)
        }
        endpoint.onPaid(pending, receipt: paid.receiptHeader)
        guard let service = await catalog.service(named: pending.task.skill), let upstream = UpstreamURL(service.upstream) else {
            return endpoint.onSkillResult(pending, status: nil, body: [])
        }
        do {
            let answer = try await UpstreamClient.send(method: Self.skillMethod, to: upstream, target: upstream.path + "/",
                                                       headers: [("Content-Type", "text/plain; charset=utf-8")],
                                                       body: ByteBuffer(string: pending.task.input), group: group)
            return endpoint.onSkillResult(pending, status: answer.status, body: Array(answer.body.readableBytesView))
        } catch {
            return endpoint.onSkillResult(pending, status: nil, body: [])
        }
    }
}
