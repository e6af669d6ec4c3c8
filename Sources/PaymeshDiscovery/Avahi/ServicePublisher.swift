internal import CAvahi

/// Publishes our DNS-SD service through one `AvahiEntryGroup`. Lives on the poll thread: every
/// method runs with the poll lock held (inside a callback, or under `ThreadedPoll.withLock`).
///
/// Name collisions (the same instance name already on the link) are resolved with
/// `avahi_alternative_service_name` ("name" → "name #2" → "name #3" …) and the service is
/// registered again under the new name.
final class ServicePublisher {
    /// Renames tried in one registration attempt before giving up until the next retry.
    static let maxRenamesPerAttempt = 32

    private let serviceType: String
    private let port: UInt16
    private let txt: [[UInt8]]
    private let hub: EventHub
    private let onFailure: (String) -> Void
    private(set) var name: String
    private var group: OpaquePointer?

    init(serviceType: String, name: String, port: UInt16, txt: [[UInt8]], hub: EventHub, onFailure: @escaping (String) -> Void) {
        self.serviceType = serviceType
        self.name = name
        self.port = port
        self.txt = txt
        self.hub = hub
        self.onFailure = onFailure
    }

    /// Registers the service on `client` unless it is registered already (client RUNNING).
    func publish(on client: OpaquePointer) {
        if let group, avahi_entry_group_get_state(group) == Int32(AVAHI_ENTRY_GROUP_FAILURE.rawValue) {
            avahi_entry_group_free(group)
            self.group = nil
        }
        if group == nil {
            let userdata = Unmanaged.passUnretained(self).toOpaque()
            guard let created = avahi_entry_group_new(client, Self.callback, userdata) else {
                return onFailure("avahi_entry_group_new: " + AvahiSupport.message(avahi_client_errno(client)))
            }
            group = created
        }
        guard let group, avahi_entry_group_is_empty(group) != 0 else { return }
        register(group)
    }

    /// Withdraws the registration (the server is re-registering its host name); `publish` adds it again.
    func reset() {
        if let group { avahi_entry_group_reset(group) }
        hub.apply { $0.onUnpublished() }
    }

    /// Frees the entry group, which withdraws the service from the network.
    func free() {
        if let group { avahi_entry_group_free(group) }
        group = nil
    }

    /// Drops the pointer without freeing: `avahi_client_free` already freed the group.
    func forgetAfterClientFreed() {
        group = nil
    }

    private func register(_ group: OpaquePointer) {
        let list = AvahiSupport.makeStringList(txt)
        defer { avahi_string_list_free(list) }
        for _ in 0..<Self.maxRenamesPerAttempt {
            let added = avahi_entry_group_add_service_strlst(
                group, AvahiIfIndex(AVAHI_IF_UNSPEC), AvahiProtocol(AVAHI_PROTO_INET), AvahiPublishFlags(0),
                name, serviceType, nil, nil, port, list)
            if added == Int32(AVAHI_ERR_COLLISION) {  // a local service already holds the name
                rename()
                avahi_entry_group_reset(group)
                continue
            }
            guard added >= 0 else { return onFailure("avahi_entry_group_add_service: " + AvahiSupport.message(added)) }
            let committed = avahi_entry_group_commit(group)
            guard committed >= 0 else { return onFailure("avahi_entry_group_commit: " + AvahiSupport.message(committed)) }
            return
        }
        onFailure("no free instance name after \(Self.maxRenamesPerAttempt) alternatives of \(name.debugDescription)")
    }

    private func rename() {
        guard let alternative = avahi_alternative_service_name(name) else { return }
        name = String(cString: alternative)
        avahi_free(alternative)
    }

    private func onState(_ group: OpaquePointer, _ state: AvahiEntryGroupState) {
        if self.group == nil { self.group = group }  // the callback can run inside avahi_entry_group_new
        switch state {
        case AVAHI_ENTRY_GROUP_ESTABLISHED:
            let name = self.name
            hub.apply { $0.onPublished(instanceName: name) }
        case AVAHI_ENTRY_GROUP_COLLISION:  // another host on the link took the name
            hub.apply { $0.onUnpublished() }
            rename()
            avahi_entry_group_reset(group)
            register(group)
        case AVAHI_ENTRY_GROUP_FAILURE:
            let client = avahi_entry_group_get_client(group)
            onFailure("entry group failed: " + AvahiSupport.message(client.map(avahi_client_errno) ?? 0))
        default:
            break  // UNCOMMITED, REGISTERING
        }
    }

    private static let callback: AvahiEntryGroupCallback = { group, state, userdata in
        guard let group, let userdata else { return }
        Unmanaged<ServicePublisher>.fromOpaque(userdata).takeUnretainedValue().onState(group, state)
    }
}
