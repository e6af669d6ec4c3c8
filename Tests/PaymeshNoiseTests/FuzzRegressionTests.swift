import Foundation
import PaymeshNoise
import PaymeshTestSupport
import Testing

/// Replays every file in Fuzz/Regressions/FuzzNoiseResponder/ (fuzzer crashers and the seed
/// corpus) through the fuzz target's own harness: FuzzHarness/ holds symlinks to
/// Fuzz/Sources/FuzzHarness/, so a harness invariant that fails here is the one that made the
/// fuzzer crash. A missing or empty directory fails the test.
@Suite("Fuzz regressions: noise")
struct NoiseFuzzRegressionTests {
    @Test func noiseResponder() throws {
        var established = 0, rejected = 0, transportMessages = 0
        for input in try TestVectors.fuzzRegressions("FuzzNoiseResponder") {
            do throws(FuzzViolation) {
                let outcome = try NoiseResponderHarness.run(input.bytes)
                if outcome.established { established += 1 }
                if outcome.error != nil { rejected += 1 }
                transportMessages += outcome.transportMessages
            } catch {
                Issue.record("\(input.name): \(error)")
            }
        }
        #expect(established > 0 && rejected > 0 && transportMessages > 0,
                "the inputs complete handshakes, carry transport messages and get rejected")
    }
}
