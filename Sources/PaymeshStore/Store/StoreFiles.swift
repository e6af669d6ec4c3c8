import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The store's files on disk: `<path>`, `<path>-wal`, `<path>-shm` are owner-only (0600), and a
/// failure to open them on a full filesystem is reported as "disk full" (Specs/storage.md).
enum StoreFiles {
    /// Owner read/write only: the files hold every voucher and the ledger.
    static let mode: mode_t = 0o600
    static let suffixes = ["", "-wal", "-shm"]

    /// Creates the database file 0600 if absent (SQLite would create it 0644 and give the WAL and
    /// shared-memory files the same mode) and tightens existing files to 0600.
    static func prepare(_ path: String) throws(StoreError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, mode)
        if fd < 0 {
            let e = errno
            if e == ENOSPC || e == EDQUOT { throw .diskFull(path: path, code: 13, context: "create \(path)") }
            // Let SQLite report it (missing directory, permissions) with its own message.
            return
        }
        close(fd)
        try tighten(path)
    }

    static func tighten(_ path: String) throws(StoreError) {
        for suffix in suffixes {
            let file = path + suffix
            var info = stat()
            guard stat(file, &info) == 0 else { continue }
            if info.st_mode & 0o777 != mode, chmod(file, mode) != 0 {
                throw .failed("cannot set mode 600 on \(file): errno \(errno)")
            }
        }
    }

    /// An open failure on a filesystem with no space left becomes `diskFull` (SQLite often says
    /// only "disk I/O error" there).
    static func diagnose(_ error: StoreError, path: String) -> StoreError {
        guard !error.isDiskFull, error.isEnvironmentFailure || error.sqliteCode != nil else { return error }
        let directory = (path as NSString).deletingLastPathComponent
        var s = statvfs()
        guard statvfs(directory.isEmpty ? "." : directory, &s) == 0 else { return error }
        let free = UInt64(s.f_bavail) * UInt64(s.f_frsize)
        guard free < 64 * 1_024 else { return error }
        return .diskFull(path: path, code: error.sqliteCode ?? 13, context: "open (\(free) bytes free): \(error)")
    }
}
