import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `<datadir>/channels.marker`: a small file, next to the identity key, that exists once this node
/// has stored a channel. A node whose store is missing, empty (0 bytes) or holds no channel while
/// the marker exists refuses to start instead of coming up as a fresh node that forgot its
/// channels (Specs/storage.md, "Checks at start"). Deleting the marker is the operator's explicit
/// "these channels are gone".
struct ChannelsMarker {
    static let fileName = "channels.marker"
    let path: String

    init(directory: String) { path = directory + "/" + Self.fileName }

    var exists: Bool { access(path, F_OK) == 0 }

    /// Before SQLite touches the file (it would turn a 0-byte file into a fresh empty store).
    func checkBeforeOpening(store: String) throws(NodeError) {
        guard exists else { return }
        var info = stat()
        if stat(store, &info) != 0 { throw missing(store, "it does not exist") }
        if info.st_size == 0 { throw missing(store, "it is empty (0 bytes)") }
    }

    func checkAfterOpening(channels: Int, store: String) throws(NodeError) {
        if exists, channels == 0 { throw missing(store, "it holds no channel") }
    }

    private func missing(_ store: String, _ how: String) -> NodeError {
        .configuration("the channel store \(store) is missing its channels: \(how), but this node has stored channels "
                       + "(\(path) exists). Refusing to start as an empty node; restore the store from a backup, "
                       + "or delete \(path) if its channels are really gone")
    }

    /// Creates the marker durably (file and directory entry synced). Idempotent.
    func write() throws(NodeError) {
        if exists { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .configuration("cannot create \(path): \(errnoText())") }
        let text = Array("this node has stored payment channels in channels.sqlite\n".utf8)
        _ = text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced else { throw .configuration("cannot sync \(path): \(errnoText())") }
        DataDirectory.syncDirectory((path as NSString).deletingLastPathComponent)
    }
}
