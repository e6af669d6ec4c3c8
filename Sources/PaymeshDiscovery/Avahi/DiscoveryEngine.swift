internal import CAvahi

/// One running discovery session: the threaded poll, the Avahi client, our publisher and browser.
///
/// The client is created with `AVAHI_CLIENT_NO_FAIL`: with no daemon it waits in CONNECTING and
/// goes RUNNING when the daemon appears. When the daemon goes away the client FAILs with
/// `AVAHI_ERR_DISCONNECTED`; it is then freed (from a timer, never inside its own callback) and
/// a new one created, which re-publishes and re-browses once RUNNING.
///
/// Thread safety: after `start()`, every stored property is used only on the poll thread or
/// with the poll lock held; `shutdown()` stops the thread before freeing anything.
final class DiscoveryEngine: @unchecked Sendable {
    /// Delay before retrying after a failure other than a daemon disconnect.
    static let retryMilliseconds = 1000

    private let poll: ThreadedPoll
    private let hub: EventHub
    private var client: OpaquePointer?
    private var publisher: ServicePublisher!
    private var browser: ServiceBrowser!
    private var retryTimer: PollTimer!
    private var isShutDown = false
    private var lastFailure: String?

    init(serviceType: String, instanceName: String, port: UInt16, txt: [[UInt8]], hub: EventHub) throws(DiscoveryError) {
        self.poll = try ThreadedPoll()
        self.hub = hub
        publisher = ServicePublisher(serviceType: serviceType, name: instanceName, port: port, txt: txt, hub: hub,
                                     onFailure: { [unowned self] in self.scheduleRetry($0) })
        browser = ServiceBrowser(serviceType: serviceType, hub: hub,
                                 onFailure: { [unowned self] in self.scheduleRetry($0) })
        retryTimer = PollTimer(api: poll.api) { [unowned self] in self.onRetryTimer() }
    }

    /// Creates the client (its first state may already arrive here) and starts the poll thread.
    func start() {
        createClient()
        do {
            try poll.start()
        } catch {
            hub.apply { $0.onDaemonUnavailable(reason: "cannot run the Avahi event loop: \(error)") }
        }
    }

    /// The last publishing or browsing failure (retried every `retryMilliseconds`). Takes the poll lock.
    var lastError: String? {
        poll.withLock { lastFailure }
    }

    /// Stops the poll thread, then withdraws our service and frees every Avahi object.
    /// Must not be called from the poll thread.
    func shutdown() {
        guard !isShutDown else { return }
        isShutDown = true
        poll.stop()
        retryTimer.free()
        browser.free()
        publisher.free()
        if let client { avahi_client_free(client) }
        client = nil
    }

    deinit {
        shutdown()
    }

    // MARK: - Poll thread

    private func createClient() {
        var error: Int32 = 0
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        let created = avahi_client_new(poll.api, AVAHI_CLIENT_NO_FAIL, Self.clientCallback, userdata, &error)
        guard let created else {
            forgetClient()  // avahi_client_new freed whatever its callbacks saw
            let reason = "cannot connect to avahi-daemon: \(AvahiSupport.message(error))"
            lastFailure = reason
            hub.apply { $0.onDaemonUnavailable(reason: reason) }
            retryTimer.arm(milliseconds: Self.retryMilliseconds)
            return
        }
        client = created
    }

    private func forgetClient() {
        browser.forgetAfterClientFreed()
        publisher.forgetAfterClientFreed()
        client = nil
    }

    private func onClientState(_ client: OpaquePointer, _ state: AvahiClientState) {
        if self.client == nil { self.client = client }  // the callback runs inside avahi_client_new
        switch state {
        case AVAHI_CLIENT_S_RUNNING:
            hub.apply { $0.onDaemonAvailable() }
            browser.start(on: client)
            publisher.publish(on: client)
        case AVAHI_CLIENT_S_COLLISION, AVAHI_CLIENT_S_REGISTERING:
            publisher.reset()  // the host name is being (re)registered; publish again once RUNNING
        case AVAHI_CLIENT_CONNECTING:
            hub.apply { $0.onDaemonUnavailable(reason: "avahi-daemon is not running (waiting for it to appear on D-Bus)") }
        case AVAHI_CLIENT_FAILURE:
            let code = avahi_client_errno(client)
            let reason = "lost avahi-daemon: \(AvahiSupport.message(code))"
            lastFailure = reason
            hub.apply { $0.onDaemonUnavailable(reason: reason) }
            retryTimer.arm(milliseconds: code == Int32(AVAHI_ERR_DISCONNECTED) ? 0 : Self.retryMilliseconds)
        default:
            break
        }
    }

    private func scheduleRetry(_ reason: String) {
        lastFailure = reason
        retryTimer.arm(milliseconds: Self.retryMilliseconds)
    }

    /// Recreates a failed client, or repairs a failed browser or entry group of a running one.
    private func onRetryTimer() {
        guard let client, avahi_client_get_state(client) != AVAHI_CLIENT_FAILURE else {
            if let client { avahi_client_free(client) }
            forgetClient()
            createClient()
            return
        }
        guard avahi_client_get_state(client) == AVAHI_CLIENT_S_RUNNING else { return }
        browser.start(on: client)
        publisher.publish(on: client)
    }

    private static let clientCallback: AvahiClientCallback = { client, state, userdata in
        guard let client, let userdata else { return }
        Unmanaged<DiscoveryEngine>.fromOpaque(userdata).takeUnretainedValue().onClientState(client, state)
    }
}
