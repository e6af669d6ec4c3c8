import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshStore
import Testing

/// Schema v7 (Specs/storage.md "Invoices and payments"): invoices round-trip with their preimage;
/// a known payment hash is refused; the paid mark is written with the channel's HTLC state and
/// keeps the first payment; journal entries are replaced by id and survive a reopen.
@Suite struct InvoiceStoreTests {
    static func invoice(_ b: UInt8, amount: Amount? = Amount(1_000)) -> InvoiceRecord {
        InvoiceRecord(paymentHash: try! Hash32([UInt8](repeating: b, count: 32)), preimage: try! Hash32([UInt8](repeating: b &+ 1, count: 32)),
                      invoice: "pminv1test\(b)", amount: amount, asset: try! Asset(id: "USDC", decimals: 6), memo: "memo \(b)",
                      createdMillis: 1_767_225_600_000 + UInt64(b), expiresAtMillis: 1_767_229_200_000)
    }

    @Test func invoicesAndPaymentsRoundTrip() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("s.sqlite"))
        try await store.saveChannel(Fixtures.channel(0, role: .payee))
        try await store.insertInvoice(Self.invoice(1))
        try await store.insertInvoice(Self.invoice(2, amount: nil))
        #expect(try store.loadInvoices() == [Self.invoice(1), Self.invoice(2, amount: nil)])
        // A preimage is never replaced.
        await #expect(throws: StoreError.self) { try await store.insertInvoice(Self.invoice(1, amount: Amount(5))) }
        // Paid in the same request as the HTLC state; a second mark keeps the first payment.
        let paid = InvoicePayment(paymentHash: Self.invoice(1).paymentHash, amount: Amount(1_001), channelID: Fixtures.channelID(0),
                                  atMillis: 1_767_225_700_000)
        var state = StoredHTLCChannel(channelID: Fixtures.channelID(0), nonce: 1, settled: .zero, htlcs: [])
        state.paidInvoices = [paid]
        try await store.saveHTLCs(state)
        var again = paid
        again.amount = Amount(7)
        state.paidInvoices = [again]
        try await store.saveHTLCs(state)
        var expected = Self.invoice(1)
        expected.paid = paid
        #expect(try store.loadInvoices().first == expected)

        let entry = StoredPayment(id: Array("order-1".utf8), paymentHash: Self.invoice(1).paymentHash, createdMillis: 5, record: Array("{}".utf8))
        try await store.savePayment(entry)
        var replaced = entry
        replaced.record = Array(#"{"v":1}"#.utf8)
        try await store.savePayment(replaced)
        #expect(try store.loadPayments() == [replaced])
        await store.close()
        let reopened = try ChannelStore(path: dir.file("s.sqlite"))
        #expect(try reopened.loadPayments() == [replaced] && reopened.loadInvoices().count == 2)
        #expect(try reopened.integrityCheck() == ["ok"])
        await reopened.close()
    }
}
