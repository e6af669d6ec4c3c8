#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import PaymeshNode

/// The console socket's file: stale-file handling before bind, mode, removal.
enum ConsoleSocketFile {
    /// Removes a socket file left by a node that died (kill -9). A socket that still accepts
    /// connections belongs to a running node: refuse. A non-socket file is never deleted.
    static func removeStale(_ path: String) throws(NodeError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw .consoleUnavailable("\(path) exists and is not a socket; remove it or use another data directory")
        }
        if isAccepting(path) {
            throw .alreadyRunning("a node is already running with this data directory (console \(path) answers)")
        }
        guard unlink(path) == 0 || errno == ENOENT else {
            throw .consoleUnavailable("cannot remove stale console socket \(path): \(errnoText())")
        }
    }

    /// True when something accepts connections on the Unix socket at `path`.
    static func isAccepting(_ path: String) -> Bool {
        #if canImport(Darwin)
        let fd = socket(AF_UNIX, SOCK_STREAM, 0)
        #else
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { dst in
            dst.copyBytes(from: bytes)
            dst[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return result == 0
    }

    /// Runs `bind` with a umask that makes the new socket file 0600, then enforces 0600.
    /// (The umask is process-wide for the instant of the bind; it only ever narrows modes.
    /// The data directory is 0700 as well, so no other user can reach the socket meanwhile.)
    static func withOwnerOnlyMode<T>(_ path: String, _ bind: () async throws -> T) async throws -> T {
        let previous = umask(0o177)
        let result: T
        do {
            result = try await bind()
        } catch {
            umask(previous)
            throw error
        }
        umask(previous)
        guard chmod(path, 0o600) == 0 else {
            throw NodeError.consoleUnavailable("cannot set mode 0600 on \(path): \(errnoText())")
        }
        return result
    }

    static func remove(_ path: String) {
        var info = stat()
        if lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK { unlink(path) }
    }

    /// The file's permission bits (tests, `getinfo`).
    static func mode(_ path: String) -> UInt32? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return UInt32(info.st_mode & 0o777)
    }
}
