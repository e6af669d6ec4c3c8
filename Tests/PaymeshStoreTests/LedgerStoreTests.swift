import PaymeshMessages
import Testing
@testable import PaymeshStore

@Suite struct LedgerStoreTests {
    let payer = Fixtures.address(0x01)
    let payee = Fixtures.address(0x02)

    @Test func depositLockAndSettlementMoveMoneyExactly() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("l.sqlite"))
        let ledger = store.ledger
        let channel = Fixtures.channelID(0)
        try await store.saveChannel(Fixtures.channel(0))
        let big = UInt128(1) << 120 // beyond any 64-bit or double representation
        try await ledger.fund(owner: payer, asset: Fixtures.asset, amount: Amount(big + 7), timestampMillis: 1)
        try await ledger.lockDeposit(channel: channel, payer: payer, asset: Fixtures.asset, amount: Amount(big), timestampMillis: 2)
        #expect(try ledger.balance(owner: payer, assetID: "USDC") == Amount(7))
        #expect(try ledger.escrow(channel: channel) == Amount(big))
        try await ledger.settle(ChannelSettlement(channel: channel, payer: payer, payee: payee, asset: Fixtures.asset,
                                                  paid: Amount(big - 3), refund: Amount(3), timestampMillis: 3))
        #expect(try ledger.balance(owner: payee, assetID: "USDC") == Amount(big - 3))
        #expect(try ledger.balance(owner: payer, assetID: "USDC") == Amount(10))
        #expect(try ledger.escrow(channel: channel) == .zero)
        #expect(try ledger.balances() == [
            LedgerBalance(owner: payer, assetID: "USDC", amount: Amount(10)),
            LedgerBalance(owner: payee, assetID: "USDC", amount: Amount(big - 3)),
        ])
        #expect(try ledger.entries(channel: channel).map(\.reason) == [.depositLock, .payout, .refund])
        #expect(try ledger.entries(owner: payer, assetID: "USDC").map(\.direction) == [.credit, .debit, .credit])
        // A second settlement finds the escrow empty and writes nothing.
        await #expect(throws: StoreError.insufficientEscrow(channel)) {
            try await ledger.settle(ChannelSettlement(channel: channel, payer: payer, payee: payee, asset: Fixtures.asset,
                                                      paid: Amount(1), refund: .zero, timestampMillis: 4))
        }
        #expect(try ledger.entries(channel: channel).count == 3)
        await store.close()
    }

    @Test func refusesOverdraftsAndUnknownChannels() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("l.sqlite"))
        let ledger = store.ledger
        try await store.saveChannel(Fixtures.channel(0))
        try await ledger.fund(owner: payer, asset: Fixtures.asset, amount: Amount(100), timestampMillis: 1)
        await #expect(throws: StoreError.insufficientBalance(owner: payer, asset: "USDC")) {
            try await ledger.lockDeposit(channel: Fixtures.channelID(0), payer: payer, asset: Fixtures.asset,
                                         amount: Amount(101), timestampMillis: 2)
        }
        await #expect(throws: StoreError.unknownChannel(Fixtures.channelID(5))) {
            try await ledger.lockDeposit(channel: Fixtures.channelID(5), payer: payer, asset: Fixtures.asset,
                                         amount: Amount(1), timestampMillis: 2)
        }
        // Another asset is another account.
        let eth = try Asset(id: "ETH", decimals: 18)
        await #expect(throws: StoreError.insufficientBalance(owner: payer, asset: "ETH")) {
            try await ledger.lockDeposit(channel: Fixtures.channelID(0), payer: payer, asset: eth, amount: Amount(1), timestampMillis: 2)
        }
        #expect(try ledger.balance(owner: payer, assetID: "USDC") == Amount(100))
        #expect(try ledger.balance(owner: payer, assetID: "ETH") == .zero)
        #expect(try ledger.entries(owner: payer, assetID: "USDC").count == 1)
        await store.close()
    }
}
