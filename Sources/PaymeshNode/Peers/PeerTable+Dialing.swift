public import PaymeshCrypto

extension PeerTable {
    /// What a console `connect` turned into.
    public enum ConnectOutcome: Hashable, Sendable {
        case alreadyConnected(EthereumAddress)
        /// A dial is (now) in flight; its result answers the request.
        case dialing(Dial)
    }

    // MARK: Configured and requested endpoints

    /// A `--peer [id@]host:port`: kept connected for the node's lifetime, redialled with backoff;
    /// with `expected`, only a node proving that identity is accepted there.
    public mutating func addStaticPeer(_ endpoint: PeerEndpoint, expected: EthereumAddress? = nil, now: Instant) -> [Action] {
        guard !selfEndpoints.contains(endpoint) else { return [] }
        if let id = peers.first(where: { $0.value.addresses[endpoint] != nil })?.key, expected == nil || expected == id, var p = peers[id] {
            p.addresses[endpoint] = .static
            defer { store(p) }
            return dialIfIdle(&p)
        }
        if var e = endpoints[endpoint] {
            e.source = .static
            endpoints[endpoint] = e
            return []
        }
        var e = EndpointRecord<Instant>(endpoint: endpoint, source: .static)
        e.expected = expected
        defer { endpoints[endpoint] = e }
        // A static peer is protected: it may use the reserved slots (issue 8).
        guard connectedCount + dialsInFlight.count < configuration.maxPeers + 1, !stopping else {
            e.retryAt = now
            return []
        }
        e.dialing = true
        return [startDial(Dial(endpoint: endpoint, expected: expected))]
    }

    /// An operator's `connect [id@]host:port`; with `expected`, the node there must prove that
    /// identity (else the dial fails with `.unexpectedPeer`, IDENTITY_NOT_VERIFIED).
    public mutating func onConnectRequested(_ endpoint: PeerEndpoint, expected: EthereumAddress? = nil,
                                            now: Instant) throws(NodeError) -> (ConnectOutcome, [Action]) {
        guard !stopping else { throw .shuttingDown() }
        guard !selfEndpoints.contains(endpoint) else { throw .dialFailed("\(endpoint) is this node") }
        if let inFlight = dialsInFlight[endpoint] { return (.dialing(inFlight), []) }
        let known = peers.first(where: { $0.value.addresses[endpoint] != nil })?.key
        if let known, let expected, expected != known, peers[known]?.state == .connected {
            throw .identityNotVerified("the node at \(endpoint) is \(known), not \(expected)")
        }
        // A known peer's address (unless another identity is asked for there: then a new endpoint).
        if let id = known, expected == nil || expected == id, var p = peers[id] {
            defer { store(p) }
            switch p.state {
            case .connected: return (.alreadyConnected(id), [])
            case .banned: throw .peerBanned("\(id) is banned: \(p.banReason ?? "protocol violation")")
            case .connecting, .disconnected, .backingOff:
                guard hasCapacity(for: id) else { throw .tooManyPeers(configuration.maxPeers) }
                p.held = false
                p.state = .connecting
                let dial = Dial(endpoint: endpoint, expected: id)
                return (.dialing(dial), [startDial(dial)])
            }
        }
        guard hasCapacity else { throw .tooManyPeers(configuration.maxPeers) }
        var e = endpoints[endpoint] ?? EndpointRecord(endpoint: endpoint, source: .manual)
        e.dialing = true
        if let expected { e.expected = expected }
        endpoints[endpoint] = e
        let dial = Dial(endpoint: endpoint, expected: e.expected)
        return (.dialing(dial), [startDial(dial)])
    }

    // MARK: Dial results

    /// A dial completed the handshake with `peer`.
    public mutating func onDialSucceeded(_ dial: Dial, connection: ConnectionID, peer: EthereumAddress,
                                         remote: String?, now: Instant) -> [Action] {
        dialsInFlight[dial.endpoint] = nil
        metrics.dialsSucceeded += 1
        if peer != local {
            var p = peers[peer] ?? PeerRecord(id: peer)
            let learned = endpoints.removeValue(forKey: dial.endpoint)?.source ?? .manual
            p.addresses[dial.endpoint] = min(p.addresses[dial.endpoint] ?? learned, learned)
            peers[peer] = p
        }
        return attach(connection, peer: peer, direction: .outbound, remote: remote, now: now)
    }

