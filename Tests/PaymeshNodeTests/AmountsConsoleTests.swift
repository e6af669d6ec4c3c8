import Foundation
import PaymeshConsole
import PaymeshNode
import PaymeshTestSupport
import Testing

/// Amounts and assets at the console (Specs/console.md §8, Specs/README.md "Money"): the forms
/// people type, the asset registry's refusals, and JSON that keeps atomic decimal strings.
@Suite struct AmountsConsoleTests {
    static func refusal(_ node: RunningNode, _ method: String, _ params: [String: JSONValue]) async throws -> ConsoleProtocol.RemoteError? {
        guard case .failure(let error) = try await node.callResult(method, params) else { return nil }
        return error
    }

    @Test func typedAmountsAndTheAssetRegistry() async throws {
        try await withTimeout(60) {
            let node = try await RunningNode.start()
            defer { removeDirectory(node.directory) }
            // First use: lower-case id normalised, decimals given, amount as a JSON integer (atomic).
            let first = try await node.call("ledger.fund", ["asset": "usdc", "decimals": 6, "amount": 1_000_000])
            #expect(first == ["asset": "USDC", "decimals": 6, "amount": "1000000", "balance": "1000000", "offChain": true], "\(first)")
            // The registry supplies the decimals; a decimal value with the asset in the amount.
            #expect(try await node.call("ledger.fund", ["amount": "1.5USDC"])["balance"] == "2500000")
            #expect(try await node.call("ledger.fund", ["asset": "USDC", "amount": "0.000001"])["balance"] == "2500001")
            // Refusals: other decimals (1106), too many decimals, an amount in another asset, a new id without decimals.
            let conflict = try #require(try await Self.refusal(node, "ledger.fund", ["asset": "USDC", "decimals": 8, "amount": "1"]))
            #expect(conflict.code == 1106 && conflict.name == "ASSET_MISMATCH" && conflict.message == "USDC has 6 decimals on this node, not 8", "\(conflict)")
            let precise = try #require(try await Self.refusal(node, "ledger.fund", ["asset": "USDC", "amount": "0.0000001"]))
            #expect(precise.code == -32602 && precise.message.contains("has 7 decimals; the asset has 6"), "\(precise)")
            let other = try #require(try await Self.refusal(node, "ledger.fund", ["asset": "USDC", "amount": "1e6"]))
            #expect(other.code == 1106, "1e6 reads as 1 of an asset E6, not USDC: \(other)")
            let unknown = try #require(try await Self.refusal(node, "ledger.fund", ["asset": "DAI", "amount": "1"]))
            #expect(unknown.code == -32602 && unknown.message.contains("give its decimals"), "\(unknown)")
            // One wallet, JSON in atomic units with the decimals beside them.
            let wallets = try await node.call("balance")["wallets"]
            #expect(wallets == [["asset": "USDC", "decimals": 6, "amount": "2500001"]], "\(String(describing: wallets))")
            // A string parameter takes a number (task_id=42 from `paymesh ctl`): refused only for its meaning.
            let noChannel = try #require(try await Self.refusal(node, "pay", ["channel": .string("0x" + String(repeating: "ab", count: 32)), "amount": 5, "task_id": 42]))
            #expect(noChannel.code == 1000, "\(noChannel)")
            await node.stop()
        }
    }
}
