import Foundation
import NIOConcurrencyHelpers
import PaymeshConsole
import PaymeshNode
import PaymeshTestSupport
import Testing

/// An interrupted metered purchase resumed by the buyer (Specs/http402.md §11.4, §12.4): a gateway
/// node sells `bytes` (2 atomic units per byte, steps of 1,024); the buyer is a real `paymesh start`
/// process that reaches the gateway through a loopback relay. The relay holds the buyer's second
/// continuation (its voucher journalled, signed and sent) and the buyer is killed with SIGKILL at
/// that step boundary. Restarted, a retry with the same idempotency key presents the journalled
/// voucher of that step (never a new one), receives the rest of the answer and pays each step once:
/// the payee's total is exactly the price of the whole answer.
@Suite(.serialized) struct MeteredResumeTests {
    /// A loopback relay to `target`, one request per connection (the buyer sends `Connection:
    /// close`): the `holdNth` request that carries `Paymesh-Continue` is held while `holding` —
    /// never forwarded, or (`deliverHeld`) forwarded with its answer swallowed (the gateway takes
    /// the step, the buyer never sees the page); every other request is forwarded and its answer
    /// relayed to the end.
    final class Relay: @unchecked Sendable {
        let port: Int
        private let listener: Int32
        private let target: Int
        private let state = NIOLockedValueBox((holding: true, continuations: 0, held: [Int32]()))
        let holdNth: Int
        let deliverHeld: Bool

