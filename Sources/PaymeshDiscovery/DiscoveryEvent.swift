/// What `Discovery` reports, in order, on the stream returned by `start()`.
public enum DiscoveryEvent: Sendable, Hashable {
    /// A peer appeared, or its address, port or TXT changed (same instance name).
    case found(DiscoveredPeer)
    /// The peer published under this instance name is gone.
    case removed(instanceName: String)
    /// Our own service is registered under this instance name (it differs from the requested one
    /// after a name collision).
    case published(instanceName: String)
    /// avahi-daemon cannot be reached; discovery is off until it comes back (the reason is
    /// human-readable). Every peer found so far has been reported `.removed` first.
    case daemonUnavailable(reason: String)
    /// avahi-daemon is reachable (again); publishing and browsing run.
    case daemonAvailable
}
