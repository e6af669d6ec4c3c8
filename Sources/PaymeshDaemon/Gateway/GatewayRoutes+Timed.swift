import Hummingbird
import HTTPTypes
import NIOCore
import PaymeshMessages
import PaymeshNode
import PaymeshPay402

/// Per-second services (Specs/http402.md §12.6): the first step of upstream time is paid with the
/// request; the upstream's answer is forwarded as it arrives while paid time remains (node's clock,
/// from the start of the upstream call); top-ups on another connection (`Paymesh-Continue` and a
/// voucher for one more step) extend it. When paid time runs out and no top-up comes within the
/// grace, the upstream call is closed and the answer ends with the `Paymesh-End` trailer.
extension GatewayRoutes {
    /// The answer to a paid first request of a per-second service. `token` names the session
    /// opened before the proof was verified.
    func timedAnswer(token: String, upstream: UpstreamURL, target: String, method: String, forwarded: [(String, String)],
                     body: ByteBuffer?, receipt: [HTTPHeaderField]) async -> Response {
        let stream: UpstreamStream
        do {
            stream = try await UpstreamStream.open(method: method, to: upstream, target: target, headers: forwarded, body: body, group: group)
        } catch {
            await timed.close(token)
            return Self.timedFailure(.badGateway, receipt, .upstreamFailed, "the upstream failed; the payment stands (see the receipt)\n")
        }
        let input = stream.input
        guard let session = await timed.start(token, wake: { input.yield(.tick) }) else {
            stream.close()
            return Self.timedFailure(.badGateway, receipt, .upstreamFailed, "the session was lost\n")
        }
        let events = EventReader(stream.events)
        // The upstream's head, within the first step (nobody can top up before it has the token).
        let head: (status: Int, headers: [(String, String)])? = await withTaskGroup(of: Void.self) { group in
            group.addTask { [timed] in
                try? await timed.sleep(untilMillis: session.paidUntil)
                input.yield(.tick)
            }
            defer { group.cancelAll() }
            while let event = await events.next() {
                switch event {
                case .head(let status, let headers): return (status, headers)
                case .body: continue
                case .end, .failed: return nil
                case .tick:
                    if case .forward = await timed.onTimer(token) { continue }
                    return nil
                }
            }
            return nil
        }
        guard let head else {
            stream.close()
            await timed.close(token)
            return Self.timedFailure(.gatewayTimeout, receipt, .unpaid, "the upstream sent no answer within the paid time\n")
        }
        var out = head.headers.filter { !Self.notReturned.contains($0.0.lowercased()) && !Self.meteredOwn.contains($0.0.lowercased())
            && !Self.timedOwn.contains($0.0.lowercased()) }
            .map { HTTPHeaderField($0.0, $0.1) }
        out += [HTTPHeaderField(MeteredHeader.upstreamStatus, String(head.status)),
                HTTPHeaderField(MeteredHeader.continue, token),
                HTTPHeaderField(MeteredHeader.nextPrice, String(session.stepPrice)),
                HTTPHeaderField(TimedHeader.secondsPaid, String(session.paidSeconds)),
                HTTPHeaderField(TimedHeader.step, String(session.stepSeconds)),
                HTTPHeaderField("Trailer", "\(TimedHeader.end), \(TimedHeader.servedMillis), \(TimedHeader.secondsPaid)")]
        out += receipt + PaymentChallenge.corsHeaders
        let sessions = self.timed
        let responseBody = ResponseBody { writer in
            let end = await Self.serveTimed(token: token, session: session, stream: stream, events: events, timed: sessions, writer: &writer)
            let last = await sessions.session(token)
            stream.close()
            await sessions.close(token)
            let served = sessions.nowMillis() &- session.startMillis
            try await writer.finish(Self.fields([HTTPHeaderField(TimedHeader.end, end.rawValue),
                                                 HTTPHeaderField(TimedHeader.servedMillis, String(min(served, (last?.paidUntil ?? session.paidUntil) &- session.startMillis))),
                                                 HTTPHeaderField(TimedHeader.secondsPaid, String(last?.paidSeconds ?? session.paidSeconds))]))
        }
        return Response(status: HTTPResponse.Status(code: head.status), headers: Self.fields(out), body: responseBody)
    }

