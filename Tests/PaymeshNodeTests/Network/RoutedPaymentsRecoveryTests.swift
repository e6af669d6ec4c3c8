import PaymeshCrypto
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshRouting
import PaymeshTestSupport
import Testing

/// The payer's side of routed payments across busy channels and restarts (issue 10; Specs/
/// channels.md §12.10, routing.md §6.2): a routed payment right after another payment over the
/// same first channel waits for its acknowledgement instead of failing that route; journal entries
/// never stay pending — an HTLC still in flight at a restart resolves the payment when the sweeper
/// cancels it or the preimage arrives — and the reputation survives a restart. A forwarding node
/// likewise waits for the acknowledgement of a plain voucher on its outgoing channel, bounded by
/// its take-over deadline.
@Suite struct RoutedPaymentsRecoveryTests {
    typealias R = RoutedPaymentsTests

    /// The payer asks 2 minutes of the final hop (not an hour), so that hop 1's outgoing HTLC
    /// expires 2 minutes on (its incoming one an hour later).
    static func routed(_ node: TestNode) throws -> RoutedPayments {
        var limits = RoutedPayments.Limits()
        limits.minFinalExpiryMillis = 120_000
        return try RoutedPayments(payments: node.payments, gossip: node.gossip, limits: limits)
    }

    static func failed(_ p: PaymentJournal.Payment?) -> String? { if case .failed(let why)? = p?.status { why } else { nil } }

    @Test func backToBackDirectAndRoutedPaymentsOverOneFirstChannelAllSucceedOnTheirFirstRoute() async throws {
        try await withTestNetwork(3, configure: R.configure()) { net in
            let c = try await R.mesh(net, [(0, 1), (1, 2)])
            let payer = try R.routed(net[0])
            var direct: UInt128 = 0
            for round in 0..<3 {
                // A plain payment, then routed ones at once: each routed call takes the first
                // channel over as soon as the vouchers before it are acknowledged.
                _ = try await net[0].pay(c[0], amount: 3)
                direct += 3
                for _ in 0..<2 {
                    let p = try await payer.pay(to: net[2].id, amount: Amount(500), asset: TestNetwork.usdc)
                    #expect(R.succeeded(p) && p.attempts.count == 1, "round \(round): \(p.attempts.map(\.outcome))")
                }
                // And by hand over an explicit route, back to back with the routed ones.
                let hops = [RouteHop(nodeKey: net[1].key.publicKey, channelID: c[0], feeBase: R.feeBase, feePPM: R.feePPM),
                            RouteHop(nodeKey: net[2].key.publicKey, channelID: c[1])]
                let byHand = try await net[0].payments.payRoute(hops, amount: 500)
                guard case .succeeded = byHand else { Issue.record("round \(round): \(byHand)"); return }
            }
            // 9 routed payments of 500, each paying node 1 its 2 + 1 % = 7; the plain ones on top.
            try await R.expectSettled(net, 0, 1, c[0], direct + 9 * 507)
            try await R.expectSettled(net, 1, 2, c[1], 9 * 500)
        }
    }

    /// Node 1 paid node 2 a plain voucher on c[1] whose acknowledgement is held on the link, then the
    /// routed payment's HTLC arrives: node 1 accepts it and waits for c[1] (no refusal), resumed by
    /// the acknowledgement. Returns the channels, the plain payment and the routed call.
    static func htlcArrivesWhileTheForwardersPlainVoucherIsUnacknowledged(_ net: TestNetwork) async throws
        -> ([ChannelID], Task<PayOutcome, any Error>, Task<PaymentJournal.Payment, any Error>) {
        let c = try await R.mesh(net, [(0, 1), (1, 2)])
        #expect(net.hold(2, 1) > 0) // node 2's answers to node 1 (its PAYMENT_ACK) wait on the link
        let plain = Task { try await net[1].pay(c[1], amount: 3) }
        try await net[1].waitForChannel(c[1], "has a plain voucher unacknowledged") { $0.unacknowledged == 1 }
        let payer = try R.routed(net[0])
        let call = Task { try await payer.pay(to: net[2].id, amount: Amount(500), asset: TestNetwork.usdc) }
        try await net[1].waitFor("hop 1 accepted the HTLC on \(c[0])") {
            await net[1].payments.htlcChannel(c[0])?.pending.count == 1 ? true : nil
        }
        // Parked: nothing offered on c[1] yet, which the book does not own.
        #expect(await net[1].payments.htlcChannel(c[1])?.htlcs.isEmpty ?? true)
        return (c, plain, call)
    }

