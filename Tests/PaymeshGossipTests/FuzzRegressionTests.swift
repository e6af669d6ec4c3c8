import PaymeshTestSupport
import Testing

/// Replays Fuzz/Regressions/FuzzGossipRouter/ (seed corpus and crashers) through the fuzz
/// target's own harness (FuzzHarness/ holds symlinks to Fuzz/Sources/FuzzHarness/).
@Suite("Fuzz regressions: gossip")
struct GossipFuzzRegressionTests {
    @Test func gossipRouter() throws {
        var frames = 0, deliveries = 0, closed = 0
        var errors: Set<String> = []
        for input in try TestVectors.fuzzRegressions("FuzzGossipRouter") {
            do throws(FuzzViolation) {
                let outcome = try GossipRouterHarness.run(input.bytes)
                frames += outcome.frames
                deliveries += outcome.deliveries
                closed += outcome.closed ? 1 : 0
                errors.formUnion(outcome.errors)
            } catch {
                Issue.record("\(input.name): \(error)")
            }
        }
        #expect(frames > 0 && deliveries > 0 && closed > 0, "the inputs cover frames, deliveries and lost framing")
        // The corpus's unknown frame types were 9–11, which graph sync (§8.5) made known types.
        #expect(errors.isSuperset(of: ["malformedFrame", "unsupportedVersion", "malformedMessage"]), "\(errors.sorted())")
    }
}