    /// Forwards the upstream's answer while paid (§12.6): output after the paid time is held during
    /// the grace and goes out only when a top-up pays for it. Returns why the answer ended.
    static func serveTimed(token: String, session: TimedSessionBook.Session, stream: UpstreamStream, events: EventReader,
                           timed: TimedSessions, writer: inout any ResponseBodyWriter) async -> TimedEnd {
        let input = stream.input
        return await withTaskGroup(of: Void.self) { group in
            // Wakes the loop at each deadline (end of paid time, end of grace); top-ups wake it too.
            group.addTask {
                while !Task.isCancelled {
                    let now = timed.nowMillis()
                    let until: UInt64
                    switch await timed.onTimer(token) {
                    case .forward(let u), .hold(let u): until = max(u, now + 50)
                    case .stop: input.yield(.tick); return
                    }
                    do { try await timed.sleep(untilMillis: until) } catch { return }
                    input.yield(.tick)
                }
            }
            defer { group.cancelAll() }
            var held: [ByteBuffer] = []
            var upstreamDone: TimedEnd?
            stream.demand()
            while let event = await events.next() {
                var decision: TimedSessionBook.Decision
                switch event {
                case .head: continue
                case .body(let chunk):
                    decision = await timed.onOutput(token, bytes: chunk.readableBytes)
                    held.append(chunk)
                    stream.demand()
                case .end:
                    upstreamDone = .complete
                    decision = await timed.onTimer(token)
                case .failed:
                    upstreamDone = .upstreamFailed
                    decision = await timed.onTimer(token)
                case .tick:
                    decision = await timed.onTimer(token)
                }
                switch decision {
                case .forward:
                    do {
                        try await writer.write(contentsOf: held)
                    } catch { return .upstreamFailed }
                    held.removeAll()
                    await timed.release(token)
                    if let upstreamDone { return upstreamDone }
                case .hold:
                    if upstreamDone != nil, held.isEmpty { return upstreamDone! }
                case .stop(let end):
                    return end
                }
            }
            return upstreamDone ?? .upstreamFailed
        }
    }

    /// A top-up (§12.6): the session it names, a voucher through the session's channel paying one
    /// more step, then the paid time grows by a step. Any refusal takes nothing and adds nothing.
    func topUpTimed(_ token: String, _ service: SoldService, _ request: Request, _ headers: [HTTPHeaderField], resource: String) async -> Response {
        guard let session = await timed.beginTopUp(token, service: service.name, method: request.method.rawValue, path: request.uri.description) else {
            return Self.challenge(Self.requirements(service, resource: resource, payee: payee, secondStep: secondStep),
                                  Pay402Error(.meteredSessionUnknown, "no per-second answer streams under this token (ended, unknown or at its limit)"))
        }
        var requirements = Self.requirements(service, price: session.unitPrice, resource: resource, payee: payee, secondStep: session.stepSeconds)
        requirements.amount = session.stepPrice
        do throws(Pay402Error) {
            let proof = try Self.continuationProof(headers, channel: session.channel)
            let paid = try await payments.acceptHTTPPayment(proof, requirements: requirements)
            let now = await timed.finishTopUp(token, paid: true)
            var out = [HTTPHeaderField(MeteredHeader.continue, token), HTTPHeaderField(MeteredHeader.nextPrice, String(session.stepPrice)),
                       HTTPHeaderField(TimedHeader.secondsPaid, String(now?.paidSeconds ?? session.paidSeconds + session.stepSeconds)),
                       HTTPHeaderField(TimedHeader.step, String(session.stepSeconds))]
            out += [paid.receiptHeader.header(x402Version: proof.x402Version)] + PaymentChallenge.corsHeaders
            return Response(status: .ok, headers: Self.fields(out))
        } catch {
            await timed.finishTopUp(token, paid: false)
            var refusal = Self.challenge(requirements, error)
            refusal.headers.append(contentsOf: Self.fields([HTTPHeaderField(MeteredHeader.continue, token),
                                                            HTTPHeaderField(MeteredHeader.nextPrice, String(session.stepPrice))]))
            return refusal
        }
    }

    /// Headers of the upstream's answer the gateway replaces on a per-second answer.
    static let timedOwn: Set<String> = ["paymesh-seconds-paid", "paymesh-step-seconds", "paymesh-end", "paymesh-served-millis"]

    /// An answer that ends before the upstream's head could be forwarded: the receipt (the first step stands) and why.
    static func timedFailure(_ status: HTTPResponse.Status, _ receipt: [HTTPHeaderField], _ end: TimedEnd, _ text: String) -> Response {
        Response(status: status, headers: fields(receipt + PaymentChallenge.corsHeaders + [HTTPHeaderField(TimedHeader.end, end.rawValue)]),
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The one reader of an upstream stream's events, shared by the route (the head) and the body
/// writer (the rest): used by one task at a time.
final class EventReader: @unchecked Sendable {
    private var iterator: AsyncStream<UpstreamStream.Event>.Iterator

    init(_ events: AsyncStream<UpstreamStream.Event>) { iterator = events.makeAsyncIterator() }

    func next() async -> UpstreamStream.Event? {
        var it = iterator
        let event = await it.next()
        iterator = it
        return event
    }
}