    @Test func aForwarderWaitsForTheAcknowledgementOfAPlainPaymentOnItsOutgoingChannel() async throws {
        try await withTestNetwork(3, configure: R.configure()) { net in
            let (c, plain, call) = try await Self.htlcArrivesWhileTheForwardersPlainVoucherIsUnacknowledged(net)
            #expect(await net[1].payments.htlcEntries().count == 1) // still waiting: the ack is held
            net.release(2, 1)
            let p = try await call.value
            #expect(R.succeeded(p) && p.attempts.count == 1, "\(p.attempts.map(\.outcome))")
            let direct = try await plain.value
            #expect(direct.error == nil && direct.channels.first?.ackedAmount == 3)
            // 2 + 1 % of 500 to node 1; the plain 3 and the forwarded 500 to node 2.
            try await R.expectSettled(net, 0, 1, c[0], 507)
            try await R.expectSettled(net, 1, 2, c[1], 503)
        }
    }

    @Test func aForwarderWhoseOutgoingChannelStaysUnacknowledgedCancelsTheHTLCUpstreamAtItsDeadline() async throws {
        try await withTestNetwork(3, configure: R.configure()) { net in
            let (c, plain, call) = try await Self.htlcArrivesWhileTheForwardersPlainVoucherIsUnacknowledged(net)
            // Just before the deadline (node 1's clock) nothing happens; at it the HTLC is cancelled upstream.
            let wait = Int64(net[1].setup.payments.htlcTakeOverWaitMillis)
            net.advance(by: .milliseconds(wait - 1))
            #expect(await net[1].payments.htlcChannel(c[0])?.pending.count == 1)
            net.advance(by: .milliseconds(1))
            let p = try await call.value
            #expect(Self.failed(p) != nil)
            let outcome = p.attempts.first?.outcome
            guard case .failed(0?, .temporaryChannelFailure, net[1].id?)? = outcome else { Issue.record("attempt: \(String(describing: outcome))"); return }
            try await R.expectSettled(net, 0, 1, c[0], 0)
            #expect(await net[1].payments.htlcChannel(c[1])?.htlcs.isEmpty ?? true)
            // The plain payment completes once its acknowledgement arrives; nothing else went to node 2.
            net.release(2, 1)
            _ = try await plain.value
            try await net[1].waitForChannel(c[1], "acknowledged at 3") { $0.unacknowledged == 0 && $0.ackedAmount == 3 }
            try await net[2].waitForChannel(c[1], "paid 3") { $0.snapshot.paidAmount == 3 }
        }
    }

