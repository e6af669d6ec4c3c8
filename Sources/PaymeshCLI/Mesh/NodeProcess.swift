import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Starting, watching and stopping `paymesh start` processes for `paymesh mesh`.
enum NodeProcess {
    /// Options a mesh node must not inherit from the caller's environment (the mesh sets them).
    static let scrubbedEnvironment: Set<String> = [
        "PAYMESH_DATA_DIR", "PAYMESH_LISTEN", "PAYMESH_PEERS", "PAYMESH_NO_MDNS", "PAYMESH_LOG_FILE", "PAYMESH_CONFIG",
    ]

    /// glibc <spawn.h> `POSIX_SPAWN_SETSID` (glibc 2.26+; hidden behind _GNU_SOURCE from Swift).
    static let spawnSetSID: Int32 = 0x80

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    /// glibc 2.34+ `posix_spawn_file_actions_addclosefrom_np`, looked up at run time: the node
    /// inherits no descriptor but its three standard ones.
    private static let closeFromAction: CloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: CloseFrom.self) }

    struct SpawnError: Error, CustomStringConvertible {
        let description: String
    }

    /// This program's executable (`/proc/self/exe`), so nodes run the same build as the mesh.
    static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Starts `executable arguments…` detached: in a new session (no controlling terminal, not
    /// in the caller's process group, so ^C on the caller leaves it running), stdin from
    /// /dev/null, stdout and stderr appended to `log` (created 0600, truncated first).
    static func spawnDetached(executable: String, arguments: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        if let closeFrom = closeFromAction { _ = closeFrom(&actions, 3) }
        posix_spawnattr_setflags(&attributes, Int16(Self.spawnSetSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)

        let environment = ProcessInfo.processInfo.environment.filter { !scrubbedEnvironment.contains($0.key) }.map { "\($0.key)=\($0.value)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(rc)))") }
        return pid
    }

    /// True while `pid` runs (not a zombie) and, when `dataDir` is given, is the node for that
    /// data directory (a recycled pid belongs to some other program).
    static func isAlive(_ pid: Int32, dataDir: String? = nil) -> Bool {
        guard pid > 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        // Field 3, after the parenthesised command name (which may contain spaces).
        guard let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].drop { $0 == " " }.first
        guard state != "Z", state != "X" else { return false }
        guard let dataDir else { return true }
        guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
        let args = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        return args.contains(dataDir)
    }

    /// Reaps `pid` if it is our child and has exited (no zombie is left by `mesh up`).
    static func reapIfChild(_ pid: Int32) {
        var status: Int32 = 0
        _ = waitpid(pid, &status, WNOHANG)
    }

    /// Waits up to `timeout` for `pid` to be gone; true if it is.
    static func waitForExit(_ pid: Int32, dataDir: String?, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            reapIfChild(pid)
            if !isAlive(pid, dataDir: dataDir) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        reapIfChild(pid)
        return !isAlive(pid, dataDir: dataDir)
    }

    /// The resident set size of `pid` in bytes (VmRSS from /proc/<pid>/status).
    static func residentBytes(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return kib * 1024
    }

    /// The last `count` lines of a file (for error messages).
    static func tail(_ path: String, lines count: Int = 12) -> String {
        guard let data = FileManager.default.contents(atPath: path) else { return "(no log at \(path))" }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .suffix(count + 1).joined(separator: "\n")
    }
}
