import Foundation
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import PaymeshStore
import Testing

/// Issue 8: one settlement interface. The node's ledger is a `SettlementBackend` over its store and
/// decides with `LedgerRules`, the same rule code as `MemoryLedger` (the machine-level tests' books).
@Suite struct NodeLedgerTests {
    static let payer = try! EthereumAddress([UInt8](repeating: 0xAA, count: 20))
    static let payee = try! EthereumAddress([UInt8](repeating: 0xBB, count: 20))
    static let usdc = try! Asset(id: "USDC", decimals: 6)

    static func channel(_ tag: UInt8, role: PaymeshStore.ChannelRole) throws -> ChannelRecord {
        ChannelRecord(id: try ChannelID([UInt8](repeating: tag, count: 32)), role: role,
                      localAddress: role == .payer ? payer : payee, remoteAddress: role == .payer ? payee : payer, asset: usdc,
                      deposit: Amount(100), challengePeriodSeconds: 60, settlementBackend: LedgerRules.localLedgerID, chainID: 1,
                      verifyingContract: .zero, status: .open, openSignature: nil, openedAtMillis: 0)
    }

    /// Both ledgers give the same answers to the same requests (the rules live once).
    @Test func theNodeLedgerAndTheMemoryLedgerApplyTheSameRules() async throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        let store = try ChannelStore(path: directory + "/channels.sqlite")
        let backends: [any SettlementBackend] = [NodeLedger(store: store), MemoryLedger()]
        try await NodeLedger(store: store).fund(owner: Self.payer, asset: Self.usdc, amount: 1_000, now: 0)
        try (backends[1] as! MemoryLedger).fund(Self.payer, asset: "USDC", amount: 1_000)
        let record = try Self.channel(1, role: .payer)
        try await store.saveChannel(record)
        let lock = DepositLock(channelID: record.id, payer: Self.payer, asset: "USDC", amount: 100)
        let payout = Payout(channelID: record.id, payer: Self.payer, payee: Self.payee, asset: "USDC", deposit: 100,
                            payeeAmount: 30, finalNonce: 3, cooperative: true)
        var other = payout
        other.payeeAmount = 31
        var answers: [[[SettlementEvent]]] = []
        for backend in backends {
            var a: [[SettlementEvent]] = []
            for request in [SettlementRequest.lockDeposit(lock), .lockDeposit(lock), .payout(payout), .payout(payout), .payout(other)] {
                a.append(await backend.submit(request, asset: Self.usdc, side: .payer, now: 0))
            }
            answers.append(a)
        }
        #expect(answers[0] == answers[1], "\(answers)")
        let ok = { (r: SettlementRequest) in [SettlementEvent.submitted(LedgerRules.settlementID(r), record.id, r.kind),
                                               .confirmed(LedgerRules.settlementID(r), record.id, r.kind)] }
        #expect(answers[0][0] == ok(.lockDeposit(lock)))
        // A second lock of the channel is refused (the node's ledger used to debit the payer twice).
        #expect(answers[0][1] == [.failed(nil, record.id, .lockDeposit, reason: "channel already has a deposit")])
        #expect(answers[0][2] == ok(.payout(payout)) && answers[0][3] == ok(.payout(payout)))
        #expect(answers[0][4] == [.failed(nil, record.id, .payout, reason: "channel already settled with another final state")])
        #expect(try store.ledger.balance(owner: Self.payer, assetID: "USDC") == Amount(970))
        #expect(try store.ledger.balance(owner: Self.payee, assetID: "USDC") == Amount(30))
        #expect(try store.ledger.escrow(channel: record.id) == .zero)
        await store.close()
    }
}
