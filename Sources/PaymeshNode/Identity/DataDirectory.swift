#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The node's data directory: created with mode 0700 (parents as needed); an existing one that
/// group or others may enter (e.g. 0755) is tightened to 0700 at start.
public enum DataDirectory {
    public static func ensure(_ path: String) throws(NodeError) {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw .configuration("data directory \(path) is not a directory") }
            return
        }
        try create(path)
    }

    /// Like `ensure`, and tightens the data directory itself (not its parents) to 0700.
    public static func ensurePrivate(_ path: String) throws(NodeError) {
        try ensure(path)
        var info = stat()
        guard stat(path, &info) == 0 else { throw .configuration("cannot stat data directory \(path): \(errnoText())") }
        if info.st_mode & 0o077 != 0, chmod(path, 0o700) != 0 {
            throw .configuration("data directory \(path) has mode \(String(info.st_mode & 0o777, radix: 8)) and cannot be "
                                 + "tightened to 700: \(errnoText())")
        }
    }

    private static func create(_ path: String) throws(NodeError) {
        let parent = parentOf(path)
        if parent != path, !parent.isEmpty { try ensure(parent) }
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw .configuration("cannot create data directory \(path): \(errnoText())")
        }
        // mkdir applies the umask; a narrowed one (e.g. inherited from a process that was binding a
        // socket under umask 0177) would leave 0600, which not even the owner can enter.
        chmod(path, 0o700)
    }

    /// Expands a leading `~` to `$HOME`.
    public static func expand(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        let home = getenv("HOME").map { String(cString: $0) } ?? ""
        return home + path.dropFirst()
    }

    /// fsync of a directory, so that a rename/link into it survives a crash.
    static func syncDirectory(_ path: String) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    static func parentOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