    public mutating func onDialFailed(_ dial: Dial, _ failure: DialFailure, now: Instant,
                                      random: inout some RandomNumberGenerator) -> [Action] {
        dialsInFlight[dial.endpoint] = nil
        metrics.dialsFailed += 1
        let reason: String
        switch failure {
        case .selfConnection: reason = "the address is this node"
        case .unexpectedPeer: reason = "a different node answers at \(dial.endpoint)"
        case .unreachable(let why): reason = why
        }
        // A dial of an endpoint record (static, manual, discovered; pinned to an id or not) is
        // settled on that record; a dial of a known peer's address on the peer.
        guard let id = dial.expected, endpoints[dial.endpoint] == nil else {
            guard var e = endpoints[dial.endpoint] else { return [] }
            e.dialing = false
            e.lastError = reason
            if failure == .selfConnection || e.source != .static || stopping {
                if failure == .selfConnection { selfEndpoints.insert(dial.endpoint) }
                endpoints[dial.endpoint] = nil
                return []
            }
            let delay = configuration.backoff.delay(attempt: e.attempt, using: &random)
            e.attempt += 1
            e.retryAt = now.advanced(by: delay)
            endpoints[dial.endpoint] = e
            return [.scheduleRetry(dial, at: e.retryAt!)]
        }
        guard var p = peers[id] else { return [] }
        defer { store(p) }
        if case .unreachable = failure {} else {
            // The address no longer leads to this peer: forget it; a static one is dialled
            // afresh without an expected identity.
            if p.addresses.removeValue(forKey: dial.endpoint) == .static, failure == .unexpectedPeer {
                endpoints[dial.endpoint] = EndpointRecord(endpoint: dial.endpoint, source: .static, retryAt: now)
            }
            if failure == .selfConnection { selfEndpoints.insert(dial.endpoint) }
        }
        guard p.state == .connecting else { return [] } // connected meanwhile (inbound), banned, …
        p.lastDisconnectReason = reason
        return backOffOrPark(&p, now: now, random: &random)
    }

    // MARK: Discovery

    public mutating func onPeerDiscovered(_ peer: EthereumAddress, at endpoint: PeerEndpoint, now: Instant) -> [Action] {
        guard peer != local, !stopping else { return [] }
        let previous = discovered.updateValue(endpoint, forKey: peer)
        var actions: [Action] = previous == endpoint ? [] : [.emit(.discoveryFound(peer, endpoint))]
        var p = peers[peer] ?? PeerRecord(id: peer)
        defer { store(p) }
        if let previous, previous != endpoint, p.addresses[previous] == .discovered { p.addresses[previous] = nil }
        p.addresses[endpoint] = min(p.addresses[endpoint] ?? .discovered, .discovered)
        actions += dialIfIdle(&p)
        return actions
    }

    public mutating func onPeerLost(_ peer: EthereumAddress, now: Instant) -> [Action] {
        guard let endpoint = discovered.removeValue(forKey: peer) else { return [] }
        guard var p = peers[peer] else { return [.emit(.discoveryLost(peer))] }
        defer { store(p) }
        if p.addresses[endpoint] == .discovered { p.addresses[endpoint] = nil }
        if case .backingOff = p.state, !p.wantsConnection { p.state = .disconnected }
        return [.emit(.discoveryLost(peer))]
    }

    // MARK: Time

    /// Redials that are due, expired bans, keepalive pings. Call periodically.
    public mutating func onTick(now: Instant) -> [Action] {
        guard !stopping else { return [] }
        var actions: [Action] = []
        // Expired bans come off the head of the ban queue; banned records are not scanned.
        for id in expireBans(now: now) {
            guard var p = peers[id] else { continue }
            actions += dialIfIdle(&p)
            store(p)
        }
        for id in peers.compactMap({ $0.value.isBanned ? nil : $0.key }).sorted() {
            guard var p = peers[id] else { continue }
            switch p.state {
            case .backingOff(let until) where until <= now:
                p.state = .disconnected
                actions += dialIfIdle(&p)
                if p.state == .disconnected { p.state = .backingOff(until: until) } // no capacity: stay due
            case .disconnected:
                actions += dialIfIdle(&p)
            case .connected:
                if !p.pingOutstanding, let connection = p.connection,
                   now >= (p.lastPingSent ?? now).advanced(by: configuration.pingInterval) {
                    p.pingOutstanding = true
                    p.lastPingSent = now
                    p.counters.pingsSent += 1
                    metrics.pingsSent += 1
                    actions.append(.ping(connection))
                }
            default:
                break
            }
            store(p)
        }
        for endpoint in endpoints.keys.sorted() {
            guard var e = endpoints[endpoint], !e.dialing, let at = e.retryAt, at <= now,
                  hasCapacity || (e.source == .static && connectedCount + dialsInFlight.count < configuration.maxPeers + 1) else { continue }
            e.dialing = true
            e.retryAt = nil
            endpoints[endpoint] = e
            actions.append(startDial(Dial(endpoint: endpoint, expected: e.expected)))
        }
        return actions
    }

    /// Stop dialling and close every connection.
    public mutating func onShutdown() -> [Action] {
        stopping = true
        return connections.keys.sorted().filter { connections[$0]?.closing == nil }.map { close($0, .shutdown) }
    }

    /// Dials a peer that is disconnected, wanted, not held and has an address, when there is room.
    private mutating func dialIfIdle(_ p: inout PeerRecord<Instant>) -> [Action] {
        guard !stopping, p.state == .disconnected, p.wantsConnection, hasCapacity(for: p.id),
              let address = p.dialAddress(), dialsInFlight[address] == nil else { return [] }
        p.state = .connecting
        return [startDial(Dial(endpoint: address, expected: p.id))]
    }
}
