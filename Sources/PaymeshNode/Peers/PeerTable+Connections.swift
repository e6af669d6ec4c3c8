public import PaymeshCrypto

extension PeerTable {
    // MARK: Dial deduplication (Specs/console.md §7)

    /// The direction of the connection two nodes keep when they hold two: the one dialled by
    /// the node with the numerically lower address (addresses compared as 20 big-endian bytes).
    public static func preferredDirection(local: EthereumAddress, remote: EthereumAddress) -> ConnectionDirection {
        local < remote ? .outbound : .inbound
    }

    /// Whether a new connection replaces the existing one to the same peer. Opposite directions:
    /// both nodes keep the lower address's dial, so they agree. Both outbound: we dialled twice
    /// and keep the first. Both inbound: the peer dialled twice; it closes one, and we keep the
    /// newer as a standby (never returned as the winner here) until it does.
    public static func keepsNewConnection(local: EthereumAddress, remote: EthereumAddress,
                                          existing: ConnectionDirection, new: ConnectionDirection) -> Bool {
        guard existing != new else { return false }
        return new == preferredDirection(local: local, remote: remote)
    }

    // MARK: Connection events

    /// An authenticated inbound connection from `peer`.
    public mutating func onInboundConnection(_ connection: ConnectionID, peer: EthereumAddress, remote: String?, now: Instant) -> [Action] {
        attach(connection, peer: peer, direction: .inbound, remote: remote, now: now)
    }

    mutating func attach(_ connection: ConnectionID, peer id: EthereumAddress, direction: ConnectionDirection,
                         remote: String?, now: Instant) -> [Action] {
        precondition(connections[connection] == nil, "connection \(connection) reported twice")
        connections[connection] = ConnectionRecord(peer: id, direction: direction)
        if stopping || id == local {
            return [close(connection, stopping ? .shutdown : .duplicate)]
        }
        var p = peers[id] ?? PeerRecord(id: id)
        defer { store(p) }
        if case .banned(let until) = p.state {
            guard until <= now else {
                metrics.rejectedBanned += 1
                return [close(connection, .banned)]
            }
            p.state = .disconnected
            p.banReason = nil
            bans[id] = nil
        }
        if p.state == .connected, let existing = p.connection, let existingDirection = p.direction {
            if connections.values.count(where: { $0.peer == id && $0.closing == nil }) > configuration.maxConnectionsPerPeer {
                metrics.duplicatesClosed += 1
                return [close(connection, .duplicate)]
            }
            if Self.keepsNewConnection(local: local, remote: id, existing: existingDirection, new: direction) {
                p.connection = connection
                p.direction = direction
                p.remoteAddress = remote
                metrics.duplicatesClosed += 1
                return [close(existing, .duplicate)]
            }
            if existingDirection == .inbound && direction == .inbound {
                return [] // standby: the dialer closes one of its two connections
            }
            metrics.duplicatesClosed += 1
            return [close(connection, .duplicate)]
        }
        var actions: [Action] = []
        let occupied = connectedCount - evicting
        if isProtected(id) {
            if occupied >= configuration.maxPeers {
                // Issue 8: a protected peer never waits behind newcomers; the newest
                // unprotected peer makes room.
                guard let victim = newestUnprotectedPeer() else {
                    metrics.rejectedTooManyPeers += 1
                    if p.state == .connecting { p.state = .disconnected }
                    return [close(connection, .tooManyPeers)]
                }
                metrics.evictedForProtected += 1
                actions.append(close(victim, .tooManyPeers))
            }
        } else if occupied >= configuration.maxPeers - configuration.reservedSlots {
            metrics.rejectedTooManyPeers += 1
            if p.state == .connecting { p.state = .disconnected }
            return [close(connection, .tooManyPeers)]
        }
        p.state = .connected
        p.connection = connection
        p.direction = direction
        p.remoteAddress = remote
        p.connectedSince = now
        p.lastSeen = now
        p.wasConnected = true
        p.pingOutstanding = false
        p.lastPingSent = now
        if direction == .inbound { metrics.inboundAccepted += 1 }
        return [.emit(.peerUp(id, direction: direction, remote: remote))] + actions
    }

    /// Connected peers whose connection is being closed to make room (still counted connected).
    private var evicting: Int {
        connectedIDs.count { peers[$0]?.connection.flatMap { connections[$0]?.closing } == .tooManyPeers }
    }

