public import Hummingbird
import HTTPTypes
import NIOCore
public import PaymeshCrypto
public import PaymeshNode
import PaymeshPay402
public import Logging

/// A2A for the services this node sells (Specs/a2a.md): `GET /.well-known/agent-card.json` (one
/// skill per per-call service, the a2a-x402 extension with the price list) and `POST /a2a`, the
/// JSON-RPC endpoint of paid skills. The protocol is `A2AEndpoint`'s; this group only performs its
/// steps on `A2AService`.
public struct A2ARoutes: HTTPRouteGroup {
    public static let cardPath = "/.well-known/agent-card.json"
    public static let endpointPath = "/a2a"

    let service: A2AService

    /// `files`: the durable task records (Specs/a2a.md §4); call `service.recover()` before serving.
    public init(catalog: ServiceCatalog, payments: PaymentsService, payee: EthereumAddress, group: any EventLoopGroup,
                clock: any NodeClock, random: NodeRandom, version: String, files: A2ATaskFiles, logger: Logger) {
        service = A2AService(catalog: catalog, payments: payments, payee: payee, group: group, clock: clock, random: random,
                             version: version, files: files, logger: logger)
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
/// payments service exactly as the gateway does, then calls the skill's upstream. The record of a
/// task with a payment is written (`A2ATaskFiles`) before the payment is verified, once it is
/// accepted, and once the skill answered — each before the node answers for it (Specs/a2a.md §4).
public actor A2AService {
    let catalog: ServiceCatalog
    let payments: PaymentsService
    let payee: EthereumAddress
    let group: any EventLoopGroup
    let clock: any NodeClock
    let random: NodeRandom
    let version: String
    let files: A2ATaskFiles
    let logger: Logger
    private var endpoint = A2AEndpoint()
    /// The method a skill's upstream is called with (Specs/a2a.md §4).
    static let skillMethod = "POST"

    init(catalog: ServiceCatalog, payments: PaymentsService, payee: EthereumAddress, group: any EventLoopGroup, clock: any NodeClock,
         random: NodeRandom, version: String, files: A2ATaskFiles, logger: Logger) {
        self.files = files
        self.logger = logger
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

    /// At start, before serving: reads the task records back; a task that was `working` when the
    /// node stopped ends `failed` with its payment's receipt when the channel holds its voucher
    /// (the skill is not run again), or waits for a payment again when it does not (Specs/a2a.md §4).
    /// A record that does not decode refuses the start, naming the file.
    func recover() async throws(NodeError) {
        var tasks: [A2ATaskBook.Task] = []
        for (id, bytes) in try files.loadAll(maxBytes: A2AEndpoint.maxRecordBytes) {
            do throws(Pay402Error) {
                let task = try A2AEndpoint.task(fromRecord: bytes)
                guard task.id == id else { throw Pay402Error(.a2aRequestMalformed, "it holds task \(task.id)") }
                tasks.append(task)
            } catch {
                throw .configuration("the A2A task record \(files.directory)/\(id).json is damaged: \(error)")
            }
        }
        for id in endpoint.restore(tasks) { try files.delete(id) }
        for task in endpoint.interruptedTasks {
            var receipt = task.receipt
            if receipt == nil, let proof = task.proof { receipt = try await payments.storedHTTPPayment(proof)?.receiptHeader.settleResponse }
            endpoint.interrupted(task.id, receipt: receipt)
            if receipt == nil { try files.delete(task.id) } else { try persist(task.id) }
            logger.warning("a2a task interrupted by a restart", metadata: ["task": "\(task.id)", "paid": "\(receipt != nil)"])
        }
        if !tasks.isEmpty { logger.info("a2a tasks restored", metadata: ["count": "\(tasks.count)"]) }
    }

    /// Writes task `id`'s record (a task with a payment) durably.
    private func persist(_ id: String) throws(NodeError) {
        guard let record = endpoint.record(id) else { return }
        try files.save(id, record)
    }

    /// Deletes the records of the tasks the book evicted (a failed delete is logged: the record is
    /// evicted again at the next start).
    private func dropEvicted() {
        for id in endpoint.takeEvicted() {
            do { try files.delete(id) } catch { logger.error("a2a task record not deleted", metadata: ["task": "\(id)", "error": "\(error)"]) }
        }
    }

    func handle(_ body: [UInt8], extensionActivated: Bool) async -> [UInt8] {
        let skills = await skills()
        let step = endpoint.onRequest(body, extensionActivated: extensionActivated, skills: skills,
                                      freshID: random.bytes(16).hexString, now: clock.unixMillis)
        dropEvicted()
        guard case .pay(let pending) = step else {
            if case .reply(let bytes) = step { return bytes }
            preconditionFailure("a step is a reply or a payment")
        }
        // The service may have changed since the task was opened: a skill that no longer takes POST is
        // refused before the payment is taken (Specs/http402.md §10.1, "Capabilities").
        guard await catalog.service(named: pending.task.skill)?.allows(Self.skillMethod) == true else {
            return endpoint.onRefused(pending, Pay402Error(.serviceNotAuthorized, "\(pending.task.skill) is no longer sold as a skill (POST)"))
        }
        // The task names its voucher durably before the voucher can be stored: after a kill -9 the
        // restart finds it and learns from the channel whether it was paid (Specs/a2a.md §4).
        do { try persist(pending.task.id) } catch {
            return endpoint.onRefused(pending, Pay402Error(.internalError, "the task could not be stored: \(error)"))
        }
        // Verified and persisted as a voucher from the wire, before the skill runs (Specs/a2a.md §4).
        let paid: HTTPPayment
        do throws(Pay402Error) { paid = try await payments.acceptHTTPPayment(pending.proof, requirements: pending.task.requirements) } catch {
            let answer = endpoint.onRefused(pending, error)
            do { try files.delete(pending.task.id) } catch { logger.error("a2a task record not deleted", metadata: ["error": "\(error)"]) }
            return answer
        }
        endpoint.onPaid(pending, receipt: paid.receiptHeader)
        saveOrLog(pending.task.id)
        let answer: [UInt8]
        if let service = await catalog.service(named: pending.task.skill), let upstream = UpstreamURL(service.upstream) {
            do {
                let reply = try await UpstreamClient.send(method: Self.skillMethod, to: upstream, target: upstream.path + "/",
                                                          headers: [("Content-Type", "text/plain; charset=utf-8")],
                                                          body: ByteBuffer(string: pending.task.input), group: group)
                answer = endpoint.onSkillResult(pending, status: reply.status, body: Array(reply.body.readableBytesView))
            } catch {
                answer = endpoint.onSkillResult(pending, status: nil, body: [])
            }
        } else {
            answer = endpoint.onSkillResult(pending, status: nil, body: [])
        }
        saveOrLog(pending.task.id)
        return answer
    }

    /// After the payment is durable a failed record write refuses nothing (the money is in the
    /// channel; a restart rebuilds the receipt from it): it is logged.
    private func saveOrLog(_ id: String) {
        do { try persist(id) } catch { logger.error("a2a task record not written", metadata: ["task": "\(id)", "error": "\(error)"]) }
    }
}
