import PaymeshMessages
import PaymeshTestSupport
import Testing

/// Amounts for people (Specs/README.md, "Amounts for people"): exact decimal text under an
/// asset's decimals, and typed input converted back exactly.
@Suite("Amount decimals")
struct AmountDecimalTests {
    static func pow10(_ n: Int) -> UInt128 { (0..<n).reduce(1) { acc, _ in acc * 10 } }

    /// Amounts that exercise every digit position: 0, 1, powers of ten, 2^128 − 1 and seeded random values.
    static func samples(seed: UInt64) -> [UInt128] {
        var rng = SplitMix64(seed: seed)
        var values: [UInt128] = [0, 1, 9, 10, 999_999, 1_000_000, 103_533, 99_999_988_000, UInt128.max, UInt128.max - 1]
        values += (0...38).map(pow10)
        for _ in 0..<200 {
            let bits = Int(rng.next() % 128) + 1
            let raw = UInt128(rng.next()) << 64 | UInt128(rng.next())
            values.append(bits == 128 ? raw : raw & ((1 << UInt128(bits)) - 1))
        }
        return values
    }

    @Test func exactRoundTripsForDecimalsZeroToEighteenAndUpToUInt128Max() throws {
        let seed = TestSeed.resolve("AmountDecimalTests")
        for decimals in UInt8(0)...18 {
            for value in Self.samples(seed: seed &+ UInt64(decimals)) {
                let amount = Amount(value)
                let text = amount.decimalText(decimals: decimals)
                #expect(try Amount(decimalText: text, decimals: decimals) == amount, "\(value) with \(decimals) decimals: \(text)")
                let grouped = amount.decimalText(decimals: decimals, grouping: true)
                #expect(grouped.replacingOccurrences(of: ",", with: "") == text)
                // Typed as "<text>USDC" it converts back exactly too.
                let input = try AmountInput(parsing: text + "USDC")
                #expect(input.assetID == "USDC" && !input.isAtomic)
                #expect(try input.atomicUnits(decimals: decimals) == amount)
            }
        }
        // The largest decimals the wire allows, too.
        #expect(try Amount(decimalText: Amount(UInt128.max).decimalText(decimals: 36), decimals: 36) == Amount(UInt128.max))
    }

    @Test func humanForms() throws {
        let usdc = try Asset(id: "USDC", decimals: 6)
        #expect(Amount(103_533).formatted(usdc) == "0.103533 USDC")
        #expect(Amount(99_999_988_000).formatted(usdc) == "99,999.988 USDC")
        #expect(Amount(1_000_000).formatted(usdc) == "1 USDC")
        #expect(Amount(0).formatted(usdc) == "0 USDC")
        #expect(Amount(1).formatted(usdc) == "0.000001 USDC")
        #expect(Amount(1_234_567).formatted(try Asset(id: "SAT", decimals: 0)) == "1,234,567 SAT")
        #expect(Amount(UInt128.max).decimalText(decimals: 18, grouping: true) == "340,282,366,920,938,463,463.374607431768211455")
        #expect(Amount(100).decimalText(decimals: 0) == "100")
    }

    @Test func typedInputForms() throws {
        #expect(try AmountInput(parsing: "1000000").isAtomic)
        #expect(try AmountInput(parsing: "1000000").atomicUnits(decimals: 6) == Amount(1_000_000), "digits alone are atomic units")
        #expect(try AmountInput(parsing: "1.5USDC").atomicUnits(decimals: 6) == Amount(1_500_000))
        #expect(try AmountInput(parsing: " 1.5 usdc ").assetID == "USDC")
        #expect(try AmountInput(parsing: "2USDC").atomicUnits(decimals: 6) == Amount(2_000_000))
        #expect(try AmountInput(parsing: "1.5").atomicUnits(decimals: 2) == Amount(150))
        #expect(try AmountInput(parsing: "007").atomicUnits(decimals: nil) == Amount(7))
        #expect(try AmountInput(parsing: String(UInt128.max)).atomicUnits(decimals: nil) == Amount(UInt128.max))
    }

    @Test(arguments: [
        ("1.0000001", UInt8(6)),  // more decimals than the asset
        ("0.5", UInt8(0)),
        ("1.", UInt8(6)), (".5", UInt8(6)), ("1.2.3", UInt8(6)), ("-1", UInt8(6)),
        ("1,000", UInt8(6)), ("", UInt8(6)), ("１", UInt8(6)),
        ("340282366920938463463374607431768211455.1", UInt8(1)),  // past 2^128 − 1 atomic units
        ("340282366920938463463374607431768211456", UInt8(0)),
    ])
    func refusals(text: String, decimals: UInt8) {
        #expect(throws: MessageError.self, "\(text)") { try AmountInput(parsing: text).atomicUnits(decimals: decimals) }
    }

    @Test func decimalValueWithoutAnAssetIsRefused() throws {
        let input = try AmountInput(parsing: "1.5")
        #expect(throws: MessageError.self) { try input.atomicUnits(decimals: nil) }
        #expect(throws: MessageError.self) { try AmountInput(parsing: "1.5 US DC") }
    }

    @Test func assetIDsAreNormalised() throws {
        #expect(Asset.normalizedID("usdc") == "USDC")
        #expect(Asset.normalizedID(" wEth-ünïcode ") == "WETH-üNïCODE", "only ASCII letters change")
        #expect(try Asset(id: "USDC", decimals: 6).hasNormalizedID)
        #expect(try !Asset(id: "usdc", decimals: 6).hasNormalizedID)
    }
}

/// `Specs/vectors/amounts.json`, computed by `scripts/vectors/gen_amount_vectors.py` (Python
/// integers and strings, independently of this code).
@Suite("Amount vectors")
struct AmountVectorTests {
    struct File: Decodable {
        struct Case: Decodable { let atomic: String, decimals: UInt8, text: String, people: String }
        struct Refusal: Decodable { let input: String, decimals: UInt8, why: String }
        let asset: String
        let cases: [Case]
        let refusals: [Refusal]
    }

    @Test func vectors() throws {
        let file = try TestVectors.load(File.self, spec: "amounts.json")
        #expect(file.cases.count >= 60 && file.refusals.count >= 8)
        for c in file.cases {
            let amount = try Amount(decimal: c.atomic), asset = try Asset(id: file.asset, decimals: c.decimals)
            #expect(amount.decimalText(decimals: c.decimals) == c.text, "\(c.atomic)/\(c.decimals)")
            #expect(amount.formatted(asset) == c.people, "\(c.atomic)/\(c.decimals)")
            #expect(try Amount(decimalText: c.text, decimals: c.decimals) == amount, "\(c.text)")
            #expect(try AmountInput(parsing: c.text + file.asset).atomicUnits(decimals: c.decimals) == amount, "\(c.text)")
        }
        for r in file.refusals {
            // Refused: unparsable, or naming another asset than the call's, or not exact in its decimals.
            let input = try? AmountInput(parsing: r.input)
            let refused = input == nil || (input!.assetID.map { $0 != file.asset } ?? false)
                || (try? input!.atomicUnits(decimals: r.decimals)) == nil
            #expect(refused, "\(r.input): \(r.why)")
        }
    }
}
