import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small tmpfs mounted on a fresh directory, to make a disk really run full (ENOSPC) and then
/// free space again, deterministically. Needs root (tests using it are skipped otherwise);
/// unmounted and removed when released.
public final class SmallDisk {
    public let path: String
    private var fillers = 0

    /// Whether this process may mount a tmpfs (root on Linux).
    public static var isAvailable: Bool {
        #if os(Linux)
        return geteuid() == 0
        #else
        return false
        #endif
    }

    /// Mounts a tmpfs of `bytes` (rounded up to pages) on a new directory under /tmp.
    public init(bytes: Int) throws {
        path = NSTemporaryDirectory() + "paymesh-small-disk-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let rc = mount("tmpfs", path, "tmpfs", 0, "size=\(bytes),mode=0700")
        guard rc == 0 else {
            let e = errno
            try? FileManager.default.removeItem(atPath: path)
            throw SmallDiskError("mount tmpfs on \(path): errno \(e)")
        }
    }

    deinit {
        umount2(path, Int32(MNT_DETACH))
        try? FileManager.default.removeItem(atPath: path)
    }

    public func file(_ name: String) -> String { path + "/" + name }

    /// Bytes still free on the tmpfs.
    public var freeBytes: Int {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return 0 }
        return Int(s.f_bavail) * Int(s.f_frsize)
    }

    /// Writes filler files until the disk is completely full; returns their names.
    @discardableResult
    public func fill() -> [String] {
        var names: [String] = []
        let chunk = [UInt8](repeating: 0x5A, count: 4_096)
        while true {
            fillers += 1
            let name = file("filler-\(fillers)")
            let fd = open(name, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
            guard fd >= 0 else { break }
            names.append(name)
            var wrote = 0
            while true {
                let n = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                wrote += n
            }
            close(fd)
            if wrote == 0 { break }
        }
        return names
    }

    /// Removes every filler file: the space is free again.
    public func free() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        for name in names where name.hasPrefix("filler-") { try? FileManager.default.removeItem(atPath: file(name)) }
    }
}

public struct SmallDiskError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
