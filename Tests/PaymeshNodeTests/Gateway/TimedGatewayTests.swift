import Foundation
import PaymeshConsole
import PaymeshCrypto
import PaymeshDaemon
import PaymeshHostile
import PaymeshMessages
import PaymeshNode
import PaymeshPay402
import PaymeshTestSupport
import Testing

/// A per-second service on a real gateway node (Specs/http402.md §12.6): `ticks` sells upstream
/// time at 5 atomic units per second in steps of 1 s (the node's `secondStep`); the test upstream's
/// `slow/<n>/<ms>` streams a line every ms milliseconds. Hostile clients first: a bad first proof
/// never reaches the upstream; every refused top-up takes nothing and adds no time; when paid time
/// runs out the upstream call is closed and the answer ends with `Paymesh-End: unpaid`.
@Suite(.serialized) struct TimedGatewayTests {
    static let price: UInt128 = 5

    static func setUp() async throws -> GatewayTests.Setup { try await MeteredGatewayTests.setUp([("ticks", "second", price)], secondStep: 1) }

    /// A streamed answer read raw: its head as soon as it arrives, then the dechunked body and the trailers.
    final class StreamedReply: @unchecked Sendable {
        let fd: Int32
        var status = 0
        var headers: [String: String] = [:]
        var rest: [UInt8] = []

        init(_ endpoint: PeerEndpoint, _ path: String, _ extra: [HTTPHeaderField]) throws {
            fd = try HTTPGet.connected(endpoint)
            let lines = extra.map { "\($0.name): \($0.value)\r\n" }.joined()
            let request = Array("GET \(path) HTTP/1.1\r\nHost: \(endpoint)\r\nConnection: close\r\n\(lines)\r\n".utf8)
            guard write(fd, request, request.count) == request.count else { throw NodeError.internalError("write") }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = read(fd, &chunk, chunk.count)
                guard n > 0 else { throw NodeError.internalError("no head") }
                rest += chunk[0..<n]
                if let end = Self.find(Array("\r\n\r\n".utf8), in: rest) {
                    let head = String(decoding: rest[..<end], as: UTF8.self).split(separator: "\r\n")
                    status = Int(head[0].split(separator: " ")[1]) ?? 0
                    for line in head.dropFirst() {
                        guard let colon = line.firstIndex(of: ":") else { continue }
                        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    }
                    rest = Array(rest[(end + 4)...])
                    return
                }
            }
        }

