import PaymeshChannels
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshTestSupport
import Testing

/// The asset registry on nodes (Specs/README.md, "Money"): one decimals per asset id, fixed by
/// the first use, kept across restarts, checked for local calls and for a peer's opens.
@Suite struct AssetRegistryNetworkTests {
    static func usdc(_ decimals: UInt8) throws -> Asset { try Asset(id: "USDC", decimals: decimals) }

    static func code(_ body: () async throws -> Void) async -> PaymeshErrorCode? {
        do { try await body() } catch let e as NodeError { return e.paymeshCode } catch { return nil }
        return nil
    }

    @Test func fundingAndOpeningWithOtherDecimalsAreRefusedAndTheFirstUseSurvivesARestart() async throws {
        try await withTestNetwork(2) { net in
            try await net.connect(0, 1)
            try await net[0].fund(1_000_000, asset: try Self.usdc(6))
            #expect(await Self.code { try await net[0].fund(5, asset: try Self.usdc(8)) } == .assetMismatch)
            #expect(await Self.code { try await net[0].fund(5, asset: try Asset(id: "usdc", decimals: 6)) } == .assetMismatch)
            #expect(await Self.code { _ = try await net[0].openChannel(to: net[1], deposit: 100, asset: try Self.usdc(2)) } == .assetMismatch)
            #expect(await net[0].payments.views().isEmpty, "a refused open leaves no channel")
            #expect(try await net[0].wallet() == 1_000_000, "one USDC wallet, nothing credited by the refused calls")

            // The registry is rebuilt from the store: still 6 after a crash.
            try await net[0].restart(crash: true)
            #expect(await net[0].payments.assetDecimals("usdc") == 6)
            #expect(await Self.code { try await net[0].fund(5, asset: try Self.usdc(8)) } == .assetMismatch)
        }
    }

    @Test func anOpenLargerThanTheWalletIsRefusedWith1100BeforeAnythingIsCreated() async throws {
        try await withTestNetwork(2) { net in
            try await net.connect(0, 1)
            try await net[0].fund(1_500_000)
            var refusal: NodeError?
            do { _ = try await net[0].openChannel(to: net[1], deposit: 999_999_999_999) } catch let e as NodeError { refusal = e }
            #expect(refusal?.paymeshCode == .insufficientFunds, "\(String(describing: refusal))")
            #expect(refusal?.detail == "the deposit 999,999.999999 USDC is more than the USDC wallet holds (1.5 USDC); nothing was opened")
            #expect(await net[0].payments.views().isEmpty)
            #expect(await net[1].payments.views().isEmpty)
            #expect(try await net[0].wallet() == 1_500_000)
        }
    }

    @Test func aPayeeRefusesAnOpenWhoseDecimalsDifferFromItsRegistry() async throws {
        try await withTestNetwork(2) { net in
            try await net.connect(0, 1)
            try await net[1].fund(1, asset: try Self.usdc(6))     // the payee's USDC has 6 decimals
            try await net[0].fund(1_000_000, asset: try Self.usdc(2)) // the payer's has 2
            let error = await Self.code { _ = try await net[0].openChannel(to: net[1], deposit: 100, asset: try Self.usdc(2)) }
            #expect(error == .assetMismatch, "the payer sees the payee's reason")
            #expect(await net[1].payments.views().isEmpty, "the payee stored nothing")
            #expect(await net[0].payments.views().isEmpty, "the refused open leaves no channel in the payer's list")
            // The release of its deposit is a ledger write after the refusal: a positive condition awaited.
            let payer = net[0], usdc2 = try Self.usdc(2)
            #expect(try await eventually { try await payer.wallet(usdc2) == 1_000_000 }, "its deposit was released")
            // An asset the payee does not know is registered by the accepted open.
            try await net[0].fund(1_000, asset: try Asset(id: "ETH", decimals: 18))
            _ = try await net[0].openChannel(to: net[1], deposit: 100, asset: try Asset(id: "ETH", decimals: 18))
            #expect(await net[1].payments.assetDecimals("ETH") == 18)
        }
    }
}
