#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's open-file limit (RLIMIT_NOFILE), which bounds sockets (issue 7 item 3).
public enum DescriptorLimit {
    /// Raises the soft limit to the hard limit where the system allows it; returns the soft
    /// limit in force afterwards. Call once at start.
    @discardableResult
    public static func raiseSoftLimit() -> Int {
        var rl = rlimit()
        guard getrlimit(resource, &rl) == 0 else { return current() }
        if rl.rlim_cur < rl.rlim_max {
            var raised = rl
            raised.rlim_cur = rl.rlim_max
            _ = setrlimit(resource, &raised)
        }
        return current()
    }

    /// The soft limit now (`Int.max` when unlimited, 1024 if it cannot be read).
    public static func current() -> Int {
        var rl = rlimit()
        guard getrlimit(resource, &rl) == 0 else { return 1024 }
        return rl.rlim_cur >= UInt64(Int.max) ? Int.max : Int(rl.rlim_cur)
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
