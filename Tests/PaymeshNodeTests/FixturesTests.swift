import PaymeshTestSupport
import Testing

/// The shared fixtures of PaymeshTestSupport.
@Suite struct FixturesTests {
    /// A body that never returns and ignores cancellation still ends in `TimedOut` (the timeout
    /// does not wait for it), with a message naming what was awaited.
    @Test func aStuckBodyStillTimesOut() async throws {
        await #expect { _ = try await withTimeout(0.2, "a stuck body") { await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in } } } throws: {
            ($0 as? TimedOut)?.description == "timed out after 0.2 s waiting for a stuck body"
        }
        #expect(try await withTimeout(30, "a quick body") { 42 } == 42)
    }

    @Test func theSeededGeneratorReplays() {
        var a = SplitMix64(seed: 99), b = SplitMix64(seed: 99)
        #expect((0..<8).map { _ in a.next() } == (0..<8).map { _ in b.next() })
        // SplitMix64's published first output for seed 0.
        var zero = SplitMix64(seed: 0)
        #expect(zero.next() == 0xE220_A839_7B1D_CDAF)
    }
}
