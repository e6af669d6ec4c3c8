import Foundation
import PaymeshChannels
import PaymeshConsole
import PaymeshNode
import PaymeshTestSupport
import Testing

/// Two nodes on loopback whose payments run on one `ManualClock`: channel timers wait in the
/// driver's deadline queue and fire only when the test moves time.
@Suite(.serialized) struct PaymentsManualClockTests {
    @Test func challengePeriodExpiresOnlyWhenTheManualClockPassesIt() async throws {
        try await withTimeout(120) {
            let clock = ManualClock()
            let payee = try await RunningNode.start {
                $0.clock = clock
                $0.payments.openPolicy = PayeeOpenPolicy(challengePeriodSeconds: 1...604_800)
            }
            let payer = try await RunningNode.start(peers: [payee.started.listen]) { $0.clock = clock }
            defer { removeDirectory(payer.directory); removeDirectory(payee.directory) }
            let payeeID = payee.started.id.description
            #expect(try await eventually { try await payer.connectedPeers() == [payeeID] })
            var params = PaymentsFlowTests.usdc
            params["amount"] = "1000"
            _ = try await payer.call("ledger.fund", params)
            params = PaymentsFlowTests.usdc
            params["peer"] = .string(payeeID)
            params["deposit"] = "500"
            params["challenge_period"] = 60
            let channel = try #require(try await payer.call("channel.open", params)["channel"])
            let paid = try await payer.call("pay", ["channel": channel, "amount": "3", "count": 10])
            #expect(paid["ackedNonce"] == 10 && paid["ackedAmount"] == "30")

            let closing = try await payee.call("channel.close", ["channel": channel, "mode": "unilateral", "wait": false])
            #expect(closing["state"] == "CLOSING")
            #expect(try await eventually { try await payer.call("channel.get", ["channel": channel])["state"] == "CLOSING" })
            // Time has not moved: both still in the challenge period, their deadlines queued.
            #expect(try await payee.call("channel.get", ["channel": channel])["state"] == "CLOSING")
            clock.advance(by: .seconds(59))
            #expect(try await payee.call("channel.get", ["channel": channel])["state"] == "CLOSING")
            clock.advance(by: .seconds(2))
            #expect(try await eventually(15) { try await payee.call("channel.get", ["channel": channel])["state"] == "SETTLED" })
            #expect(try await eventually(15) { try await payer.call("channel.get", ["channel": channel])["state"] == "SETTLED" })
            #expect(try await payee.call("balance", ["asset": "USDC"])["wallets"] == [["asset": "USDC", "decimals": 6, "amount": "30"]])
            await payer.stop()
            await payee.stop()
        }
    }

    /// `pay` with a rate and a per-second stream sleep on the injected clock: nothing more is paid
    /// until the test moves time, then exactly what is due.
    @Test func pacedPayAndPerSecondStreamAdvanceWithTheManualClock() async throws {
        try await withTimeout(120) {
            let clock = ManualClock()
            let payee = try await RunningNode.start { $0.clock = clock }
            let payer = try await RunningNode.start(peers: [payee.started.listen]) { $0.clock = clock }
            defer { removeDirectory(payer.directory); removeDirectory(payee.directory) }
            let payeeID = payee.started.id.description
            #expect(try await eventually { try await payer.connectedPeers() == [payeeID] })
            var params = PaymentsFlowTests.usdc
            params["amount"] = "100000"
            _ = try await payer.call("ledger.fund", params)
            params = PaymentsFlowTests.usdc
            params["peer"] = .string(payeeID)
            params["deposit"] = "50000"
            let channel = try #require(try await payer.call("channel.open", params)["channel"])
            @Sendable func state() async throws -> JSONValue { try await payer.call("channel.get", ["channel": channel]) }

            // Paced at 1 payment per simulated second: one now, one per second moved.
            let paying = Task { try await payer.call("pay", ["channel": channel, "amount": "5", "count": 3, "rate": 1]) }
            #expect(try await eventually { try await state()["ackedNonce"] == 1 })
            #expect(try await state()["nonce"] == 1) // time has not moved: the second is not due
            clock.advance(by: .seconds(1))
            #expect(try await eventually { try await state()["ackedNonce"] == 2 })
            clock.advance(by: .seconds(1))
            let paid = try await paying.value
            #expect(paid["complete"] == true && paid["ackedNonce"] == 3 && paid["ackedAmount"] == "15")

            // A per-second stream at 1000 per second bills exactly the simulated time.
            let stream = try await payer.call("stream.start", ["channel": channel, "unit": "second", "price": "1000", "cap": "1000000"])
            let name = try #require(stream["stream"])
            clock.advance(by: .seconds(1))
            #expect(try await eventually { try await state()["paid"] == "1015" })
            let stopped = try await payer.call("stream.stop", ["stream": name])
            #expect(stopped["paid"] == "1000" && stopped["status"] == "stopped")
            #expect(try await eventually { try await state()["ackedAmount"] == "1015" })
            await payer.stop()
            await payee.stop()
        }
    }
}