    /// The connection of the most recently connected unprotected peer not already being closed.
    private func newestUnprotectedPeer() -> ConnectionID? {
        connectedIDs.compactMap { peers[$0] }
            .filter { !isProtected($0.id) }
            .compactMap { p -> (Instant, ConnectionID)? in
                guard let c = p.connection, connections[c]?.closing == nil, let since = p.connectedSince else { return nil }
                return (since, c)
            }
            .max { ($0.0, $0.1) < ($1.0, $1.1) }?.1
    }

    // MARK: Protected peers (issue 8)

    /// Replaces the set of peers the node values (those with channels).
    public mutating func setProtectedPeers(_ ids: Set<EthereumAddress>) {
        protectedPeers = ids
    }

    public mutating func protect(_ peer: EthereumAddress) { protectedPeers.insert(peer) }
    public mutating func unprotect(_ peer: EthereumAddress) { protectedPeers.remove(peer) }

    mutating func close(_ connection: ConnectionID, _ reason: DisconnectReason) -> Action {
        connections[connection]?.closing = reason
        return .disconnect(connection, reason)
    }

    /// A connection closed (either side). `violation` is set when the transport closed it
    /// because the peer broke the protocol: the peer is banned. `error` describes other failures.
    public mutating func onConnectionClosed(_ connection: ConnectionID, violation: String? = nil, error: String? = nil,
                                            now: Instant, random: inout some RandomNumberGenerator) -> [Action] {
        guard let record = connections.removeValue(forKey: connection) else { return [] }
        guard var p = peers[record.peer] else { return [] }
        defer { store(p) }
        var actions: [Action] = []
        if let violation, !p.isBanned {
            actions += ban(&p, reason: violation, now: now)
        }
        guard p.connection == connection else { return actions }
        // A standby connection of the same peer takes over without a peer-down.
        if !p.isBanned, let (standby, other) = connections.first(where: { $0.value.peer == p.id && $0.value.closing == nil }) {
            p.connection = standby
            p.direction = other.direction
            return actions
        }
        let reason = record.closing?.description ?? violation.map { "protocol violation: \($0)" } ?? error ?? "closed by peer"
        p.connection = nil
        p.direction = nil
        p.remoteAddress = nil
        p.pingOutstanding = false
        p.lastDisconnectReason = reason
        metrics.disconnects += 1
        if let since = p.connectedSince, now >= since.advanced(by: configuration.stableAfter) { p.attempt = 0 }
        p.connectedSince = nil
        actions.insert(.emit(.peerDown(p.id, reason: reason)), at: 0)
        if !p.isBanned {
            actions += backOffOrPark(&p, now: now, random: &random)
        }
        return actions
    }

    /// The layer above found `peer` breaking the protocol: disconnect with the reason and ban.
    public mutating func onProtocolViolation(_ peer: EthereumAddress, reason: String, now: Instant) -> [Action] {
        guard peer != local else { return [] }
        var p = peers[peer] ?? PeerRecord(id: peer)
        defer { store(p) }
        return ban(&p, reason: reason, now: now)
    }

    /// A service reports `count` acts of misbehaviour by `peer` (a forged signature, a malformed
    /// message, a message for another party's channel). Each counts against the peer; reaching
    /// `misbehaviour.banAfter` reports within `misbehaviour.window` bans it (and closes its
    /// connections) like a protocol violation.
    public mutating func onMisbehaviour(_ peer: EthereumAddress, count: Int = 1, reason: String, now: Instant) -> [Action] {
        guard peer != local, count > 0, var p = peers[peer] else { return [] }
        defer { store(p) }
        let policy = configuration.misbehaviour
        metrics.violationsReported &+= UInt64(count)
        p.counters.violations &+= UInt64(count)
        p.recentViolations.removeAll { $0.duration(to: now) >= policy.window }
        p.recentViolations.append(contentsOf: repeatElement(now, count: min(count, policy.banAfter)))
        if p.recentViolations.count > policy.banAfter { p.recentViolations.removeFirst(p.recentViolations.count - policy.banAfter) }
        guard p.recentViolations.count >= policy.banAfter, !p.isBanned else { return [] }
        p.recentViolations.removeAll()
        return ban(&p, reason: "\(reason) (\(policy.banAfter) violations within \(Int(policy.window.seconds)) s)", now: now)
    }

