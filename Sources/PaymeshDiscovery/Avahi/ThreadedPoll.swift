internal import CAvahi
#if canImport(Glibc)
import Glibc
#endif

/// Owns an `AvahiThreadedPoll`: Avahi's event loop on its own thread. Callbacks of every object
/// created on it run on that thread with the poll lock held; any call into Avahi from another
/// thread must be made inside `withLock`.
final class ThreadedPoll {
    private let poll: OpaquePointer
    private var running = false

    init() throws(DiscoveryError) {
        guard let poll = avahi_threaded_poll_new() else { throw .avahiCallFailed("avahi_threaded_poll_new", reason: "out of memory") }
        self.poll = poll
    }

    /// The `AvahiPoll` vtable for creating clients and timeouts on this loop.
    var api: UnsafePointer<AvahiPoll> {
        avahi_threaded_poll_get(poll)
    }

    func start() throws(DiscoveryError) {
        precondition(!running, "ThreadedPoll started twice")
        let code = avahi_threaded_poll_start(poll)
        guard code >= 0 else { throw .avahiCallFailed("avahi_threaded_poll_start", reason: AvahiSupport.message(code)) }
        running = true
    }

    /// Stops the loop thread and waits for it. Must not be called from the loop thread.
    /// Afterwards, objects of this loop may be used and freed without the lock.
    func stop() {
        guard running else { return }
        avahi_threaded_poll_stop(poll)
        running = false
    }

    /// Runs `body` with the poll lock held (never from the loop thread: the lock is not recursive).
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        guard running else { return try body() }
        avahi_threaded_poll_lock(poll)
        defer { avahi_threaded_poll_unlock(poll) }
        return try body()
    }

    deinit {
        stop()
        avahi_threaded_poll_free(poll)
    }
}

/// A one-shot timer on an Avahi poll, re-armable. Its callback runs on the loop thread.
final class PollTimer {
    private let api: UnsafePointer<AvahiPoll>
    private var timeout: OpaquePointer?
    private let action: () -> Void

    init(api: UnsafePointer<AvahiPoll>, action: @escaping () -> Void) {
        self.api = api
        self.action = action
    }

    /// Fires `action` once, `milliseconds` from now (replacing an earlier arming).
    func arm(milliseconds: Int) {
        var now = timeval()
        gettimeofday(&now, nil)
        let total = Int(now.tv_usec) + milliseconds * 1000
        var when = timeval(tv_sec: now.tv_sec + total / 1_000_000, tv_usec: suseconds_t(total % 1_000_000))
        if let timeout {
            api.pointee.timeout_update(timeout, &when)
        } else {
            let userdata = Unmanaged.passUnretained(self).toOpaque()
            timeout = api.pointee.timeout_new(api, &when, { _, userdata in
                guard let userdata else { return }
                Unmanaged<PollTimer>.fromOpaque(userdata).takeUnretainedValue().fire()
            }, userdata)
        }
    }

    func disarm() {
        if let timeout { api.pointee.timeout_update(timeout, nil) }
    }

    private func fire() {
        disarm()
        action()
    }

    /// Frees the Avahi timeout; call with the lock held or the loop stopped.
    func free() {
        if let timeout { api.pointee.timeout_free(timeout) }
        timeout = nil
    }
}
