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
        for input in try regressionInputs("FuzzNoiseResponder") {
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

/// The files of Fuzz/Regressions/<target>/, sorted by name; throws when the directory is
/// missing, and an empty directory fails the calling test.
private func regressionInputs(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
    let directory = TestVectors.repositoryRoot.appendingPathComponent("Fuzz/Regressions/\(target)")
    let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        .filter { !$0.hasPrefix(".") }
        .sorted()
    try #require(!names.isEmpty, "Fuzz/Regressions/\(target)/ is empty")
    return try names.map { ($0, Array(try Data(contentsOf: directory.appendingPathComponent($0)))) }
}
