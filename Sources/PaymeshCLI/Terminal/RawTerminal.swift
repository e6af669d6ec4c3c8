import Foundation

/// The terminal settings to put back, readable from a signal handler (set before the handlers
/// are installed, cleared after they are removed).
nonisolated(unsafe) private var savedTermios: termios?

private func restoreOnSignal(_ signal: Int32) {
    if var saved = savedTermios { tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
    Foundation.signal(signal, SIG_DFL)
    raise(signal)
}

/// Standard input in raw mode for the line editor: no echo, no line buffering, Ctrl-C / Ctrl-Z as
/// bytes (the editor handles them), output processing kept (`\n` is still a new line). The
/// previous settings are restored by `restore()`, and on SIGTERM, SIGHUP and SIGQUIT before the
/// process ends; a crash cannot restore them (`reset` does).
final class RawTerminal: @unchecked Sendable {
    private static let signals: [Int32] = [SIGTERM, SIGHUP, SIGQUIT]
    private var original = termios()
    private var active = false

    /// Raw mode on, nil when standard input is not a terminal.
    init?() {
        guard isatty(STDIN_FILENO) == 1, tcgetattr(STDIN_FILENO, &original) == 0 else { return nil }
        var raw = original
        raw.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        raw.c_iflag &= ~tcflag_t(IXON | ICRNL | INLCR | IGNCR)
        raw.c_cc.6 = 1 // VMIN (index 6 on Linux): a read returns after one byte
        raw.c_cc.5 = 0 // VTIME (index 5)
        savedTermios = original
        for s in Self.signals { signal(s, restoreOnSignal) }
        guard tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == 0 else {
            restoreHandlers()
            return nil
        }
        active = true
    }

    func restore() {
        guard active else { return }
        active = false
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
        restoreHandlers()
    }

    private func restoreHandlers() {
        for s in Self.signals { signal(s, SIG_DFL) }
        savedTermios = nil
    }

    deinit { restore() }

    /// Standard input's bytes as they are read, on a thread of their own (a blocking `read`
    /// must not hold one of the concurrency pool's threads). Ends at end of file or error.
    static func inputBytes() -> AsyncStream<[UInt8]> {
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingOldest(1_024))
        let thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 4_096)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { break }
                continuation.yield(Array(buffer[..<n]))
            }
            continuation.finish()
        }
        thread.start()
        return stream
    }
}
