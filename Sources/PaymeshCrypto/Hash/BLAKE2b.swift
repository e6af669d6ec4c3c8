public import Foundation
internal import CSodium

/// BLAKE2b (RFC 7693) through libsodium's `crypto_generichash`, optionally keyed, with an
/// output of 1…64 bytes. A value type: copying a hasher copies its state.
public struct BLAKE2b: Sendable {
    public static let minOutputByteCount = 1   // crypto_generichash_BYTES_MIN
    public static let maxOutputByteCount = 64  // crypto_generichash_BYTES_MAX, RFC 7693 §2.1
    public static let maxKeyByteCount = 64     // crypto_generichash_KEYBYTES_MAX

    public let outputByteCount: Int
    private var state: State

    /// A hasher with `key` (0…64 bytes; empty means unkeyed) and an output of `outputByteCount` bytes.
    public init(key: some ContiguousBytes = [UInt8](), outputByteCount: Int = 64) throws {
        guard (Self.minOutputByteCount...Self.maxOutputByteCount).contains(outputByteCount) else {
            throw CryptoError.invalidInput("BLAKE2b output length \(outputByteCount) not in 1...64")
        }
        let keyCount = key.withUnsafeBytes { $0.count }
        guard keyCount <= Self.maxKeyByteCount else {
            throw CryptoError.invalidKeyLength(expected: Self.maxKeyByteCount, actual: keyCount)
        }
        Sodium.ensure()
        let state = State()
        let rc = key.withUnsafeBytes { k in
            crypto_generichash_init(state.pointer, k.count == 0 ? nil : k.bindMemory(to: UInt8.self).baseAddress,
                                    k.count, outputByteCount)
        }
        guard rc == 0 else { throw CryptoError.libraryCallFailed("crypto_generichash_init") }
        self.state = state
        self.outputByteCount = outputByteCount
    }

    /// The BLAKE2b digest of `bytes`.
    public static func hash(_ bytes: some ContiguousBytes, key: some ContiguousBytes = [UInt8](),
                            outputByteCount: Int = 64) throws -> [UInt8] {
        var hasher = try BLAKE2b(key: key, outputByteCount: outputByteCount)
        hasher.update(bytes)
        return hasher.finalize()
    }

    public mutating func update(_ bytes: some ContiguousBytes) {
        if !isKnownUniquelyReferenced(&state) { state = State(copying: state) }
        let rc = bytes.withUnsafeBytes { b in
            crypto_generichash_update(state.pointer, b.bindMemory(to: UInt8.self).baseAddress, UInt64(b.count))
        }
        precondition(rc == 0, "crypto_generichash_update failed on an initialised state")
    }

    /// The digest of everything absorbed so far; the hasher itself is unchanged.
    public func finalize() -> [UInt8] {
        let copy = State(copying: state)
        var out = [UInt8](repeating: 0, count: outputByteCount)
        let rc = crypto_generichash_final(copy.pointer, &out, outputByteCount)
        precondition(rc == 0, "crypto_generichash_final failed on an initialised state")
        return out
    }
}

extension BLAKE2b {
    /// Owns one aligned `crypto_generichash_state` (it may hold key material) and wipes it on free.
    /// Mutated only while uniquely referenced, so sharing it between copies is safe.
    private final class State: @unchecked Sendable {
        // Swift imports the 64-byte-aligned C struct as an opaque type.
        private let raw: UnsafeMutableRawPointer
        var pointer: OpaquePointer { OpaquePointer(raw) }
        private static let byteCount = crypto_generichash_statebytes()
        private static let alignment = 64 // CRYPTO_ALIGN(64) in crypto_generichash_blake2b.h

        init() {
            raw = UnsafeMutableRawPointer.allocate(byteCount: Self.byteCount, alignment: Self.alignment)
            raw.initializeMemory(as: UInt8.self, repeating: 0, count: Self.byteCount)
        }

        convenience init(copying other: State) {
            self.init()
            raw.copyMemory(from: other.raw, byteCount: Self.byteCount)
        }

        deinit {
            sodium_memzero(raw, Self.byteCount)
            raw.deallocate()
        }
    }
}