        init(target: Int, holdNth: Int, deliverHeld: Bool = false) throws {
            self.target = target
            self.holdNth = holdNth
            self.deliverHeld = deliverHeld
            let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            self.listener = listener
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) } }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) } }
            port = Int(UInt16(bigEndian: address.sin_port))
            guard listen(listener, 16) == 0 else { throw NodeError.internalError("listen: errno \(errno)") }
            Thread { [self] in
                while true {
                    let client = accept(listener, nil, nil)
                    guard client >= 0 else { return }
                    Thread { self.serve(client) }.start()
                }
            }.start()
        }

        var heldCount: Int { state.withLockedValue { $0.held.count } }

        /// Forward everything from now on; the held connections are closed (their client is gone).
        func release() {
            let held = state.withLockedValue { s in
                s.holding = false
                defer { s.held = [] }
                return s.held
            }
            held.forEach { close($0) }
        }

        func stop() {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }

        private func serve(_ client: Int32) {
            var request: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while request.firstRange(of: Array("\r\n\r\n".utf8)) == nil {
                let n = read(client, &chunk, chunk.count)
                guard n > 0 else { close(client); return }
                request += chunk[0..<n]
            }
            let head = String(decoding: request, as: UTF8.self).lowercased()
            if head.contains("\r\npaymesh-continue:") {
                let hold = state.withLockedValue { s -> Bool in
                    s.continuations += 1
                    guard s.holding, s.continuations == holdNth else { return false }
                    s.held.append(client)
                    return true
                }
                if hold {
                    if deliverHeld { relay(request, to: nil) }
                    return
                }
            }
            relay(request, to: client)
        }

        /// Forwards `request` and copies the answer to `client` (nil: reads and drops it).
        private func relay(_ request: [UInt8], to client: Int32?) {
            guard let upstream = try? HTTPGet.connected(PeerEndpoint(host: "127.0.0.1", port: target)) else { client.map { _ = close($0) }; return }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            _ = request.withUnsafeBytes { write(upstream, $0.baseAddress, $0.count) }
            while true {
                let n = read(upstream, &chunk, chunk.count)
                guard n > 0 else { break }
                if let client { _ = chunk.withUnsafeBytes { write(client, $0.baseAddress, n) } }
            }
            close(upstream)
            if let client { close(client) }
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func aBuyerKilledAtAStepBoundaryResumesWithTheJournalledVoucherAndPaysEachStepOnce() async throws {
        try #require(PaymeshBinary.exists, "build the paymesh executable first (swift build --build-tests): \(PaymeshBinary.path)")
        let seller = try await GatewaySeller.start(selling: [.init(name: "bytes", unit: "byte", price: "2")])
        let (upstream, gateway, http) = (seller.upstream, seller.gateway, seller.http)
        let relay = try Relay(target: http.port, holdNth: 2)
        defer { relay.stop() }
        let dataDir = temporaryDirectory()
        var buyer = try await NodeProcess(dataDir: dataDir)
        defer { buyer.kill() }
        let channel = try await FetchTests.openChannel(buyer, to: gateway, deposit: "100000")
        @Sendable func payee() async throws -> JSONValue { try await gateway.call("channel.get", ["channel": .string(channel)]) }
        // 5,000 bytes: the first step (1,024 bytes, 2,048) with the request, then continuations
        // #1 … #4 of 1,024, 1,024, 1,024 and 904 bytes: 10,000 in all.
        let arguments = ["fetch", "http://127.0.0.1:\(relay.port)/bytes/bytes/5000", "--data-dir", dataDir, "--max-price", "20000",
                         "--idempotency-key", "big-1", "--json"]
        let interrupted = Task { try await PaymeshBinary.run(arguments, timeout: 60) }
        #expect(try await eventually(30) { relay.heldCount == 1 }, "the second continuation never reached the relay")
        // Step #2's voucher (nonce 3) is journalled, signed and sent; the gateway has the first two steps.
        let before = try await payee()
        #expect(before["paid"] == "4096" && before["nonce"] == 2, "\(before)")
        buyer.kill()
        let cut = try await interrupted.value
        #expect(cut.status != 0)
        relay.release()

        buyer = try await NodeProcess(dataDir: dataDir)
        let resumed = try await PaymeshBinary.run(arguments, timeout: 60)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let r = try JSONValue.parse(Array(resumed.stdout.utf8))
        #expect(r["units_from"] == "2048" && r["units"] == "5000" && r["units_total"] == "5000" && r["partial"] == .null, "\(resumed.stdout)")
        #expect(r["paid"] == "10000" && r["nonce"] == "5" && r["reused"] == true, "\(resumed.stdout)")
        let whole = TestUpstream.answer("GET", "/api/bytes/5000")
        #expect(r["body"]?.stringValue == String(whole.dropFirst(2_048)), "\(resumed.stdout.prefix(300))")
        // Each step paid once: five vouchers, 10,000 on the payee.
        let after = try await payee()
        #expect(after["paid"] == "10000" && after["nonce"] == 5, "\(after)")
        // A second retry pays nothing: the purchase is over.
        let again = try await PaymeshBinary.run(arguments, timeout: 60)
        #expect(again.status == 1 && (again.stderr + again.stdout).contains("ALREADY_PAID"), "\(again.stdout) \(again.stderr)")
        #expect(try await payee()["paid"] == "10000")
        // Reconnected, both ends of the channel agree.
        _ = try await buyer.call("connect", ["host": "127.0.0.1", "port": .int(Int64(gateway.started.listen.port))])
        let restarted = buyer
        #expect(try await eventually(20) {
            let paid = try await payee()["paid"]
            return try await restarted.call("channel.get", ["channel": .string(channel)])["paid"] == paid
        })

        buyer.kill()
        await gateway.stop()
        await upstream.stop()
    }

    /// The page of the interrupted step was lost (the gateway took the step's voucher and answered,
    /// the buyer died before reading it): the retry presents the same voucher, the gateway answers
    /// 1323, and the purchase ends with what was delivered — the step counted once, nothing more paid.
    @Test(.timeLimit(.minutes(5)))
    func aStepWhosePageWasLostIsPaidOnceAndThePurchaseEnds() async throws {
        try #require(PaymeshBinary.exists, "build the paymesh executable first (swift build --build-tests): \(PaymeshBinary.path)")
        let seller = try await GatewaySeller.start(selling: [.init(name: "bytes", unit: "byte", price: "2")])
        let (upstream, gateway, http) = (seller.upstream, seller.gateway, seller.http)
        let relay = try Relay(target: http.port, holdNth: 2, deliverHeld: true)
        defer { relay.stop() }
        let dataDir = temporaryDirectory()
        var buyer = try await NodeProcess(dataDir: dataDir)
        defer { buyer.kill() }
        let channel = try await FetchTests.openChannel(buyer, to: gateway, deposit: "100000")
        @Sendable func payee() async throws -> JSONValue { try await gateway.call("channel.get", ["channel": .string(channel)]) }
        let arguments = ["fetch", "http://127.0.0.1:\(relay.port)/bytes/bytes/5000", "--data-dir", dataDir, "--max-price", "20000",
                         "--idempotency-key", "lost-1", "--json"]
        let interrupted = Task { try await PaymeshBinary.run(arguments, timeout: 60) }
        #expect(try await eventually(30) { relay.heldCount == 1 }, "the second continuation never reached the relay")
        // The gateway takes step #2 (nonce 3): 6,144 paid; its page never reaches the buyer.
        #expect(try await eventually(30) { try await payee()["nonce"] == 3 })
        #expect(try await payee()["paid"] == "6144")
        buyer.kill()
        _ = try await interrupted.value
        relay.release()

        buyer = try await NodeProcess(dataDir: dataDir)
        let resumed = try await PaymeshBinary.run(arguments, timeout: 60)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let r = try JSONValue.parse(Array(resumed.stdout.utf8))
        #expect(r["paid"] == "6144" && r["units_from"] == "2048" && r["units"] == "2048" && r["body"] == "", "\(resumed.stdout)")
        #expect(r["partial"]?.stringValue?.contains("already holds the voucher of step 2") == true, "\(resumed.stdout)")
        let after = try await payee()
        #expect(after["paid"] == "6144" && after["nonce"] == 3, "\(after)")
        let again = try await PaymeshBinary.run(arguments, timeout: 60)
        #expect(again.status == 1 && (again.stderr + again.stdout).contains("ALREADY_PAID"), "\(again.stdout) \(again.stderr)")
        #expect(try await payee()["paid"] == "6144")

        buyer.kill()
        await gateway.stop()
        await upstream.stop()
    }
}
