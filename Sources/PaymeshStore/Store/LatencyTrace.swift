import Foundation
import Synchronization

/// A diagnostic, off by default: stage marks with CLOCK_MONOTONIC (comparable across the processes
/// of one machine) written to standard error when PAYMESH_TRACE is set (README, issue 10 latency
/// study). Off, a mark costs one branch.
public enum LatencyTrace {
    public static let enabled = ProcessInfo.processInfo.environment["PAYMESH_TRACE"] != nil
    private static let lock = Mutex<Void>(())

    public static func mark(_ label: @autoclosure () -> String) {
        guard enabled else { return }
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let ns = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        let line = "TRACE \(ns) \(getpid()) \(label())\n"
        lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }
}
