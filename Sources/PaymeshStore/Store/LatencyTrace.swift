import Foundation
import Synchronization

// TEMPORARY (issue 10 latency study): marks with CLOCK_MONOTONIC (comparable across processes
// on one machine) written to stderr when PAYMESH_TRACE is set. Removed before merging.
public enum LatencyTrace {
    public static let enabled = ProcessInfo.processInfo.environment["PAYMESH_TRACE"] != nil
    /// A/B switch of the same binary: the behaviour before the latency fixes.
    public static let legacy = ProcessInfo.processInfo.environment["PAYMESH_TRACE_LEGACY"] != nil
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