    @Test func aPaymentInFlightAcrossAPayerCrashFailsWhenTheSweeperCancelsIt() async throws {
        try await withTestNetwork(3, configure: R.configure()) { net in
            let c = try await R.mesh(net, [(0, 1), (1, 2)])
            // Hop 1's proposal to node 2 is lost: the HTLCs stay pending until their expiry.
            net.disconnect(1, 2)
            let payer = try Self.routed(net[0])
            let id = try PaymentJournal.PaymentID(Array("stuck".utf8))
            let call = Task { try await payer.pay(to: net[2].id, amount: Amount(500), asset: TestNetwork.usdc, id: id) }
            try await net[1].waitFor("hop 1 offered the HTLC on \(c[1])") {
                await net[1].payments.htlcChannel(c[1])?.pending.count == 1 ? true : nil
            }
            try await net[0].restart(crash: true)
            // The call ends with the node (its payment pending: the HTLC may still be paid).
            #expect((try? await call.value)?.status == .pending)
            try await net.connect(0, 1)
            let after = try Self.routed(net[0])
            await after.resolve()
            #expect(await after.payment(id)?.status == .pending) // its HTLC is still in flight
            // Hop 1's outgoing HTLC expires (the 2 minutes asked of the final hop): it fails the payment upstream.
            net.advance(by: .seconds(121))
            let reason = try await net[0].waitFor("the payment resolved as failed") { () async -> String? in
                await after.resolve()
                return Self.failed(await after.payment(id))
            }
            #expect(reason.contains("\(PaymeshErrorCode.htlcTimeout)"))
            let outcome = await after.payment(id)?.attempts.last?.outcome
            guard case .failed(nil, .htlcTimeout, nil)? = outcome else { Issue.record("attempt: \(String(describing: outcome))"); return }
            try await R.expectSettled(net, 0, 1, c[0], 0)
            // The unattributed failure was shared by the intermediate node; the record survives a restart.
            let blamed = await after.reputationSnapshot().nodes
            #expect(blamed.first { $0.0 == net[1].id }?.1.failures == ReputationTracker.unit)
            try await net[0].restart(crash: true)
            #expect(try await Self.routed(net[0]).reputationSnapshot().nodes.map(\.0) == blamed.map(\.0))
            #expect(try await Self.routed(net[0]).reputationSnapshot().nodes.map(\.1) == blamed.map(\.1))
        }
    }

    @Test func aPaymentInFlightAcrossAPayerCrashSucceedsWithThePreimage() async throws {
        try await withTestNetwork(3, configure: R.configure()) { net in
            let c = try await R.mesh(net, [(0, 1), (1, 2)])
            let payer = try R.routed(net[0])
            let id = try PaymentJournal.PaymentID(Array("crash-mid-payment".utf8))
            let call = Task { try await payer.pay(to: net[2].id, amount: Amount(500), asset: TestNetwork.usdc, id: id) }
            // The HTLC reached hop 1 (so it was durable at the payer); the payer crashes at any point after.
            try await net[1].waitFor("hop 1 took \(c[0]) over") { await net[1].payments.htlcChannel(c[0]) != nil ? true : nil }
            try await net[0].restart(crash: true)
            _ = try? await call.value
            try await net.connect(0, 1)
            let after = try R.routed(net[0])
            // Whichever the instant: the preimage was durable at the payer (outcome) or hop 1 repeats
            // its fulfil when the link is back; either way the payment succeeds, never pending.
            let p = try await net[0].waitFor("the payment resolved") { () async -> PaymentJournal.Payment? in
                await after.resolve()
                guard let p = await after.payment(id), p.status.isFinal else { return nil }
                return p
            }
            #expect(R.succeeded(p) && p.feesPaid == Amount(7))
            try await R.expectSettled(net, 0, 1, c[0], 507)
            try await R.expectSettled(net, 1, 2, c[1], 500)
        }
    }

    // MARK: Fewer writes on the critical path (issue 10 latency): each ordering claim, with the write
    // that a crash could lose refused for real by a trigger in the node's own SQLite file.

    /// Node `node`'s store file.
    static func storePath(_ node: TestNode) -> String { node.directory + "/" + PaymentsConfiguration.storeFileName }

    /// Counts rows of node 0's store (read-only, beside the running node).
    static func count(_ path: String, _ table: String) throws -> String {
        try StoreHardeningTests.sql(path, "SELECT count(*) FROM \(table)", readOnly: true).first ?? "?"
    }

