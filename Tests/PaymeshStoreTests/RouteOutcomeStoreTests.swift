import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshStore
import Testing

/// Schema v8 (Specs/storage.md "Route outcomes"): an origin outcome is written with the HTLC state
/// that drops its HTLC (both or neither), read back oldest first, and deleted once taken.
@Suite struct RouteOutcomeStoreTests {
    static func hash(_ b: UInt8) -> Hash32 { try! Hash32([UInt8](repeating: b, count: 32)) }
    static let paid = RouteOutcome.succeeded(hash(1), preimage: hash(2), at: 1_767_225_600_000)

    /// A store holding channel 0 (and its open directory).
    static func storeWithChannel() async throws -> (ChannelStore, TemporaryDirectory) {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("s.sqlite"))
        try await store.saveChannel(Fixtures.channel(0))
        return (store, dir)
    }

    static func state(_ outcomes: [RouteOutcome] = []) -> StoredHTLCChannel {
        var state = StoredHTLCChannel(channelID: Fixtures.channelID(0), nonce: 2, settled: Amount(10), htlcs: [])
        state.routeOutcomes = outcomes
        return state
    }

    @Test func outcomesAreWrittenWithTheHTLCStateAndDeletedOnceTaken() async throws {
        let (store, dir) = try await Self.storeWithChannel()
        let paid = Self.paid
        let failed = RouteOutcome.failed(Self.hash(3), code: .feeInsufficient, hopIndex: 1,
                                         node: try EthereumAddress([UInt8](repeating: 7, count: 20)), at: 1_767_225_600_001)
        let unattributed = RouteOutcome.failed(Self.hash(4), code: .htlcTimeout, hopIndex: nil, node: nil, at: 1_767_225_600_002)
        try await store.saveHTLCs(Self.state([paid, failed, unattributed]))
        #expect(try store.loadRouteOutcomes() == [paid, failed, unattributed])
        // Refused with the HTLC state (a channel the store does not hold): nothing of it is written.
        var orphan = StoredHTLCChannel(channelID: Fixtures.channelID(5), nonce: 1, settled: .zero, htlcs: [])
        orphan.routeOutcomes = [.succeeded(Self.hash(9), preimage: Self.hash(8), at: 1)]
        await #expect(throws: StoreError.self) { try await store.saveHTLCs(orphan) }
        try await store.deleteRouteOutcomes([Self.hash(1), Self.hash(4)])
        await store.close()
        let reopened = try ChannelStore(path: dir.file("s.sqlite"))
        #expect(try reopened.loadRouteOutcomes() == [failed])
        await reopened.close()
    }

    /// The origin's journal entry rides in the request of its first HTLC's state (Specs/storage.md
    /// "Invoices and payments"): written with it, and refused with it — never one without the other.
    @Test func aJournalEntryIsWrittenWithTheHTLCStateOrNotAtAll() async throws {
        let (store, dir) = try await Self.storeWithChannel()
        let entry = StoredPayment(id: Array("p1".utf8), paymentHash: Self.hash(1), createdMillis: 5, record: Array("{}".utf8))
        var state = Self.state()
        state.payments = [entry]
        try await store.saveHTLCs(state)
        var orphan = StoredHTLCChannel(channelID: Fixtures.channelID(5), nonce: 1, settled: .zero, htlcs: [])
        orphan.payments = [StoredPayment(id: Array("p2".utf8), paymentHash: Self.hash(2), createdMillis: 6, record: Array("{}".utf8))]
        await #expect(throws: StoreError.self) { try await store.saveHTLCs(orphan) }
        await store.close()
        let reopened = try ChannelStore(path: dir.file("s.sqlite"))
        #expect(try reopened.loadPayments() == [entry])
        #expect(try reopened.loadHTLCChannels().map(\.channelID) == [Fixtures.channelID(0)])
        await reopened.close()
    }

    /// A payment's final entry, the outcome it takes and the reputation are one request (Specs/storage.md
    /// "Route outcomes"): the outcome is deleted only with the entry, and a refused request leaves both.
    @Test func aFinalEntryTakesItsOutcomeInTheSameRequest() async throws {
        let (store, dir) = try await Self.storeWithChannel()
        let paid = Self.paid
        try await store.saveHTLCs(Self.state([paid]))
        let entry = StoredPayment(id: Array("p1".utf8), paymentHash: Self.hash(1), createdMillis: 5, record: Array("{}".utf8))
        // Refused (an id longer than 64 bytes breaks the table's CHECK): nothing of it is written.
        let refused = StoredPayment(id: [UInt8](repeating: 1, count: 65), paymentHash: Self.hash(1), createdMillis: 5, record: [])
        for (payment, expected) in [(refused, false), (entry, true)] {
            let result: Result<Void, StoreError> = await withCheckedContinuation { done in
                store.enqueuePayment(payment, takingOutcomes: [Self.hash(1)], metadata: [7], forKey: "k") { done.resume(returning: $0) }
            }
            #expect(((try? result.get()) != nil) == expected)
            #expect(try store.loadRouteOutcomes() == (expected ? [] : [paid]))
            #expect(try store.metadata(forKey: "k") == (expected ? [7] : nil))
        }
        #expect(try store.loadPayments() == [entry])
        await store.close()
        withExtendedLifetime(dir) {}
    }
}
