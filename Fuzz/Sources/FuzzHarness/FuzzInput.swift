// Shared by every harness. This file is symlinked into the root package's test targets
// (Tests/<Module>/FuzzHarness/), so it imports nothing and stays module-agnostic.

/// One fuzzer input, split into a small control part and the bytes under test, so that the
/// fuzzer chooses the chunking too (drip-feeding is fuzzed like the content).
///
/// Layout (Fuzz/README.md): byte 0 is a header whose high nibble N (0…15) counts the
/// chunk-size bytes that follow and whose low nibble is a mode for the harness; then N chunk
/// sizes (1…255 bytes, 0 = all the rest), used cyclically; then the payload. An empty input
/// is header 0 with an empty payload.
public struct FuzzInput: Sendable {
    public let mode: UInt8
    public let chunkSizes: [UInt8]
    public let payload: [UInt8]

    public init(_ bytes: [UInt8]) {
        guard let header = bytes.first else {
            (mode, chunkSizes, payload) = (0, [], [])
            return
        }
        mode = header & 0x0f
        let n = min(Int(header >> 4), bytes.count - 1)
        chunkSizes = Array(bytes[1..<(1 + n)])
        payload = Array(bytes[(1 + n)...])
    }

    /// `bytes` cut into consecutive chunks whose sizes cycle through `chunkSizes`; one chunk
    /// when there are none. Never yields an empty chunk; the chunks concatenate to `bytes`.
    public func chunks(of bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        guard !bytes.isEmpty else { return [] }
        guard !chunkSizes.isEmpty else { return [bytes[...]] }
        var result: [ArraySlice<UInt8>] = []
        var start = 0
        var i = 0
        while start < bytes.count {
            let size = Int(chunkSizes[i % chunkSizes.count])
            let end = size == 0 ? bytes.count : min(bytes.count, start + size)
            result.append(bytes[start..<end])
            start = end
            i += 1
        }
        return result
    }

    public var chunks: [ArraySlice<UInt8>] { chunks(of: payload) }
}

/// A broken invariant found by a harness. The fuzz targets turn it into a crash (so libFuzzer
/// saves the input); the regression tests turn it into a test failure.
public struct FuzzViolation: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// Throws a `FuzzViolation` unless `condition` holds.
@inline(__always)
func fuzzRequire(_ condition: Bool, _ message: @autoclosure () -> String) throws(FuzzViolation) {
    if !condition { throw FuzzViolation(message()) }
}
