import Foundation
import PaymeshTerminal

/// The console's history file: `console_history` in the data directory when it exists, else
/// `~/.paymesh_history`; mode 0600 (the lines may hold ids and amounts), at most
/// `LineHistory.maxEntries` lines (rewritten bounded when it grew past twice that).
struct ConsoleHistoryFile {
    let path: String

    init(dataDirectory: String) {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDir), isDir.boolValue {
            path = dataDirectory + "/console_history"
        } else {
            path = FileManager.default.homeDirectoryForCurrentUser.path + "/.paymesh_history"
        }
    }

    func load() -> LineHistory {
        guard let data = FileManager.default.contents(atPath: path) else { return LineHistory() }
        let text = String(decoding: data, as: UTF8.self)
        let history = LineHistory(LineHistory.fileLines(text[...]))
        if text.utf8.count(where: { $0 == UInt8(ascii: "\n") }) > 2 * LineHistory.maxEntries { rewrite(history) }
        return history
    }

    /// Appends one line (the editor kept it); errors are ignored: history is a convenience.
    func append(_ line: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    private func rewrite(_ history: LineHistory) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        defer { close(fd) }
        fchmod(fd, 0o600)
        let bytes = Array(history.fileText.utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
