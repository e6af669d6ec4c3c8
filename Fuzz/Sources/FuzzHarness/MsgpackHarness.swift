// Symlinked into Tests/PaymeshMessagesTests/FuzzHarness/.
import PaymeshMsgpack

/// FuzzMsgpack: `MsgpackDecoder` with the default limits on arbitrary bytes (the header byte
/// of `FuzzInput` is not used: the whole input is the document).
///
/// Invariants: a decoded value respects `MsgpackLimits.default` (depth, element count, str and
/// bin lengths); it re-encodes, and the re-encoding decodes to the same value (floats compared
/// bit for bit, so NaN round-trips too) and re-encodes to the same bytes (canonical encoding
/// is a fixed point). Errors are typed by construction.
public enum MsgpackHarness {
    public enum Outcome: Equatable {
        case decoded(MsgpackValue)
        case rejected(MsgpackError)
    }

    public static func run(_ data: [UInt8]) throws(FuzzViolation) -> Outcome {
        let decoder = MsgpackDecoder()
        let value: MsgpackValue
        switch Result(catching: { () throws(MsgpackError) in try decoder.decode(data) }) {
        case .failure(let error):
            // The decoder's zone must be reusable after a failure.
            let again = Result(catching: { () throws(MsgpackError) in try decoder.decode([0x91, 0x01]) })
            try fuzzRequire(again == .success(.array([.uint(1)])), "decoder unusable after \(error): \(again)")
            return .rejected(error)
        case .success(let v):
            value = v
        }
        try checkLimits(value, MsgpackLimits.default)

        let encoder = MsgpackEncoder()
        let bytes: [UInt8]
        do throws(MsgpackError) { bytes = try encoder.encode(value) } catch {
            throw FuzzViolation("decoded value does not re-encode: \(error)")
        }
        let decodedAgain: MsgpackValue
        do throws(MsgpackError) { decodedAgain = try decoder.decode(bytes) } catch {
            throw FuzzViolation("re-encoding does not decode: \(error)")
        }
        try fuzzRequire(sameValue(value, decodedAgain), "round trip changed the value")
        let bytesAgain: [UInt8]
        do throws(MsgpackError) { bytesAgain = try encoder.encode(decodedAgain) } catch {
            throw FuzzViolation("second encoding failed: \(error)")
        }
        try fuzzRequire(bytes == bytesAgain, "canonical encoding is not a fixed point")
        return .decoded(value)
    }

    /// Depth, element count and lengths of a decoded value against `limits`.
    static func checkLimits(_ value: MsgpackValue, _ limits: MsgpackLimits) throws(FuzzViolation) {
        var elements = 0
        try walk(value, depth: 0, limits: limits, elements: &elements)
        try fuzzRequire(elements <= limits.maxElements, "\(elements) elements > \(limits.maxElements)")
    }

    private static func walk(_ value: MsgpackValue, depth: Int, limits: MsgpackLimits, elements: inout Int) throws(FuzzViolation) {
        elements += 1
        switch value {
        case .string(let s):
            try fuzzRequire(s.utf8.count <= limits.maxStringLength, "str of \(s.utf8.count) bytes")
        case .binary(let b):
            try fuzzRequire(b.count <= limits.maxBinaryLength, "bin of \(b.count) bytes")
        case .extension(_, let b):
            try fuzzRequire(b.count <= limits.maxBinaryLength, "ext of \(b.count) bytes")
        case .array(let items):
            try fuzzRequire(depth + 1 <= limits.maxDepth, "nesting deeper than \(limits.maxDepth)")
            for item in items { try walk(item, depth: depth + 1, limits: limits, elements: &elements) }
        case .map(let pairs):
            try fuzzRequire(depth + 1 <= limits.maxDepth, "nesting deeper than \(limits.maxDepth)")
            for pair in pairs {
                try walk(pair.key, depth: depth + 1, limits: limits, elements: &elements)
                try walk(pair.value, depth: depth + 1, limits: limits, elements: &elements)
            }
        case .nil, .bool, .int, .uint, .float64:
            break
        }
    }

    /// Structural equality with floats compared by bit pattern (NaN == NaN, -0.0 != 0.0) and
    /// strings by their UTF-8 bytes (Swift's `==` on String uses canonical equivalence).
    static func sameValue(_ a: MsgpackValue, _ b: MsgpackValue) -> Bool {
        switch (a, b) {
        case (.float64(let x), .float64(let y)):
            return x.bitPattern == y.bitPattern
        case (.string(let x), .string(let y)):
            return x.utf8.elementsEqual(y.utf8)
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
        case (.map(let x), .map(let y)):
            return x.count == y.count
                && zip(x, y).allSatisfy { sameValue($0.key, $1.key) && sameValue($0.value, $1.value) }
        default:
            return a == b
        }
    }
}
