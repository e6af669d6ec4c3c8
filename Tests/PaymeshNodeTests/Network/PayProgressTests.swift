import NIOConcurrencyHelpers
import PaymeshChannels
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshTestSupport
import Testing

/// Progress reports and cancellation of `pay` bursts (Specs/console.md §8, "Progress and
/// cancellation") on the in-memory network.
@Suite struct PayProgressTests {
    @Test func progressIsReportedAtStartInStepsAndAtTheEnd() async throws {
        try await withTestNetwork(2) { net in
            let channel = try await PaymentsNetworkTests.openChannel(net)
            let reports = NIOLockedValueBox<[PayProgress]>([])
            let outcome = try await net[0].payments.pay(PayRequest(channels: [channel], amount: 3, count: 1_000,
                                                                   onProgress: { p in reports.withLockedValue { $0.append(p) } }))
            #expect(outcome.error == nil && outcome.burst > 0)
            let all = reports.withLockedValue { $0 }
            let first = try #require(all.first), last = try #require(all.last)
            #expect(first.signed == 0 && first.acked == 0 && !first.done && first.count == 1_000)
            #expect(last.done && last.acked == 1_000 && last.signed == 1_000 && last.ackedAmount == 3_000)
            #expect(all.allSatisfy { $0.burst == outcome.burst })
            #expect(all.count <= PayProgress.maxSteps + 2, "bounded: \(all.count) reports")
            // Acknowledgements only grow, by at least a step between reports (but the last).
            let step = PayProgress.step(count: 1_000)
            for (a, b) in zip(all, all.dropFirst()) where !b.done { #expect(b.acked >= a.acked + step) }
            #expect(await net[0].payments.runningBursts.isEmpty)
            #expect(await net[0].payments.cancelPay(outcome.burst) == false)
        }
    }

    /// A paced burst (1 payment per second on a clock that does not move) signs its first payment
    /// and waits for the next: the cancel wakes it, it signs nothing more, waits for the voucher in
    /// flight to be acknowledged and returns CANCELLED with what was paid.
    @Test func cancelStopsTheBurstAfterTheVoucherInFlight() async throws {
        try await withTestNetwork(2) { net in
            let channel = try await PaymentsNetworkTests.openChannel(net)
            let (reports, sink) = AsyncStream<PayProgress>.makeStream()
            let payments = net[0].payments
            let burst = Task {
                try await payments.pay(PayRequest(channels: [channel], amount: 5, count: 1_000, ratePerSecond: 1,
                                                  onProgress: { sink.yield($0) }))
            }
            var iterator = reports.makeAsyncIterator()
            let started = try #require(await iterator.next())
            #expect(await payments.runningBursts == [started.burst])
            #expect(await payments.cancelPay(started.burst))
            let outcome = try await burst.value
            #expect(outcome.error?.consoleCode == -32050 && outcome.error?.name == "CANCELLED")
            #expect(outcome.signed == 1 && outcome.burst == started.burst)
            #expect(outcome.channels.first?.ackedNonce == 1 && outcome.channels.first?.ackedAmount == 5)
            // The payee holds what was acknowledged: acknowledged payments stay paid.
            let held = try await net[1].waitForChannel(channel, "to hold nonce 1") { $0.snapshot.latestVoucher?.nonce == 1 }
            #expect(held.snapshot.paidAmount == 5)
            #expect(await payments.runningBursts.isEmpty)
            #expect(await payments.cancelPay(started.burst) == false)
            // The channel takes the next burst as usual.
            let next = try await net[0].pay(channel, amount: 5, count: 10)
            #expect(next.error == nil && next.channels.first?.ackedNonce == 11)
        }
    }
}
