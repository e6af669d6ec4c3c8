import Hummingbird
import HTTPTypes
import NIOCore
import PaymeshMessages
import PaymeshNode
import PaymeshPay402

/// Metered services (Specs/http402.md §12): the upstream's answer is served in steps, each paid
/// before it is sent. The first step is paid with the request (§12.2, the usual §4.3 proof for
/// the first step's price); the rest of the answer waits in `MeteredSessions` for continuations
/// (`Paymesh-Continue` and a voucher paying exactly the next step, §12.3).
extension GatewayRoutes {
    /// The answer to a paid first request: the first step's units, and a continuation when more remain.
    func firstMeteredPage(_ answer: UpstreamResponse, unit: MeteredUnit, unitPrice: UInt128, service: String, request: Request,
                          channel: ChannelID, receipt: [HTTPHeaderField]) async -> Response {
        let headers = answer.headers.filter { !Self.notReturned.contains($0.0.lowercased()) && !Self.meteredOwn.contains($0.0.lowercased()) }
            .map { HTTPHeaderField($0.0, $0.1) }
        var session = MeteredSessionBook.Session(channel: channel, service: service, method: request.method.rawValue,
                                                 path: request.uri.description, status: answer.status, headers: headers,
                                                 body: MeteredBody(Array(answer.body.readableBytesView), unit: unit),
                                                 unitPrice: unitPrice, served: 0)
        let to = min(unit.stepUnits, session.body.totalUnits)
        var token: String?
        if to < session.body.totalUnits {
            session.served = to
            token = await metered.open(session) // nil: not kept (bounds); the answer ends here, and says how much is missing
            session.served = 0
        }
        return Self.page(session, to: to, continuation: token, receipt: receipt)
    }

    /// A continuation (§12.3): the session it names, a voucher through the session's channel paying
    /// the next step's exact price, then that step's units. Any refusal takes nothing and serves nothing.
    func continueMetered(_ token: String, _ service: SoldService, _ request: Request, _ headers: [HTTPHeaderField],
                         resource: String) async -> Response {
        guard let session = await metered.begin(token, service: service.name, method: request.method.rawValue, path: request.uri.description) else {
            return Self.challenge(Self.requirements(service, resource: resource, payee: payee),
                                  Pay402Error(.meteredSessionUnknown, "no metered answer waits under this continuation token"))
        }
        var requirements = Self.requirements(service, price: session.unitPrice, resource: resource, payee: payee)
        requirements.amount = session.nextPrice
        do throws(Pay402Error) {
            let proof = try Self.continuationProof(headers, channel: session.channel)
            let paid = try await payments.acceptHTTPPayment(proof, requirements: requirements)
            let to = session.served + session.nextUnits
            await metered.finish(token, served: to)
            return Self.page(session, to: to, continuation: to < session.body.totalUnits ? token : nil,
                             receipt: [paid.receiptHeader.header(x402Version: proof.x402Version)])
        } catch {
            await metered.finish(token, served: nil)
            var refusal = Self.challenge(requirements, error)
            refusal.headers.append(contentsOf: Self.fields([HTTPHeaderField(MeteredHeader.continue, token),
                                                            HTTPHeaderField(MeteredHeader.nextPrice, String(session.nextPrice))]))
            return refusal
        }
    }

    /// The proof of a continuation or top-up (§12.3 step 2, §12.6): a channel-scheme voucher through
    /// the channel that paid the first step (none or L402: 1301; another channel: 1321).
    static func continuationProof(_ headers: [HTTPHeaderField], channel: ChannelID) throws(Pay402Error) -> ChannelSchemeProof {
        guard case .channel(let proof)? = try PaymentProof.parse(headers: headers) else {
            throw Pay402Error(.paymentRequired, "a continuation is paid with a channel-scheme voucher")
        }
        guard proof.voucher.channelID == channel else {
            throw Pay402Error(.paymentSchemeMismatch, "a continuation is paid through the channel that paid the first step")
        }
        return proof
    }

    /// Headers of the upstream's answer the gateway replaces on a metered page.
    static let meteredOwn: Set<String> = ["content-range", "paymesh-continue", "paymesh-next-price", "paymesh-units", "paymesh-units-from",
                                          "paymesh-units-total", "paymesh-upstream-status"]

    /// Units `session.served ..< to` of the answer (§12.3): the upstream's status when this one page is
    /// the whole answer, else 206; the unit counts; the continuation and the next step's price when
    /// one is offered.
    static func page(_ session: MeteredSessionBook.Session, to: UInt64, continuation: String?, receipt: [HTTPHeaderField]) -> Response {
        let from = session.served, total = session.body.totalUnits
        var out = session.headers
        out += [HTTPHeaderField(MeteredHeader.upstreamStatus, String(session.status)),
                HTTPHeaderField(MeteredHeader.units, String(to - from)),
                HTTPHeaderField(MeteredHeader.unitsFrom, String(from)),
                HTTPHeaderField(MeteredHeader.unitsTotal, String(total))]
        if let continuation {
            var next = session
            next.served = to
            out += [HTTPHeaderField(MeteredHeader.continue, continuation), HTTPHeaderField(MeteredHeader.nextPrice, String(next.nextPrice))]
        }
        out += receipt + PaymentChallenge.corsHeaders
        let whole = from == 0 && to == total
        return Response(status: whole ? HTTPResponse.Status(code: session.status) : .partialContent, headers: fields(out),
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: session.body.page(from ..< to))))
    }
}
