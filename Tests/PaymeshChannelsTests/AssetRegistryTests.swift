import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import Testing

/// One decimals per asset id (Specs/README.md, "Money"; channels.md §3.2 step 4b).
@Suite("Asset registry")
struct AssetRegistryTests {
    @Test func firstUseFixesTheDecimals() throws {
        var registry = AssetRegistry()
        #expect(try registry.use(Asset(id: "USDC", decimals: 6)))
        #expect(try !registry.use(Asset(id: "USDC", decimals: 6)), "a second use of the same asset registers nothing")
        #expect(registry.decimals(of: "usdc") == 6)
        let error = #expect(throws: ChannelError.self) { try registry.use(Asset(id: "USDC", decimals: 8)) }
        #expect(error?.code == .assetMismatch && error?.detail == "USDC has 6 decimals on this node, not 8")
        #expect(throws: ChannelError.self) { try registry.check(Asset(id: "usdc", decimals: 6)) }
        #expect(registry.decimals(of: "USDC") == 6, "a refused use changes nothing")
    }

    @Test func configuredAssetsWinOverStoredUsesAndAreNeverForgotten() throws {
        var registry = AssetRegistry(configured: ["usdc": 6])
        #expect(registry.decimals(of: "USDC") == 6)
        #expect(!registry.learn(try Asset(id: "USDC", decimals: 2)), "a stored use with other decimals conflicts")
        #expect(registry.learn(try Asset(id: "ETH", decimals: 18)))
        registry.forget("USDC")
        registry.forget("ETH")
        #expect(registry.decimals(of: "USDC") == 6 && registry.decimals(of: "ETH") == nil)
    }

    @Test func aPayeeRefusesAnOpenWithOtherDecimalsOrAnIdNotNormalised() throws {
        let registry = AssetRegistry(configured: ["USDC": 6])
        func code(_ asset: Asset) throws -> PaymeshErrorCode? {
            let open = try PaymentOpen(channelID: ChannelID([UInt8](repeating: 7, count: 32)), sender: K.payerAddress, receiver: K.payeeAddress,
                                       asset: asset, totalDeposit: Amount(100), challengePeriodSeconds: 3_600, settlement: "local-ledger",
                                       chainID: 0, verifyingContract: .zero, nonce: 0, timestamp: K.t0, signature: .unsigned).signed(with: K.payer)
            let capacity = OpenCapacity(channelsWithPayer: 0, committedInflow: 0, assets: registry)
            switch PayeeChannel.accept(open, key: K.payee, policy: .init(), authenticatedPeer: K.payerAddress, capacity: capacity, now: K.t0) {
            case .accepted: return nil
            case .rejected(let error, let actions):
                #expect(actions.acks.first?.errorCode == error.code)
                return error.code
            }
        }
        #expect(try code(Asset(id: "USDC", decimals: 6)) == nil)
        #expect(try code(Asset(id: "USDC", decimals: 2)) == .assetMismatch)
        #expect(try code(Asset(id: "usdc", decimals: 6)) == .assetMismatch)
        #expect(try code(Asset(id: "ETH", decimals: 18)) == nil, "an id the registry does not know is accepted")
    }
}