    /// The attempt's journal entry rides in the write of the first HTLC's state (Specs/routing.md §8
    /// step 5): when that write is refused, neither is durable — no crash can leave an HTLC sent
    /// without its attempt, nor an attempt whose HTLC state never existed — nothing is sent, and after
    /// a crash there is no entry to resolve and nothing paid.
    @Test func theAttemptAndTheFirstHTLCStateAreOneWrite() async throws {
        try await withTestNetwork(3, configure: R.configure()) { net in
            let c = try await R.mesh(net, [(0, 1), (1, 2)])
            let path = Self.storePath(net[0])
            try StoreHardeningTests.sql(path, "CREATE TRIGGER refuse_htlc BEFORE INSERT ON htlcs BEGIN SELECT RAISE(ABORT, 'injected'); END")
            let payer = try Self.routed(net[0])
            let id = try PaymentJournal.PaymentID(Array("one-write".utf8))
            let call = Task { try await payer.pay(to: net[2].id, amount: Amount(500), asset: TestNetwork.usdc, id: id) }
            // The refused write publishes no event to wait on: look every 10 ms, for at most 10 s.
            for _ in 0..<1_000 where await net[0].payments.htlcChannel(c[0])?.pending.count != 1 { try await Task.sleep(for: .milliseconds(10)) }
            #expect(await net[0].payments.htlcChannel(c[0])?.pending.count == 1, "the book offered the HTLC (in memory)")
            // A write enqueued after the HTLC step's: once it is durable, the writer has refused that step.
            _ = try await payer.createInvoice(amount: Amount(1), asset: TestNetwork.usdc, memo: "barrier", expiryMillis: nil)
            #expect(try Self.count(path, "payments") == "0")
            #expect(try Self.count(path, "htlcs") == "0")
            #expect(await net[1].payments.htlcChannel(c[0]) == nil) // never sent
            await net[0].crash()
            _ = try? await call.value
            try StoreHardeningTests.sql(path, "DROP TRIGGER refuse_htlc")
            try await net[0].start()
            try await net.connect(0, 1)
            let after = try Self.routed(net[0])
            await after.resolve()
            #expect(await after.payment(id) == nil) // never begun durably: nothing to resolve, nothing paid
            #expect(await net[0].payments.htlcEntries().isEmpty)
            #expect(await net[1].payments.htlcEntries().isEmpty)
            _ = try await net[1].waitForChannel(c[0], "paid nothing") { $0.snapshot.paidAmount == 0 }
        }
    }

    /// The caller is answered once the fulfil's write (with its route outcome) is durable, before the
    /// journal's own final write (Specs/routing.md §6.2, §8 step 6). That write is refused here — what
    /// a crash right after the answer leaves: the resolver keeps the outcome while the journal's
    /// final state is not durable, and after the crash the payment resolves as paid, never paid twice.
    @Test func aPaymentAnsweredBeforeItsJournalWriteStaysPaidAcrossACrash() async throws {
        try await withTestNetwork(3, configure: R.configure()) { net in
            let c = try await R.mesh(net, [(0, 1), (1, 2)])
            let path = Self.storePath(net[0])
            try StoreHardeningTests.sql(path, """
                CREATE TRIGGER refuse_final BEFORE INSERT ON payments WHEN instr(CAST(NEW.record AS TEXT), '"status":"succeeded"') > 0
                BEGIN SELECT RAISE(ABORT, 'injected'); END
                """)
            let payer = try Self.routed(net[0])
            let id = try PaymentJournal.PaymentID(Array("answered-early".utf8))
            let p = try await payer.pay(to: net[2].id, amount: Amount(500), asset: TestNetwork.usdc, id: id)
            #expect(R.succeeded(p))
            // Resolutions while the final state is not durable (and after its write was refused) keep the outcome.
            await payer.resolve()
            _ = try await payer.createInvoice(amount: Amount(1), asset: TestNetwork.usdc, memo: "barrier", expiryMillis: nil)
            await payer.resolve()
            #expect(try Self.count(path, "route_outcomes") == "1")
            #expect(try StoreHardeningTests.sql(path, "SELECT instr(CAST(record AS TEXT), '\"status\":\"pending\"') > 0 FROM payments",
                                                readOnly: true) == ["1"])
            await net[0].crash()
            try StoreHardeningTests.sql(path, "DROP TRIGGER refuse_final")
            try await net[0].start()
            try await net.connect(0, 1)
            let after = try Self.routed(net[0])
            await after.resolve()
            let q = await after.payment(id)
            #expect(q.map(R.succeeded) == true && q?.feesPaid == Amount(7))
            #expect(try Self.count(path, "route_outcomes") == "0") // taken once the journal's state is durable
            let again = try await after.pay(to: net[2].id, amount: Amount(500), asset: TestNetwork.usdc, id: id)
            #expect(R.succeeded(again))
            try await R.expectSettled(net, 0, 1, c[0], 507)
            try await R.expectSettled(net, 1, 2, c[1], 500)
        }
    }
}
