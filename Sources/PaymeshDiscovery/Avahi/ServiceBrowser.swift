internal import CAvahi

/// Browses for our service type over IPv4 and resolves each new instance once. Lives on the poll
/// thread: every method runs with the poll lock held (inside a callback, or under `withLock`).
/// Each resolver is freed when it answers, when its service is removed, or with the browser.
/// A failed resolution (e.g. a timeout while the daemon is still registering host names) is
/// retried on the engine's retry timer while the service stays announced.
final class ServiceBrowser {
    /// Resolution attempts per announcement before the service is left unresolved.
    static let maxResolveAttempts = 5

    private struct Key: Hashable {
        let interface: Int32
        let name: String
    }

    private struct Request {
        let interface: Int32
        let proto: Int32
        let name: String
        let type: String
        let domain: String
        var attempts: Int
    }

    private let serviceType: String
    private let hub: EventHub
    private let onFailure: (String) -> Void
    private var browser: OpaquePointer?
    private var failed = false
    private var resolvers: [Key: (resolver: OpaquePointer, request: Request)] = [:]
    private var toRetry: [Key: Request] = [:]

    init(serviceType: String, hub: EventHub, onFailure: @escaping (String) -> Void) {
        self.serviceType = serviceType
        self.hub = hub
        self.onFailure = onFailure
    }

    /// Starts browsing on `client` (RUNNING) unless a healthy browser exists, and retries
    /// failed resolutions.
    func start(on client: OpaquePointer) {
        if failed { free() }
        let retries = toRetry
        toRetry.removeAll()
        for request in retries.values where browser != nil { resolve(request, on: client) }
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
        for pending in resolvers.values { avahi_service_resolver_free(pending.resolver) }
        resolvers.removeAll()
        toRetry.removeAll()
        if let browser { avahi_service_browser_free(browser) }
        browser = nil
        failed = false
    }

    /// Drops the pointers without freeing: `avahi_client_free` already freed them.
    func forgetAfterClientFreed() {
        resolvers.removeAll()
        toRetry.removeAll()
        browser = nil
        failed = false
    }

    private func onBrowse(_ interface: Int32, _ proto: Int32, _ event: AvahiBrowserEvent,
                          _ name: String, _ type: String, _ domain: String, _ flags: AvahiLookupResultFlags) {
        switch event {
        case AVAHI_BROWSER_NEW:
            // OUR_OWN: the instance our own client registered, whatever name it ended up with.
            let isOwn = flags.rawValue & AVAHI_LOOKUP_RESULT_OUR_OWN.rawValue != 0
            guard !isOwn, let browser, let client = avahi_service_browser_get_client(browser) else { return }
            let request = Request(interface: interface, proto: proto, name: name, type: type, domain: domain, attempts: 0)
            resolve(request, on: client)
        case AVAHI_BROWSER_REMOVE:
            let key = Key(interface: interface, name: name)
            if let pending = resolvers.removeValue(forKey: key) { avahi_service_resolver_free(pending.resolver) }
            toRetry[key] = nil
            hub.apply { $0.onRemoved(instanceName: name, interface: interface) }
        case AVAHI_BROWSER_FAILURE:
            failed = true  // freed on the next `start`, not inside its own callback
            let client = browser.flatMap(avahi_service_browser_get_client)
            onFailure("service browser failed: " + AvahiSupport.message(client.map(avahi_client_errno) ?? 0))
        default:
            break  // ALL_FOR_NOW, CACHE_EXHAUSTED
        }
    }

    private func resolve(_ request: Request, on client: OpaquePointer) {
        let key = Key(interface: request.interface, name: request.name)
        if let stale = resolvers.removeValue(forKey: key) { avahi_service_resolver_free(stale.resolver) }
        var request = request
        request.attempts += 1
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        let resolver = avahi_service_resolver_new(
            client, request.interface, request.proto, request.name, request.type, request.domain,
            AvahiProtocol(AVAHI_PROTO_INET), AvahiLookupFlags(0), Self.resolveCallback, userdata)
        if let resolver {
            resolvers[key] = (resolver, request)
        } else {
            retryLater(request, "avahi_service_resolver_new: " + AvahiSupport.message(avahi_client_errno(client)))
        }
    }

    private func retryLater(_ request: Request, _ reason: String) {
        guard request.attempts < Self.maxResolveAttempts else { return }
        toRetry[Key(interface: request.interface, name: request.name)] = request
        onFailure("resolving \(request.name.debugDescription): \(reason)")
    }

    private func onResolve(_ resolver: OpaquePointer, _ interface: Int32, _ event: AvahiResolverEvent, _ name: String,
                           _ address: UnsafePointer<AvahiAddress>?, _ port: UInt16,
                           _ txt: UnsafeMutablePointer<AvahiStringList>?) {
        let key = Key(interface: interface, name: name)
        var request: Request?
        if let pending = resolvers[key], pending.resolver == resolver {
            request = pending.request
            resolvers[key] = nil
        }
        defer { avahi_service_resolver_free(resolver) }  // one answer is enough
        guard event == AVAHI_RESOLVER_FOUND, let address else {
            let client = avahi_service_resolver_get_client(resolver)
            if let request { retryLater(request, AvahiSupport.message(client.map(avahi_client_errno) ?? 0)) }
            return
        }
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
