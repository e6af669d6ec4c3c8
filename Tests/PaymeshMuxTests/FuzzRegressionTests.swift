import Foundation
import PaymeshMux
import PaymeshTestSupport
import Testing

/// Replays every file in Fuzz/Regressions/<Target>/ (fuzzer crashers and the seed corpus)
/// through the fuzz target's own harness: FuzzHarness/ holds symlinks to
/// Fuzz/Sources/FuzzHarness/, so a harness invariant that fails here is the one that made the
/// fuzzer crash. A missing or empty directory fails the test.
@Suite("Fuzz regressions: mux")
struct MuxFuzzRegressionTests {
    @Test func yamuxFrame() throws {
        var frames = 0, errors = 0
        for input in try TestVectors.fuzzRegressions("FuzzYamuxFrame") {
            do throws(FuzzViolation) {
                let outcome = try YamuxFrameHarness.run(input.bytes)
                frames += outcome.frames.count
                if let error = outcome.error {
                    #expect(error.isProtocolViolation, "\(input.name): \(error)")
                    errors += 1
                }
            } catch {
                Issue.record("\(input.name): \(error)")
            }
        }
        #expect(frames > 0 && errors > 0, "the inputs cover frames and rejected headers")
    }

    @Test func yamuxSession() throws {
        var closedByPeerError = 0, streams = 0, sent = 0
        for input in try TestVectors.fuzzRegressions("FuzzYamuxSession") {
            do throws(FuzzViolation) {
                let outcome = try YamuxSessionHarness.run(input.bytes)
                if let reason = outcome.closeReason, reason.isProtocolViolation { closedByPeerError += 1 }
                streams += outcome.streamsOpened
                sent += outcome.bytesSent
            } catch {
                Issue.record("\(input.name): \(error)")
            }
        }
        #expect(streams > 0 && sent > 0 && closedByPeerError > 0,
                "the inputs open streams, send bytes and break the protocol")
    }
}
