import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A child process for tests, started with `posix_spawn`: what the tests used Foundation's
/// `Process` for, with the same names (`executableURL`, `arguments`, `environment`,
/// `standardInput/Output/Error` taking a `FileHandle`, a `Pipe` or nil for /dev/null, `run()`,
/// `isRunning`, `terminationStatus`, `waitUntilExit()`).
///
/// Why not `Process`: on Linux its `run()` lists /proc/self/fd with `readdir` and copies each
/// entry's whole 256-byte `d_name`, reading past the end of glibc's directory buffer when the last
/// entry ends at its end — a test process holding ~1,360 descriptors (many parallel suites, each
/// with stores and sockets) crashed CI with SIGSEGV in `Process.run()` (memcpy). Here descriptors
/// above 2 are closed in the child by `posix_spawn_file_actions_addclosefrom_np`, nothing is read.
public final class ChildProcess: @unchecked Sendable {
    public var executableURL: URL?
    public var arguments: [String]?
    /// nil: this process's environment.
    public var environment: [String: String]?
    /// A `FileHandle` (its descriptor; `FileHandle.nullDevice` is /dev/null), a `Pipe` (the child
    /// gets the end it needs; the parent's copy of that end is closed after the start), or nil
    /// (/dev/null). Default: this process's own descriptor.
    public var standardInput: Any? = FileHandle.standardInput
    public var standardOutput: Any? = FileHandle.standardOutput
    public var standardError: Any? = FileHandle.standardError

    private struct State { var pid: pid_t = 0; var status: Int32?; var signalled = false }
    private let state = Mutex(State())

    public init() {}

    /// glibc 2.34+; Swift's Glibc module does not import its declaration.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: CloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    public var processIdentifier: Int32 { state.withLock { $0.pid } }

    public struct SpawnFailed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Starts the child. Throws when it cannot be started (no executable, spawn refused).
    public func run() throws {
        guard let path = executableURL?.path else { throw SpawnFailed(description: "no executableURL") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var opened: [Int32] = []
        defer { for fd in opened { close(fd) } }
        for (target, spec, reading) in [(Int32(0), standardInput, true), (1, standardOutput, false), (2, standardError, false)] {
            let fd: Int32
            switch spec {
            case let pipe as Pipe:
                fd = reading ? pipe.fileHandleForReading.fileDescriptor : pipe.fileHandleForWriting.fileDescriptor
            case let handle as FileHandle where handle !== FileHandle.nullDevice && handle.fileDescriptor >= 0:
                fd = handle.fileDescriptor
            default:
                let null = open("/dev/null", reading ? O_RDONLY : O_WRONLY)
                guard null >= 0 else { throw SpawnFailed(description: "cannot open /dev/null: errno \(errno)") }
                opened.append(null)
                fd = null
            }
            posix_spawn_file_actions_adddup2(&actions, fd, target)
        }
        guard let closeFrom = Self.addCloseFrom else { throw SpawnFailed(description: "glibc lacks posix_spawn_file_actions_addclosefrom_np (2.34+)") }
        guard closeFrom(&actions, 3) == 0 else { throw SpawnFailed(description: "posix_spawn_file_actions_addclosefrom_np failed") }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, as Foundation's Process does; signals unblocked in the child.
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK))

        let argv = ([path] + (arguments ?? [])).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var envStrings: [UnsafeMutablePointer<CChar>?] = []
        if let environment { envStrings = environment.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for p in envStrings { free(p) } }
        var pid: pid_t = 0
        let rc = argv.withUnsafeBufferPointer { a in
            if environment == nil { return posix_spawn(&pid, path, &actions, &attributes, a.baseAddress!, environ) }
            return envStrings.withUnsafeBufferPointer { e in posix_spawn(&pid, path, &actions, &attributes, a.baseAddress!, e.baseAddress!) }
        }
        guard rc == 0 else { throw SpawnFailed(description: "posix_spawn \(path): \(String(cString: strerror(rc)))") }
        state.withLock { $0.pid = pid }
        // The parent's copies of the child's pipe ends, as Process does.
        if let pipe = standardInput as? Pipe { try? pipe.fileHandleForReading.close() }
        if let pipe = standardOutput as? Pipe { try? pipe.fileHandleForWriting.close() }
        if let pipe = standardError as? Pipe, (standardOutput as? Pipe) !== pipe { try? pipe.fileHandleForWriting.close() }
    }

    /// Reaps the child if it has exited (never blocks).
    private func reap() -> Bool {
        state.withLock { s in
            if s.status != nil { return true }
            guard s.pid > 0 else { return false }
            var status: Int32 = 0
            let r = waitpid(s.pid, &status, WNOHANG)
            guard r == s.pid else { return false }
            if status & 0x7f == 0 { s.status = (status >> 8) & 0xff } else { s.status = status & 0x7f; s.signalled = true }
            return true
        }
    }

    public var isRunning: Bool { processIdentifier > 0 && !reap() }

    /// Blocks this thread until the child has exited (waits without reaping, then reaps).
    public func waitUntilExit() {
        let pid = processIdentifier
        guard pid > 0 else { return }
        while !reap() {
            var info = siginfo_t()
            let r = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT)
            if r != 0, errno != EINTR { usleep(1_000) }
        }
    }

    /// The exit status, or the signal that ended the child (see `terminationReason`).
    public var terminationStatus: Int32 {
        _ = reap()
        return state.withLock { $0.status } ?? -1
    }

    public var terminationReason: Process.TerminationReason {
        _ = reap()
        return state.withLock { $0.signalled } ? .uncaughtSignal : .exit
    }

    public func terminate() { signal(SIGTERM) }
    public func interrupt() { signal(SIGINT) }

    /// Sends `signal` to the child while it has not been reaped.
    public func signal(_ signal: Int32) {
        state.withLock { s in if s.pid > 0, s.status == nil { _ = kill(s.pid, signal) } }
    }
}
