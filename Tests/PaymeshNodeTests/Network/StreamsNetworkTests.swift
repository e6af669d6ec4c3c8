import PaymeshChannels
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshTestSupport
import Testing

/// Payment streams on the in-memory network (Specs/console.md §8): a stream paused at its cap
/// resumes with a raised cap and pays on, and a stopped stream stays queryable.
@Suite struct StreamsNetworkTests {
    @Test func aStreamPausedAtItsCapResumesWithARaisedCapAndStaysQueryableWhenStopped() async throws {
        try await withTestNetwork(2) { net in
            let channel = try await PaymentsNetworkTests.openChannel(net)
            let payments = net[0].payments
            let started = try await payments.startStream(channel: channel, unit: .call, price: 10, cap: 20)
            let name = started.id
            #expect(try await payments.streamUsage(name, units: 2).paid == 20)
            let capped = try await payments.streamUsage(name, units: 1)
            #expect(capped.paid == 20 && capped.status == "paused:capReached")
            // A cap below what was paid is refused and changes nothing.
            await #expect { _ = try await payments.resumeStream(name, cap: 19) } throws: { ($0 as? NodeError)?.consoleCode == -32602 }
            let resumed = try await payments.resumeStream(name, cap: 40)
            #expect(resumed.status == "running" && resumed.cap == 40 && resumed.paid == 20)
            let more = try await payments.streamUsage(name, units: 2)
            #expect(more.paid == 40 && more.status == "running" && more.vouchers == 2)
            // The payee holds what the stream paid.
            try await net[1].waitForChannel(channel, "to hold 40") { $0.snapshot.paidAmount == 40 }

            let second = try await payments.startStream(channel: channel, unit: .token, price: 1, cap: 5)
            let stopped = try await payments.stopStream(name)
            #expect(stopped.status == "stopped" && stopped.paid == 40)
            #expect(await payments.streamView(name) == stopped)
            #expect(try await payments.stopStream(name) == stopped, "stopping a stopped stream returns it unchanged")
            #expect(await payments.streamViews().map(\.id) == [name, second.id])
            #expect(await payments.streamViews().map(\.status) == ["stopped", "running"])
            // A stopped stream takes no usage and cannot resume.
            await #expect { _ = try await payments.streamUsage(name, units: 1) } throws: {
                ($0 as? NodeError)?.consoleCode == -32602 && "\($0)".contains("is stopped")
            }
            await #expect { _ = try await payments.resumeStream(name, cap: nil) } throws: { ($0 as? NodeError)?.consoleCode == -32602 }
        }
    }
}
