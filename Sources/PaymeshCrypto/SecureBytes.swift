public import Foundation
internal import CSodium

/// Secret bytes in storage of their own that is wiped with `sodium_memzero` when freed.
/// A `final class` so that copies share one buffer and exactly one `deinit` wipes it.
/// Reads go through `withUnsafeBytes`; nothing hands out an escaping array of the secret.
public final class SecureBytes: @unchecked Sendable {
    // Immutable after init except through `withUnsafeMutableBytes`, which callers use only
    // while they own the value exclusively (key schedules in a state machine).
    private let storage: UnsafeMutableRawBufferPointer
    /// Length of the secret (the allocation is at least one byte).
    public let count: Int

    /// Whether the pages were locked against swapping (`sodium_mlock`).
    private let locked: Bool

    /// Zero-filled secret storage of `count` bytes. `lockedInMemory` also keeps the pages out of
    /// swap (two syscalls per value): meant for long-lived keys such as the node identity, not for
    /// the many short-lived secrets of a handshake, which are wiped when freed either way.
    public init(count: Int, lockedInMemory: Bool = false) {
        Sodium.ensure()
        precondition(count >= 0)
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        // Best effort: a failure (RLIMIT_MEMLOCK) leaves the secret wiped-on-free but swappable.
        locked = lockedInMemory && sodium_mlock(storage.baseAddress!, storage.count) == 0
        self.count = count
    }

    /// Copies `bytes` into secret storage. The caller should wipe its own copy.
    public convenience init(copying bytes: some ContiguousBytes, lockedInMemory: Bool = false) {
        let n = bytes.withUnsafeBytes { $0.count }
        self.init(count: n, lockedInMemory: lockedInMemory)
        bytes.withUnsafeBytes { src in
            if n > 0 { storage.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: n) }
        }
    }

    /// Fresh random secret bytes.
    public static func random(count: Int, lockedInMemory: Bool = false) -> SecureBytes {
        let s = SecureBytes(count: count, lockedInMemory: lockedInMemory)
        s.withUnsafeMutableBytes { SecureRandom.fill($0) }
        return s
    }

    deinit {
        sodium_memzero(storage.baseAddress!, storage.count)
        if locked { _ = sodium_munlock(storage.baseAddress!, storage.count) }
        storage.deallocate()
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }

    public func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// Constant-time equality.
    public func constantTimeEquals(_ other: SecureBytes) -> Bool {
        withUnsafeBytes { a in other.withUnsafeBytes { b in ConstantTime.equals(a, b) } }
    }
}

extension SecureBytes: ContiguousBytes {}

extension SecureBytes: CustomStringConvertible {
    /// Never prints the secret.
    public var description: String { "SecureBytes(\(count) bytes, redacted)" }
}
