import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshRouting
import PaymeshTestSupport
import Testing

/// Untrusted invoice strings: random text, random bytes behind the prefix, and a valid invoice with
/// random bytes flipped are refused with a typed error, never a crash.
@Suite("Invoice robustness")
struct InvoiceRobustnessTests {
    @Test("random input is refused with a typed error")
    func random() throws {
        let seed = TestSeed.resolve("InvoiceRobustnessTests")
        var rng = SplitMix64(seed: seed)
        let valid = try InvoiceTests.invoice(memo: "robust").encoded(signedBy: InvoiceTests.key)
        let raw = Base32.decode(valid.dropFirst(Invoice.prefix.count).utf8)!
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567=1!ABC ")
        var refused: [String: Int] = [:]
        for round in 0..<600 {
            let text: String
            switch round % 3 {
            case 0: // random text, sometimes with the prefix
                let n = Int(rng.next() % 300)
                let body = String((0..<n).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
                text = (rng.next() % 2 == 0 ? Invoice.prefix : "") + body
            case 1: // random bytes, canonically encoded behind the prefix
                let n = Int(rng.next() % 400)
                text = Invoice.prefix + Base32.encode((0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            default: // a valid invoice with 1–3 bytes changed
                var bytes = raw
                for _ in 0..<(1 + rng.next() % 3) {
                    let i = Int(rng.next() % UInt64(bytes.count))
                    bytes[i] ^= UInt8(truncatingIfNeeded: rng.next() % 255 + 1)
                }
                text = Invoice.prefix + Base32.encode(bytes)
            }
            let error = failure { try Invoice.decode(text, now: t0) }
            #expect(error != nil, "accepted (seed \(seed), round \(round)): \(text)")
            refused[error?.kind ?? "accepted", default: 0] += 1
        }
        // Each kind of refusal occurs (the input generator reaches every stage of decoding).
        #expect(refused["invoice_malformed", default: 0] > 0)
        // (Random text seldom passes the length and case checks that come before the prefix, so the
        // prefix refusal is checked on a fixed input rather than counted.)
        let otherPrefix = "pmxyz1" + valid.dropFirst(Invoice.prefix.count)
        #expect(failure { try Invoice.decode(otherPrefix, now: t0) }?.kind == "invoice_wrong_prefix")
        #expect(refused["invoice_bad_signature", default: 0] > 0)
        #expect(refused["accepted"] == nil)
    }
}
