import PaymeshConsole
import PaymeshNode
import PaymeshTestSupport
import Testing

/// `stream.list`, `stream.info` and `stream.resume` at the console (Specs/console.md §8), on two
/// nodes in this process over loopback.
@Suite(.serialized) struct StreamsConsoleTests {
    @Test func listResumeAndAStoppedStreamStaysQueryable() async throws {
        try await withTimeout(90) {
            let (payer, payee, channel) = try await PaymentsFlowTests.openChannel(deposit: "1000000")
            defer { removeDirectory(payer.directory); removeDirectory(payee.directory) }
            let s = try await payer.call("stream.start", ["channel": channel, "unit": "call", "price": "0.000010USDC", "cap": "20"])
            let sid = try #require(s["stream"])
            #expect(try await payer.call("stream.usage", ["stream": sid, "units": 2])["paid"] == "20")
            let capped = try await payer.call("stream.usage", ["stream": sid, "units": 1])
            #expect(capped["status"] == "paused:capReached" && capped["complete"] == false)
            // Resume with a cap as people type it (in the channel's asset), then pay on.
            let resumed = try await payer.call("stream.resume", ["stream": sid, "cap": "0.00004USDC"])
            #expect(resumed["status"] == "running" && resumed["cap"] == "40" && resumed["asset"] == "USDC", "\(resumed)")
            let more = try await payer.call("stream.usage", ["stream": sid, "units": 2])
            #expect(more["paid"] == "40" && more["complete"] == true)
            guard case .failure(let low) = try await payer.callResult("stream.resume", ["stream": sid, "cap": "39"]) else {
                Issue.record("a cap below what was paid was accepted"); return
            }
            #expect(low.code == -32602, "\(low)")

            let other = try #require(try await payer.call("stream.start", ["channel": channel, "unit": "token", "price": "1", "cap": "5"])["stream"])
            let stopped = try await payer.call("stream.stop", ["stream": sid])
            #expect(stopped["status"] == "stopped" && stopped["paid"] == "40")
            #expect(try await payer.call("stream.info", ["stream": sid]) == stopped)
            let list = try #require(try await payer.call("stream.list")["streams"]?.arrayValue)
            #expect(list.map { $0["stream"] } == [sid, other] && list.map { $0["status"] } == ["stopped", "running"], "\(list)")
            guard case .failure(let gone) = try await payer.callResult("stream.resume", ["stream": sid]) else {
                Issue.record("a stopped stream resumed"); return
            }
            #expect(gone.code == -32602 && gone.message.contains("is stopped"), "\(gone)")
            guard case .failure(let unknown) = try await payer.callResult("stream.info", ["stream": "s999"]) else {
                Issue.record("an unknown stream was found"); return
            }
            #expect(unknown.code == -32602)
            await payer.stop()
            await payee.stop()
        }
    }
}
