import Foundation
import PaymeshOnion
import PaymeshTestSupport
import Testing

/// Replays Fuzz/Regressions/FuzzOnionPeel/ (seed corpus and crashers) through the fuzz
/// target's own harness (FuzzHarness/ holds symlinks to Fuzz/Sources/FuzzHarness/).
@Suite("Fuzz regressions: onion")
struct OnionFuzzRegressionTests {
    @Test func onionPeel() throws {
        var total = OnionPeelHarness.Outcome()
        for input in try TestVectors.fuzzRegressions("FuzzOnionPeel") {
            do throws(FuzzViolation) {
                let outcome = try OnionPeelHarness.run(input.bytes)
                total.peeled += outcome.peeled
                total.payloads += outcome.payloads
                total.failures += outcome.failures
                total.errors += outcome.errors
            } catch {
                Issue.record("\(input.name): \(error)")
            }
        }
        // The vector's packet (3 hops), the vector's route (3), 20 hops, one hop, the largest payload.
        #expect(total.peeled == 3 + 3 + 20 + 1 + 1 && total.payloads >= 6, "\(total)")
        // Only the failure as the origin receives it decrypts (the hop's own, unwrapped packet does not).
        #expect(total.failures == 1, "\(total)")
        #expect(total.errors.contains { $0.isHMACMismatch } && total.errors.contains(.wrongPacketLength(1_365)), "\(total.errors)")
    }
}
