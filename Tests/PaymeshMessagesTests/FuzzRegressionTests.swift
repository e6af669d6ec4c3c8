import Foundation
import PaymeshMessages
import PaymeshMsgpack
import PaymeshTestSupport
import Testing

/// Replays every file in Fuzz/Regressions/<Target>/ (fuzzer crashers and the seed corpus)
/// through the fuzz target's own harness: FuzzHarness/ holds symlinks to
/// Fuzz/Sources/FuzzHarness/, so a harness invariant that fails here is the one that made the
/// fuzzer crash. A missing or empty directory fails the test.
@Suite("Fuzz regressions: messages")
struct MessagesFuzzRegressionTests {
    @Test func lengthPrefixFrame() throws {
        var frames = 0, framingErrors = 0
        for input in try TestVectors.fuzzRegressions("FuzzLengthPrefixFrame") {
            do throws(FuzzViolation) {
                let outcome = try LengthPrefixFrameHarness.run(input.bytes)
                frames += outcome.frames.count
                if let error = outcome.error {
                    #expect(error.code == .malformedMessage && error.closesStream, "\(input.name)")
                    framingErrors += 1
                }
            } catch {
                Issue.record("\(input.name): \(error)")
            }
        }
        #expect(frames > 0 && framingErrors > 0, "the inputs cover frames and framing errors")
    }

    @Test func messageDecoder() throws {
        var messages = 0, codes: Set<UInt16> = []
        for input in try TestVectors.fuzzRegressions("FuzzMessageDecoder") {
            do throws(FuzzViolation) {
                let outcome = try MessageDecoderHarness.run(input.bytes)
                messages += outcome.messages.count
                for error in outcome.errors {
                    #expect(MessageDecoderHarness.errorCodes.contains(error.code.rawValue), "\(input.name): \(error)")
                    codes.insert(error.code.rawValue)
                }
            } catch {
                Issue.record("\(input.name): \(error)")
            }
        }
        #expect(messages > 0, "some inputs decode")
        #expect(codes.isSuperset(of: [1_500, 1_501, 1_505]), "errors seen: \(codes.sorted())")
    }

    @Test func msgpack() throws {
        var decoded = 0, rejected = 0
        for input in try TestVectors.fuzzRegressions("FuzzMsgpack") {
            do throws(FuzzViolation) {
                switch try MsgpackHarness.run(input.bytes) {
                case .decoded: decoded += 1
                case .rejected: rejected += 1
                }
            } catch {
                Issue.record("\(input.name): \(error)")
            }
        }
        #expect(decoded > 0 && rejected > 0, "the inputs cover valid and invalid msgpack")
    }
}
