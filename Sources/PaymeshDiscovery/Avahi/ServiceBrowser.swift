internal import CAvahi

/// Browses for our service type over IPv4 and resolves each new instance once. Lives on the poll
/// thread: every method runs with the poll lock held (inside a callback, or under `withLock`).
/// Each resolver is freed when it answers, when its service is removed, or with the browser.
final class ServiceBrowser {
    private struct Key: Hashable {
        let interface: Int32
        let name: String
    }

    private let serviceType: String
    private let hub: EventHub
    private let onFailure: (String) -> Void
    private var browser: OpaquePointer?
    private var failed = false
    private var resolvers: [Key: OpaquePointer] = [:]

    init(serviceType: String, hub: EventHub, onFailure: @escaping (String) -> Void) {
        self.serviceType = serviceType
        self.hub = hub
        self.onFailure = onFailure
    }

    /// Number of resolvers still waiting for an answer (for tests of resource hygiene).
    var pendingResolvers: Int { resolvers.count }

    /// Starts browsing on `client` (RUNNING) unless a healthy browser exists.
    func start(on client: OpaquePointer) {
        if failed { free() }
        guard browser == nil else { return }
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        browser = avahi_service_browser_new(
            client, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_INET), serviceType, nil,
            AvahiLookupFlags(0), Self.browseCallback, userdata)
        if browser == nil {
            onFailure("avahi_service_browser_new: " + AvahiSupport.message(avahi_client_errno(client)))
        }
    }

    /// Frees every pending resolver, then the browser.
    func free() {
        for resolver in resolvers.values { avahi_service_resolver_free(resolver) }
        resolvers.removeAll()
        if let browser { avahi_service_browser_free(browser) }
        browser = nil
        failed = false
    }

    /// Drops the pointers without freeing: `avahi_client_free` already freed them.
    func forgetAfterClientFreed() {
        resolvers.removeAll()
        browser = nil
        failed = false
    }

    private func onBrowse(_ interface: Int32, _ proto: Int32, _ event: AvahiBrowserEvent,
                          _ name: String, _ type: String, _ domain: String, _ flags: AvahiLookupResultFlags) {
        switch event {
        case AVAHI_BROWSER_NEW:
            // OUR_OWN: the instance our own client registered, whatever name it ended up with.
            let isOwn = flags.rawValue & AVAHI_LOOKUP_RESULT_OUR_OWN.rawValue != 0
            guard !isOwn, let browser else { return }
            let key = Key(interface: interface, name: name)
            if let stale = resolvers.removeValue(forKey: key) { avahi_service_resolver_free(stale) }
            let userdata = Unmanaged.passUnretained(self).toOpaque()
            let resolver = avahi_service_resolver_new(
                avahi_service_browser_get_client(browser), interface, proto, name, type, domain,
                AvahiProtocol(AVAHI_PROTO_INET), AvahiLookupFlags(0), Self.resolveCallback, userdata)
            if let resolver { resolvers[key] = resolver }
        case AVAHI_BROWSER_REMOVE:
            let key = Key(interface: interface, name: name)
            if let pending = resolvers.removeValue(forKey: key) { avahi_service_resolver_free(pending) }
            hub.apply { $0.onRemoved(instanceName: name, interface: interface) }
        case AVAHI_BROWSER_FAILURE:
            failed = true  // freed on the next `start`, not inside its own callback
            let client = browser.flatMap(avahi_service_browser_get_client)
            onFailure("service browser failed: " + AvahiSupport.message(client.map(avahi_client_errno) ?? 0))
        default:
            break  // ALL_FOR_NOW, CACHE_EXHAUSTED
        }
    }

    private func onResolve(_ resolver: OpaquePointer, _ interface: Int32, _ event: AvahiResolverEvent, _ name: String,
                           _ address: UnsafePointer<AvahiAddress>?, _ port: UInt16,
                           _ txt: UnsafeMutablePointer<AvahiStringList>?) {
        let key = Key(interface: interface, name: name)
        if resolvers[key] == resolver { resolvers[key] = nil }
        defer { avahi_service_resolver_free(resolver) }  // one answer is enough
        guard event == AVAHI_RESOLVER_FOUND, let address else { return }  // FAILURE: gone or timed out
        let attributes = TXTRecord.parse(AvahiSupport.strings(of: txt))
        guard let peerID = attributes[PaymeshTXT.peerIDKey], PaymeshTXT.isWellFormedPeerID(peerID) else {
            return  // not a Paymesh node we could dial: no peer id to deduplicate on
        }
        let peer = DiscoveredPeer(instanceName: name, peerID: peerID, host: AvahiSupport.text(of: address),
                                  port: port, txt: attributes)
        hub.apply { $0.onResolved(peer, interface: interface) }
    }

    private static let browseCallback: AvahiServiceBrowserCallback = {
        _, interface, proto, event, name, type, domain, flags, userdata in
        guard let userdata else { return }
        Unmanaged<ServiceBrowser>.fromOpaque(userdata).takeUnretainedValue().onBrowse(
            interface, proto, event, AvahiSupport.string(name), AvahiSupport.string(type),
            AvahiSupport.string(domain), flags)
    }

    private static let resolveCallback: AvahiServiceResolverCallback = {
        resolver, interface, _, event, name, _, _, _, address, port, txt, _, userdata in
        guard let resolver, let userdata else { return }
        Unmanaged<ServiceBrowser>.fromOpaque(userdata).takeUnretainedValue().onResolve(
            resolver, interface, event, AvahiSupport.string(name), address, port, txt)
    }
}
