#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on `<datadir>/paymesh.lock`, held for the life of the node: a second node
/// (another process, or another node in this process) on the same data directory is refused at
/// start, whatever happened to `console.sock` (Specs/storage.md, "One node per data directory").
///
/// `flock(2)` locks belong to the open file description, so the kernel releases the lock when
/// the process dies (kill -9 included) and two opens in one process still exclude each other.
/// The file is never deleted (deleting it would let two processes lock two different inodes).
public final class DataDirectoryLock: Sendable {
    public static let fileName = "paymesh.lock"

    public let path: String
    private let fd: Int32

    /// Takes the lock or throws `NodeError.alreadyRunning` naming the directory.
    public init(directory: String) throws(NodeError) {
        path = directory + "/" + Self.fileName
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .configuration("cannot open the lock file \(path): \(errnoText())") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let busy = errno == EWOULDBLOCK
            let text = errnoText()
            close(fd)
            if busy {
                throw .alreadyRunning("another node is already using the data directory \(directory) (it holds the lock on \(path))")
            }
            throw .configuration("cannot lock \(path): \(text)")
        }
        self.fd = fd
        // Only for people looking at the file: the pid of the holder.
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }

    deinit { close(fd) } // releases the lock
}
