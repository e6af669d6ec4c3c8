import Foundation
import PaymeshChannels
import PaymeshConsole
import PaymeshMessages
import PaymeshNode
import PaymeshTestSupport
import Testing

/// Two nodes in this process on loopback, driven through their console sockets: the whole payment
/// flow of Specs/channels.md over the real transport, the console's payment methods and durable
/// stores. Closes, disputes, challenge periods and re-establishment run on the in-memory network
/// (Network/PaymentsNetworkTests.swift), in simulated time.
@Suite(.serialized) struct PaymentsFlowTests {
    static let usdc: [String: JSONValue] = ["asset": "USDC", "decimals": 6]

    /// A funded payer connected to a payee with one OPEN channel.
    static func openChannel(deposit: String = "100000000") async throws -> (payer: RunningNode, payee: RunningNode, channel: JSONValue) {
        let payee = try await RunningNode.start()
        let payer = try await RunningNode.start(peers: [payee.started.listen])
        let payeeID = payee.started.id.description
        #expect(try await eventually { try await payer.connectedPeers() == [payeeID] })
        var fund = usdc
        fund["amount"] = "1000000000"
        #expect(try await payer.call("ledger.fund", fund)["balance"] == "1000000000")
        var params = usdc
        params["peer"] = .string(payeeID)
        params["deposit"] = .string(deposit)
        let open = try await payer.call("channel.open", params)
        #expect(open["state"] == "OPEN" && open["role"] == "payer" && open["deposit"] == .string(deposit))
        return (payer, payee, try #require(open["channel"]))
    }

    @Test func payThousandTimesStreamReceiptsPolicyAndSettle() async throws {
        try await withTimeout(120) {
            let (payer, payee, channel) = try await Self.openChannel()
            defer { removeDirectory(payer.directory); removeDirectory(payee.directory) }
            let onPayee = try await payee.call("channel.get", ["channel": channel])
            #expect(onPayee["role"] == "payee" && onPayee["state"] == "OPEN" && onPayee["peer"] == .string(payer.started.id.description))

            // 1,000 pipelined payments of 7 units.
            let paid = try await payer.call("pay", ["channel": channel, "amount": "7", "count": 1_000])
            #expect(paid["complete"] == true && paid["signed"] == 1_000)
            #expect(paid["ackedNonce"] == 1_000 && paid["ackedAmount"] == "7000")
            let held = try await payee.call("channel.get", ["channel": channel])
            #expect(held["state"] == "ACTIVE" && held["nonce"] == 1_000 && held["paid"] == "7000")
            // The payee's history: every accepted voucher once, nonces and amounts strictly increasing.
            let history = try #require(try await payee.call("channel.history", ["channel": channel, "limit": 5_000])["vouchers"]?.arrayValue)
            #expect(history.count == 1_000)
            #expect(history.enumerated().allSatisfy { i, v in v["nonce"]?.intValue == Int64(i + 1) && v["amount"] == .string(String(7 * (i + 1))) })

            // One payment for a request: the payee signs a receipt for it.
            let one = try await payer.call("pay", ["channel": channel, "amount": "5", "task_id": "req-1"])
            #expect(one["ackedNonce"] == 1_001 && one["ackedAmount"] == "7005")

            // Per-call stream: 3 units per call, cap 10: two calls fit (6), the third would pass the cap.
            let s = try await payer.call("stream.start", ["channel": channel, "unit": "call", "price": "3", "cap": "10"])
            let sid = try #require(s["stream"])
            #expect(try await payer.call("stream.usage", ["stream": sid, "units": 1])["paid"] == "3")
            #expect(try await payer.call("stream.usage", ["stream": sid, "units": 1])["paid"] == "6")
            let capped = try await payer.call("stream.usage", ["stream": sid, "units": 2])
            #expect(capped["paid"] == "6" && capped["status"] == "paused:capReached")
            _ = try await payer.call("stream.stop", ["stream": sid])

            // Per-second stream: 1,000 units a second (1 per ms) for at least 1.1 s. The node bills
            // the time between its start and stop; the test brackets that with its own clock, so the
            // bounds hold however loaded the machine is.
            let clock = ContinuousClock()
            let streamStart = clock.now
            let t = try await payer.call("stream.start", ["channel": channel, "unit": "second", "price": "1000", "cap": "1000000"])
            try await Task.sleep(for: .milliseconds(1_100))
            let stopped = try await payer.call("stream.stop", ["stream": try #require(t["stream"])])
            let bracket = clock.now - streamStart
            let bracketMs = Int(bracket.components.seconds) * 1_000 + Int(bracket.components.attoseconds / 1_000_000_000_000_000) + 1
            let perSecond = try #require(stopped["paid"]?.stringValue.flatMap { Int($0) })
            #expect(perSecond >= 1_000 && perSecond <= bracketMs, "paid \(perSecond) for ≥ 1.1 s, ≤ \(bracketMs) ms at 1/ms")
            #expect(try await eventually {
                try await payer.call("channel.get", ["channel": channel])["unacknowledged"] == 0
            })
            let total = try #require(try await payer.call("channel.get", ["channel": channel])["paid"]?.stringValue)
            #expect(Int(total) == 7_005 + 6 + perSecond)
            #expect(try await eventually { try await payee.call("channel.get", ["channel": channel])["paid"] == .string(total) })

            // Receipts: exported by the payee, verified offline, tampering detected.
            let exported = try await payee.call("receipts", ["channel": channel])
            let bundle = try ReceiptBundle.decode(json: Data(exported.description.utf8))
            #expect(bundle.receipts.count >= 3) // req-1, the call stream, the per-second stream
            #expect(bundle.receipts.first?.taskID == "req-1" && bundle.receipts.first?.amount == 7_005)
            #expect(try ReceiptVerifier.verify(bundle, expectedPayee: payee.started.id) == bundle.receipts.count)
            var forged = bundle
            forged.receipts[0].amount += 1
            #expect(throws: ReceiptVerifier.Failure.self) { try ReceiptVerifier.verify(forged) }

            // Spending policy: a payment above the limit is refused with its code and signs nothing.
            let before = try await payer.call("channel.get", ["channel": channel])["nonce"]
            _ = try await payer.call("policy.set", ["max_per_payment": "10"])
            let refused = try await payer.callResult("pay", ["channel": channel, "amount": "11"])
            guard case .failure(let error) = refused else { Issue.record("over-limit payment was accepted"); return }
            #expect(error.code == 1104 && error.name == "INVALID_AMOUNT")
            #expect(try await payer.call("channel.get", ["channel": channel])["nonce"] == before)
            _ = try await payer.call("policy.set", ["deny": [.string(payee.started.id.description)]])
            let denied = try await payer.callResult("pay", ["channel": channel, "amount": "1"])
            guard case .failure(let deniedError) = denied else { Issue.record("payment to a denied peer was accepted"); return }
            #expect(deniedError.code == 1202)
            let policy = try await payer.call("policy.get")
            #expect(policy["policy"]?["max_per_payment"] == "10" && policy["spent"]?.arrayValue?.first?["total"] == .string(total))
            _ = try await payer.call("policy.set", ["max_per_payment": nil, "deny": nil])

            // Cooperative close, settled on both local ledgers with exact amounts.
            let closed = try await payer.call("channel.close", ["channel": channel])
            #expect(closed["state"] == "SETTLED" && closed["close"]?["finalAmount"] == .string(total))
            #expect(try await eventually { try await payee.call("channel.get", ["channel": channel])["state"] == "SETTLED" })
            let paidOut = Int(total)!
            let payerBooks = try await payer.call("balance", ["asset": "USDC"])
            #expect(payerBooks["offChain"] == true)
            #expect(payerBooks["wallets"] == [["asset": "USDC", "decimals": 6, "amount": .string(String(1_000_000_000 - paidOut))]])
            #expect(payerBooks["escrows"] == [])
            let payeeBooks = try await payee.call("balance", ["asset": "USDC"])
            #expect(payeeBooks["wallets"] == [["asset": "USDC", "decimals": 6, "amount": .string(total)]])
            #expect(payeeBooks["escrows"] == [])
            // Closed is closed: no more payments.
            guard case .failure(let after) = try await payer.callResult("pay", ["channel": channel, "amount": "1"]) else {
                Issue.record("payment on a settled channel was accepted"); return
            }
            #expect(after.code == 1002)
            await payer.stop()
            await payee.stop()
        }
    }

    /// Subscribers hear the payments layer's typed events as the JSON of Specs/console.md §8: the
    /// payee `payment.received`, the payer `payment.acked`, both `channel.state`; a `peer` topic
    /// filter keeps them out.
    @Test func paymentEventsReachConsoleSubscribersAsJSON() async throws {
        try await withTimeout(120) {
            let (payer, payee, channel) = try await Self.openChannel()
            defer { removeDirectory(payer.directory); removeDirectory(payee.directory) }
            try await ConsoleClient.withConnection(socketPath: payee.socket) { payeeWatch async throws in
                try await ConsoleClient.withConnection(socketPath: payer.socket) { payerWatch async throws in
                    #expect(try await payeeWatch.call("subscribe", ["topics": ["payment", "channel"]])["subscribed"] == ["channel", "payment"])
                    #expect(try await payerWatch.call("subscribe", ["topics": ["payment"]])["subscribed"] == ["payment"])
                    let paid = try await payer.call("pay", ["channel": channel, "amount": "9", "task_id": "t-1"])
                    #expect(paid["ackedNonce"] == 1)
                    /// The first event of each type in `types`, read in arrival order (other types are skipped).
                    func firstOf(_ types: Set<String>, on watch: ConsoleClient) async -> [String: JSONValue] {
                        var seen: [String: JSONValue] = [:]
                        for await incoming in watch.incoming {
                            guard case .notification("event", let event) = incoming, let type = event["type"]?.stringValue else { continue }
                            #expect(type != "events.dropped")
                            if types.contains(type), seen[type] == nil { seen[type] = event }
                            if seen.count == types.count { break }
                        }
                        return seen
                    }
                    let onPayee = await firstOf(["channel.state", "payment.received"], on: payeeWatch)
                    #expect(onPayee["channel.state"] == ["type": "channel.state", "channel": channel, "from": "OPEN", "to": "ACTIVE"])
                    #expect(onPayee["payment.received"] == ["type": "payment.received", "channel": channel, "nonce": 1, "increment": "9",
                                                            "cumulative": "9", "taskId": "t-1"])
                    let onPayer = await firstOf(["payment.acked"], on: payerWatch)
                    #expect(onPayer["payment.acked"] == ["type": "payment.acked", "channel": channel, "nonce": 1, "cumulative": "9"])
                }
            }
            await payer.stop()
            await payee.stop()
        }
    }
}
