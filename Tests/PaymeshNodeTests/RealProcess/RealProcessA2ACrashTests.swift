import Foundation
import PaymeshConsole
import PaymeshCrypto
import PaymeshHostile
import PaymeshMessages
import PaymeshNode
import PaymeshPay402
import PaymeshTestSupport
import Testing

/// Specs/a2a.md §4 with real processes: a payee node (`--http`) sells `echo` whose upstream takes
/// minutes to answer; a client pays an A2A task with a voucher of the payer node's channel; the
/// payee is killed with SIGKILL while the skill runs (payment verified and stored, no answer yet)
/// and restarted. `tasks/get` then knows the task: `failed` with the payment's receipt; the same
/// payload again is refused (1461) and the channel holds exactly the one payment.
@Suite(.serialized) struct RealProcessA2ACrashTests {
    /// Sends one HTTP/1.1 POST on a blocking socket; returns the socket (read its answer with `answer`).
    static func post(_ endpoint: PeerEndpoint, _ path: String, _ body: [UInt8], headers: [(String, String)]) throws -> Int32 {
        let fd = try HTTPGet.connected(endpoint)
        let lines = headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        let head = "POST \(path) HTTP/1.1\r\nHost: \(endpoint)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
            + "Connection: close\r\n\(lines)\r\n"
        let request = Array(head.utf8) + body
        guard write(fd, request, request.count) == request.count else {
            close(fd)
            throw NodeError.internalError("write: errno \(errno)")
        }
        return fd
    }

