public import Foundation

/// Keccak-256 as Ethereum uses it: the Keccak sponge with rate 1088 bits and capacity 512 bits,
/// and the original Keccak padding `0x01 … 0x80`. It is NOT FIPS 202 SHA3-256, which pads
/// with `0x06`; the two give different digests for every input.
///
/// A value type: copy a hasher to hash several messages that share a prefix.
public struct Keccak256: Sendable {
    public static let digestByteCount = 32
    /// Bytes absorbed per permutation: (1600 − 2·256) / 8.
    public static let rateByteCount = 136
    private static let rateLanes = rateByteCount / 8

    private var lanes = [UInt64](repeating: 0, count: KeccakF1600.laneCount)
    /// Bytes of the current block already absorbed, 0 ..< rateByteCount.
    private var position = 0

    public init() {}

    /// The Keccak-256 digest (32 bytes) of `bytes`.
    public static func hash(_ bytes: some ContiguousBytes) -> [UInt8] {
        var hasher = Keccak256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    public mutating func update(_ bytes: some ContiguousBytes) {
        bytes.withUnsafeBytes { update(buffer: $0) }
    }

    public mutating func update(buffer input: UnsafeRawBufferPointer) {
        let rate = Self.rateByteCount
        var position = self.position
        lanes.withUnsafeMutableBufferPointer { lanes in
            let state = lanes.baseAddress!
            var offset = 0
            // Complete a partially filled block.
            while position != 0, offset < input.count {
                Self.absorb(input[offset], at: position, into: state)
                offset += 1
                position += 1
                if position == rate {
                    KeccakF1600.permute(state)
                    position = 0
                }
            }
            // Whole blocks straight from the input, a lane at a time.
            while input.count - offset >= rate {
                for i in 0..<Self.rateLanes {
                    let word = input.loadUnaligned(fromByteOffset: offset + 8 * i, as: UInt64.self)
                    state[i] ^= UInt64(littleEndian: word)
                }
                KeccakF1600.permute(state)
                offset += rate
            }
            // The tail starts a new block.
            while offset < input.count {
                Self.absorb(input[offset], at: position, into: state)
                offset += 1
                position += 1
            }
        }
        self.position = position
    }

    /// The digest of everything absorbed so far; the hasher itself is unchanged.
    public func finalize() -> [UInt8] {
        var lanes = self.lanes
        return lanes.withUnsafeMutableBufferPointer { lanes in
            let state = lanes.baseAddress!
            Self.absorb(0x01, at: position, into: state)           // Keccak pad10*1: first bit
            Self.absorb(0x80, at: Self.rateByteCount - 1, into: state) // last bit of the block
            KeccakF1600.permute(state)
            var digest = [UInt8](repeating: 0, count: Self.digestByteCount)
            for i in 0..<Self.digestByteCount {
                digest[i] = UInt8(truncatingIfNeeded: state[i >> 3] >> UInt64((i & 7) << 3))
            }
            return digest
        }
    }

    @inline(__always)
    private static func absorb(_ byte: UInt8, at position: Int, into state: UnsafeMutablePointer<UInt64>) {
        state[position >> 3] ^= UInt64(byte) << UInt64((position & 7) << 3)
    }
}
