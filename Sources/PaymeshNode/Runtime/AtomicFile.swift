import Foundation

/// Replaces a small file durably: writes a temporary file (mode 0600), fsyncs it, renames it over
/// `path` and fsyncs the directory, so that after a crash the file is the old content or the new.
enum AtomicFile {
    static func write(_ bytes: [UInt8], to path: String, directory: String) throws(NodeError) {
        let temporary = path + ".tmp"
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .internalError("cannot create \(temporary): errno \(errno)") }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            guard n > 0 else {
                close(fd)
                unlink(temporary)
                throw .internalError("cannot write \(temporary): errno \(errno)")
            }
            written += n
        }
        let synced = fsync(fd) == 0
        guard close(fd) == 0, synced else {
            unlink(temporary)
            throw .internalError("cannot sync \(temporary): errno \(errno)")
        }
        guard rename(temporary, path) == 0 else { unlink(temporary); throw .internalError("cannot replace \(path): errno \(errno)") }
        let dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            fsync(dir)
            close(dir)
        }
    }
}