    /// The answer's body on `fd` (read to its end).
    static func answer(_ fd: Int32) throws -> [UInt8] {
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { break }
            bytes += chunk[0..<n]
        }
        guard let split = bytes.firstRange(of: Array("\r\n\r\n".utf8)) else { throw NodeError.internalError("no HTTP answer") }
        return Array(bytes[split.upperBound...])
    }

    static func rpc(_ endpoint: PeerEndpoint, _ method: String, _ params: [String: Any]) async throws -> [String: Any] {
        let body = Array(try JSONSerialization.data(withJSONObject: ["jsonrpc": "2.0", "id": 1, "method": method, "params": params]))
        let bytes = try await offload("a2a-rpc") {
            try answer(try post(endpoint, "/a2a", body, headers: [(A2AEndpoint.extensionHeader, A2AEndpoint.extensionURI)]))
        }
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func send(_ message: [String: Any]) -> [String: Any] {
        ["message": (["role": "user", "messageId": UUID().uuidString, "kind": "message",
                      "parts": [["kind": "text", "text": "hello"]]] as [String: Any]).merging(message) { _, b in b }]
    }

    static func status(_ answer: [String: Any]) -> (state: String?, meta: [String: Any]) {
        let status = (answer["result"] as? [String: Any])?["status"] as? [String: Any]
        return (status?["state"] as? String, (status?["message"] as? [String: Any])?["metadata"] as? [String: Any] ?? [:])
    }

    @Test(.timeLimit(.minutes(5)))
    func sigkillWhileAPaidSkillRunsLeavesTheTaskFailedWithItsReceiptAndOnePayment() async throws {
        let upstream = try await TestUpstream.start()
        let httpPort = freePort()
        let http = PeerEndpoint(host: "127.0.0.1", port: httpPort)
        let payee = PaymentNodeProcess(extraArguments: ["--http", "127.0.0.1:\(httpPort)"])
        let payer = PaymentNodeProcess(peers: [payee.port])
        var keep = false
        defer {
            payer.kill9()
            payee.kill9()
            if !keep { removeDirectory(payer.directory); removeDirectory(payee.directory) }
        }
        let payeeID = try await payee.start()
        try await payer.start()
        #expect(try await eventually(30) {
            try await payer.call("peers")["peers"]?.arrayValue?.contains { $0["state"] == "connected" } == true
        })
        _ = try await payer.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000"])
        let open = try await payer.call("channel.open", ["peer": .string(payeeID), "asset": "USDC", "decimals": 6, "deposit": "1000"])
        let channelText = try #require(open["channel"]?.stringValue)
        let channel = try ChannelID(hex: channelText)
        // 1,000 lines, one every 100 ms: the skill's answer would take 100 s (the upstream client gives up at 60 s).
        _ = try await payee.call("service.add", ["name": "echo", "upstream": .string("http://127.0.0.1:\(upstream.port)/slow/1000/100"),
                                                 "price": "250", "unit": "call", "asset": "USDC", "decimals": 6])

        let opened = try await Self.rpc(http, "message/send", Self.send([:]))
        let task = try #require((opened["result"] as? [String: Any])?["id"] as? String)
        #expect(Self.status(opened).state == "input-required")

        // The client signs a voucher of the payer's channel (the payer node's key, read from its data directory).
        let key = try IdentityStore(directory: payer.directory).load()
        let unsigned = try PaymentUpdate(channelID: channel, nonce: 1, amount: Amount(UInt128(250)), timestamp: 1_767_225_600_000,
                                         taskID: task, signature: Signature65([UInt8](repeating: 1, count: 64) + [27]))
        let voucher = try unsigned.signed(with: key, domain: SigningDomain(chainID: 0))
        let requirements = PaymentRequirements.channel(price: 250, asset: "USDC", decimals: 6, unit: "call", payee: try #require(EthereumAddress(string: payeeID)),
                                                       chainID: 0, resource: "/echo")
        let header = ChannelSchemeProof.xPayment(voucher, paying: requirements).value
        let decoded = try #require(Data(base64Encoded: header))
        let payload = try #require(try JSONSerialization.jsonObject(with: decoded) as? [String: Any])
        let pay = Self.send(["taskId": task, "metadata": ["x402.payment.status": "payment-submitted", "x402.payment.payload": payload]])
        let payBody = Array(try JSONSerialization.data(withJSONObject: ["jsonrpc": "2.0", "id": 2, "method": "message/send", "params": pay]))
        // Sent and left waiting: its answer never comes (the node dies first).
        let waiting = try Self.post(http, "/a2a", payBody, headers: [(A2AEndpoint.extensionHeader, A2AEndpoint.extensionURI)])
        defer { close(waiting) }

        // The payment is verified and stored, the skill runs (the upstream holds its request): kill -9 now.
        let running = try await eventually(60) {
            let got = try await Self.rpc(http, "tasks/get", ["id": task])
            // Verified and stored, and the upstream has the skill's request.
            return Self.status(got).state == "working" && Self.status(got).meta["x402.payment.status"] as? String == "payment-verified"
                && upstream.calls == 1
        }
        #expect(running, "the task never reached payment-verified (logs in \(payee.directory))")
        #expect(upstream.calls == 1)
        payee.kill9()

        try await payee.start()
        let after = try await Self.rpc(http, "tasks/get", ["id": task])
        let outcome = Self.status(after)
        #expect(outcome.state == "failed", "\(after)")
        #expect(outcome.meta["x402.payment.status"] as? String == "payment-completed")
        let receipt = try #require((outcome.meta["x402.payment.receipts"] as? [[String: Any]])?.first)
        #expect(receipt["success"] as? Bool == true && receipt["amount"] as? String == "250")
        let extra = try #require(receipt["extra"] as? [String: Any])
        #expect(extra["channelId"] as? String == channelText && extra["nonce"] as? String == "1" && extra["cumulative"] as? String == "250")
        let text = (((after["result"] as? [String: Any])?["status"] as? [String: Any])?["message"] as? [String: Any])
            .flatMap { ($0["parts"] as? [[String: Any]])?.first?["text"] as? String }
        #expect(text?.contains("the node restarted while the skill ran") == true)

        // The same payload again: refused (1461), nothing paid twice, the skill not run again.
        let again = try await Self.rpc(http, "message/send", pay)
        #expect(((again["error"] as? [String: Any])?["data"] as? [String: Any])?["paymeshCode"] as? Int == 1461, "\(again)")
        let view = try await payee.call("channel.get", ["channel": .string(channelText)])
        #expect(view["nonce"]?.intValue == 1 && view["paid"]?.stringValue == "250", "\(view)")
        #expect(upstream.calls == 1)
        if Self.status(after).state != "failed" { keep = true }
        await upstream.stop()
    }
}