    private mutating func ban(_ p: inout PeerRecord<Instant>, reason: String, now: Instant) -> [Action] {
        let until = now.advanced(by: configuration.banDuration)
        p.state = .banned(until: until)
        p.banReason = reason
        metrics.bansIssued += 1
        bans[p.id] = until
        banQueue.append((p.id, until))
        // Bounded (issue 7 item 7): past `maxBans` the oldest ban is forgotten, in O(1) each.
        while bans.count > configuration.maxBans, let oldest = popBan() {
            guard oldest.peer != p.id, bans[oldest.peer] == oldest.until else { continue }
            liftBan(oldest.peer)
            metrics.bansEvicted += 1
        }
        var actions: [Action] = [.emit(.peerBanned(p.id, reason: reason, duration: configuration.banDuration))]
        for (id, c) in connections.sorted(by: { $0.key < $1.key }) where c.peer == p.id && c.closing == nil {
            actions.append(close(id, .protocolViolation(reason)))
        }
        return actions
    }

    /// An operator's `disconnect`: close and do not redial until `connect`.
    public mutating func onDisconnectRequested(_ peer: EthereumAddress) throws(NodeError) -> [Action] {
        guard var p = peers[peer] else { throw .peerNotFound(peer.description) }
        defer { store(p) }
        switch p.state {
        case .connected:
            p.held = true
            return connections.sorted(by: { $0.key < $1.key })
                .filter { $0.value.peer == peer && $0.value.closing == nil }
                .map { close($0.key, .requested) }
        case .backingOff, .connecting:
            p.held = true
            if case .backingOff = p.state { p.state = .disconnected }
            return []
        case .disconnected, .banned:
            throw .peerNotConnected(peer.description)
        }
    }

    /// A keepalive (`scheduled`) or on-demand ping finished; `rtt` is nil when it failed.
    public mutating func onPingResult(_ peer: EthereumAddress, rtt: Duration?, scheduled: Bool, now: Instant) {
        guard var p = peers[peer] else { return }
        if scheduled { p.pingOutstanding = false }
        if let rtt {
            p.rtt = rtt
            p.lastSeen = now
            p.counters.pingsAnswered += 1
        } else {
            metrics.pingsFailed += 1
        }
        peers[peer] = p
    }

    /// Application traffic with `peer` (bytes and messages on its streams).
    public mutating func onTraffic(_ peer: EthereumAddress, bytesIn: UInt64 = 0, bytesOut: UInt64 = 0,
                                   messagesIn: UInt64 = 0, messagesOut: UInt64 = 0, now: Instant) {
        guard var p = peers[peer] else { return }
        p.counters.bytesIn &+= bytesIn
        p.counters.bytesOut &+= bytesOut
        p.counters.messagesIn &+= messagesIn
        p.counters.messagesOut &+= messagesOut
        if bytesIn > 0 || messagesIn > 0 { p.lastSeen = now }
        peers[peer] = p
    }
}

extension PeerTable {
    // MARK: Ban bookkeeping (issue 7 item 7): O(1) per ban, bounded, expired from the queue head

    /// Removes and returns the oldest queued ban entry.
    mutating func popBan() -> (peer: EthereumAddress, until: Instant)? {
        guard banQueueHead < banQueue.count else { return nil }
        let entry = banQueue[banQueueHead]
        banQueueHead += 1
        if banQueueHead >= 1024, banQueueHead * 2 >= banQueue.count {
            banQueue.removeFirst(banQueueHead)
            banQueueHead = 0
        }
        return entry
    }

    /// Ends `peer`'s ban; its record is dropped when nothing else keeps it.
    mutating func liftBan(_ peer: EthereumAddress) {
        bans[peer] = nil
        guard var p = peers[peer], p.isBanned else { return }
        p.state = .disconnected
        p.banReason = nil
        store(p)
    }

    /// Lifts the bans that ended by `now`; returns the peers whose ban ended.
    mutating func expireBans(now: Instant) -> [EthereumAddress] {
        var lifted: [EthereumAddress] = []
        while banQueueHead < banQueue.count, banQueue[banQueueHead].until <= now {
            let entry = popBan()!
            guard bans[entry.peer] == entry.until else { continue }
            liftBan(entry.peer)
            lifted.append(entry.peer)
        }
        return lifted
    }

    /// Bans remembered plus stale queue entries (tests: stays bounded).
    public var banQueueLength: Int { banQueue.count - banQueueHead }
}
