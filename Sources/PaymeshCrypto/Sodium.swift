public import Foundation
internal import CSodium

/// libsodium must be initialised once before use; `sodium_init` is idempotent and thread-safe,
/// and a `static let` runs it exactly once.
enum Sodium {
    static let initialised: Bool = sodium_init() >= 0

    /// Call at the top of every entry point that uses libsodium.
    @inline(__always) static func ensure() {
        precondition(initialised, "sodium_init failed: libsodium cannot be used")
    }
}

/// Constant-time comparison of secrets and MACs.
public enum ConstantTime {
    /// True when both byte sequences are equal; the time taken depends only on the length.
    public static func equals(_ a: some ContiguousBytes, _ b: some ContiguousBytes) -> Bool {
        Sodium.ensure()
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                guard pa.count == pb.count else { return false }
                if pa.isEmpty { return true }
                return sodium_memcmp(pa.baseAddress!, pb.baseAddress!, pa.count) == 0
            }
        }
    }
}

/// Fills a buffer with cryptographically secure random bytes (libsodium `randombytes_buf`).
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        Sodium.ensure()
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { if $0.count > 0 { randombytes_buf($0.baseAddress!, $0.count) } }
        return out
    }

    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        Sodium.ensure()
        if buffer.count > 0 { randombytes_buf(buffer.baseAddress!, buffer.count) }
    }
}

/// Wipes memory so that the compiler cannot elide the write (`sodium_memzero`).
public func secureZero(_ buffer: UnsafeMutableRawBufferPointer) {
    Sodium.ensure()
    if buffer.count > 0 { sodium_memzero(buffer.baseAddress!, buffer.count) }
}
