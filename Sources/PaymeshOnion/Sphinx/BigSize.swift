/// BOLT 1 BigSize: a big-endian variable-length unsigned integer, minimally encoded
/// (< 0xfd: 1 byte; 0xfd ‖ u16; 0xfe ‖ u32; 0xff ‖ u64). Prefixes each hop payload.
enum BigSize {
    static func encode(_ value: UInt64) -> [UInt8] {
        switch value {
        case 0..<0xfd: return [UInt8(value)]
        case 0xfd...0xffff: return [0xfd, UInt8(value >> 8), UInt8(value & 0xff)]
        case 0x1_0000...0xffff_ffff: return [0xfe] + (0..<4).reversed().map { UInt8((value >> (8 * UInt64($0))) & 0xff) }
        default: return [0xff] + (0..<8).reversed().map { UInt8((value >> (8 * UInt64($0))) & 0xff) }
        }
    }

    /// (value, bytes read) from the start of `bytes`; a truncated or non-minimal encoding throws.
    static func decode(_ bytes: ArraySlice<UInt8>) throws(OnionError) -> (value: UInt64, length: Int) {
        guard let first = bytes.first else { throw .malformedHopPayload("missing length") }
        let width: Int, minimum: UInt64
        switch first {
        case 0..<0xfd: return (UInt64(first), 1)
        case 0xfd: (width, minimum) = (2, 0xfd)
        case 0xfe: (width, minimum) = (4, 0x1_0000)
        default: (width, minimum) = (8, 0x1_0000_0000)
        }
        guard bytes.count >= 1 + width else { throw .malformedHopPayload("truncated BigSize length") }
        var value: UInt64 = 0
        for b in bytes.dropFirst().prefix(width) { value = value << 8 | UInt64(b) }
        guard value >= minimum else { throw .malformedHopPayload("BigSize length is not minimally encoded") }
        return (value, 1 + width)
    }
}