        /// Reads to the end: the body and the trailers of the chunked answer.
        func finish() -> (body: String, trailers: [String: String]) {
            defer { close(fd) }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let n = read(fd, &chunk, chunk.count)
                guard n > 0 else { break }
                rest += chunk[0..<n]
            }
            var body: [UInt8] = [], i = 0, trailers: [String: String] = [:]
            while let lineEnd = Self.find(Array("\r\n".utf8), in: Array(rest[i...])).map({ $0 + i }),
                  let size = Int(String(decoding: rest[i..<lineEnd], as: UTF8.self), radix: 16) {
                i = lineEnd + 2
                if size == 0 {
                    for line in String(decoding: rest[i...], as: UTF8.self).split(separator: "\r\n") {
                        guard let colon = line.firstIndex(of: ":") else { continue }
                        trailers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    }
                    break
                }
                body += rest[i..<min(i + size, rest.count)]
                i += size + 2
            }
            return (String(decoding: body, as: UTF8.self), trailers)
        }

        static func find(_ needle: [UInt8], in hay: [UInt8]) -> Int? {
            guard hay.count >= needle.count else { return nil }
            for i in 0...(hay.count - needle.count) where Array(hay[i..<(i + needle.count)]) == needle { return i }
            return nil
        }
    }

    /// The per-second wire format read by an independent client written from Specs/http402.md §12.6
    /// alone (`scripts/http402/check_timed_wire.py`: raw sockets, the chunked body and its trailers,
    /// top-ups on another connection): 1.5 s of upstream output in steps of 1 s, complete; the
    /// gateway's channel received exactly what the script says it paid, and the upstream was called once.
    @Test func perSecondWireReadByAnIndependentClient() async throws {
        let s = try await Self.setUp()
        let keyHex = s.payerKey.privateKey.withUnsafeRawRepresentation { Array($0).hexString }
        let run = try await runPythonScript("scripts/http402/check_timed_wire.py",
                                            ["\(s.http)", "/ticks/slow/15/100", keyHex, s.channel.description, "0", "0", "15", "4"])
        let stdout = run.stdout, stderr = run.stderr
        #expect(run.status == 0, "python exited \(run.status)\n\(stdout)\n\(stderr)")
        let summary = try #require(stdout.split(separator: "\n").last { $0.hasPrefix("timed wire checks:") }, "\(stdout)\n\(stderr)")
        let paid = try #require(summary.split(separator: " ").drop { $0 != "paid" }.dropFirst().first.map(String.init))
        // 1.5 s of output needs 2 steps of 1 s; a third may go when the last half second is reached first.
        #expect(["10", "15"].contains(paid), "\(summary)")
        #expect(try await MeteredGatewayTests.received(s) == paid, "the gateway received what the client paid: \(summary)")
        #expect(s.upstream.calls == 1)

        await s.gateway.stop()
        await s.payer.stop()
        await s.upstream.stop()
    }

    @Test func perSecondServingStopsWhenUnpaidAndHostileTopUpsTakeNothing() async throws {
        let s = try await Self.setUp()
        let reqs = PaymentRequirements.channel(price: Self.price, asset: "USDC", decimals: 6, unit: "second", payee: s.gateway.started.id,
                                               chainID: 0, resource: "http://\(s.http)/ticks", description: "ticks", metered: (1, Self.price))
        func pay(_ nonce: UInt64, _ amount: UInt128, key: IdentityKey? = nil) throws -> HTTPHeaderField {
            ChannelSchemeProof.xPayment(try s.voucher(nonce: nonce, amount: amount, key: key), paying: reqs)
        }
        let path = "/ticks/slow/100/100"  // 100 lines, one every 100 ms: 10 s of upstream time

        // Unpaid: one step of 1 s at 5 per second; no L402.
        let unpaid = try await MeteredGatewayTests.get(s, path, [])
        #expect(unpaid.status == 402 && unpaid.headers["www-authenticate"] == nil)
        let accepts = try #require((try JSONSerialization.jsonObject(with: Data(unpaid.body.utf8)) as? [String: Any])?["accepts"] as? [[String: Any]])
        #expect(accepts.first?["maxAmountRequired"] as? String == "5")
        let extra = try #require(accepts.first?["extra"] as? [String: Any])
        #expect(extra["unit"] as? String == "second" && extra["step"] as? String == "1" && extra["unitPrice"] as? String == "5")

        // Bad first proofs never reach the upstream and take nothing.
        #expect(try await MeteredGatewayTests.get(s, path, [try pay(1, 4)]).headers["paymesh-error-code"] == "1302")
        #expect(try await MeteredGatewayTests.get(s, path, [try pay(1, 5, key: IdentityKey.generate())]).headers["paymesh-error-code"] == "1101")
        #expect(try await MeteredGatewayTests.get(s, path, [HTTPHeaderField(MeteredHeader.continue, "00ff"), try pay(1, 5)])
            .headers["paymesh-error-code"] == "1326")
        #expect(s.upstream.calls == 0)
        #expect(try await MeteredGatewayTests.received(s) == "0")

        // A second channel of the payer, to pay a top-up through the wrong channel.
        let opened = try await s.payer.call("channel.open", ["peer": .string(s.gateway.started.id.description), "asset": "USDC", "deposit": "10000"])
        let other = try ChannelID(hex: try #require(opened["channel"]?.stringValue))

        // The first step: the head at once, with the token, the step's price and 1 s paid.
        let http = s.http, first = try pay(1, 5)
        let started = Date()
        let reply = try await offload("timed-head") { try StreamedReply(http, path, [first]) }
        #expect(reply.status == 200)
        #expect(reply.headers["paymesh-seconds-paid"] == "1" && reply.headers["paymesh-step-seconds"] == "1")
        #expect(reply.headers["paymesh-next-price"] == "5" && reply.headers["x-payment-response"] != nil)
        #expect(reply.headers["content-type"] == "text/event-stream")
        let token = try #require(reply.headers["paymesh-continue"])
        #expect(s.upstream.calls == 1)

        // Hostile top-ups while it streams, on another connection: each takes nothing and adds no time.
        let cont = MeteredHeader.continue
        let hostile: [(String, String, [HTTPHeaderField], String)] = [
            ("replayed voucher", path, [HTTPHeaderField(cont, token), first], "1323"),
            ("below the step", path, [HTTPHeaderField(cont, token), try pay(2, 9)], "1302"),
            ("forged", path, [HTTPHeaderField(cont, token), try pay(2, 10, key: IdentityKey.generate())], "1101"),
            ("above the deposit", path, [HTTPHeaderField(cont, token), try pay(2, 10_001)], "1100"),
            ("another path", "/ticks/slow/100/99", [HTTPHeaderField(cont, token), try pay(2, 10)], "1326"),
            ("unknown token", path, [HTTPHeaderField(cont, "00ff"), try pay(2, 10)], "1326"),
            ("another channel", path, [HTTPHeaderField(cont, token),
                                        ChannelSchemeProof.xPayment(try s.voucher(nonce: 1, amount: 10, channel: other), paying: reqs)], "1321"),
        ]
        for (what, p, headers, code) in hostile {
            let r = try await MeteredGatewayTests.get(s, p, headers)
            #expect(r.status == 402 && r.headers["paymesh-error-code"] == code, "\(what): \(r.body)")
        }
        #expect(try await MeteredGatewayTests.received(s) == "5")

        // One good top-up: 2 s paid in all.
        let topUp = try await MeteredGatewayTests.get(s, path, [HTTPHeaderField(cont, token), try pay(2, 10)])
        #expect(topUp.status == 200 && topUp.headers["paymesh-seconds-paid"] == "2" && topUp.headers["x-payment-response"] != nil)
        #expect(try await MeteredGatewayTests.received(s) == "10")

        // No more top-ups: the answer ends after 2 s of upstream time (plus the 1 s grace, during
        // which nothing is forwarded), the upstream call is closed, the trailer says why.
        let (body, trailers) = try await offload("timed-body") { reply.finish() }
        let elapsed = Date().timeIntervalSince(started)
        let lines = body.split(separator: "\n")
        #expect(trailers["paymesh-end"] == "unpaid" && trailers["paymesh-seconds-paid"] == "2", "\(trailers)")
        #expect(lines.count >= 15 && lines.count <= 20, "2 s of one line per 100 ms: \(lines.count) lines")
        #expect(lines.enumerated().allSatisfy { $0.element == "tick \($0.offset)" })
        #expect(Int(trailers["paymesh-served-millis"] ?? "") ?? .max <= 2_000)
        #expect(elapsed >= 2.9 && elapsed < 6, "ended at \(elapsed) s")
        // The upstream notices the closed call at its next write (asynchronously).
        #expect(try await eventually { s.upstream.closedEarly == 1 })
        // Ended: a late top-up is refused and not taken.
        #expect(try await MeteredGatewayTests.get(s, path, [HTTPHeaderField(cont, token), try pay(3, 15)]).headers["paymesh-error-code"] == "1326")
        #expect(try await MeteredGatewayTests.received(s) == "10")

        // A short answer inside the first step is served whole: `complete`.
        let short = try pay(3, 15)
        let whole = try await offload("timed-short") { try StreamedReply(http, "/ticks/slow/3/50", [short]) }
        let (shortBody, shortTrailers) = try await offload("timed-short-body") { whole.finish() }
        #expect(shortBody == "tick 0\ntick 1\ntick 2\n" && shortTrailers["paymesh-end"] == "complete", "\(shortTrailers)")
        #expect(try await MeteredGatewayTests.received(s) == "15")
        #expect(s.upstream.calls == 2)
        #expect(try await eventually { s.upstream.closedEarly == 1 })

        await s.gateway.stop()
        await s.payer.stop()
        await s.upstream.stop()
    }
}
