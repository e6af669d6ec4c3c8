public import PaymeshCrypto
public import PaymeshGossip
public import PaymeshMessages

/// What `gossip.status` shows (Specs/gossip.md §11.3).
public struct GossipStatus: Sendable {
    public struct Peer: Sendable {
        public var id: EthereumAddress
        public var topics: [String]
        public var score: Double
        public var components: PeerScore.Components
    }

    public var topics: [String]
    /// Mesh peers per topic.
    public var mesh: [String: [EthereumAddress]]
    public var peers: [Peer]
    public var counters: GossipCounters
    public var driver: GossipService.DriverCounters
    public var graphChannels: Int
    public var graphNodes: Int
    public var graphServices: Int
    /// Channels of this node that are announceable / fully signed, and the exchange's counters (§7.5).
    public var announceable: Int
    public var announced: Int
    public var proposalsSent: Int
    public var counterSigned: Int
    public var seenCount: Int
    public var cachedMessages: Int
}

extension GossipService {
    /// This node's id (the origin of its gossip).
    public nonisolated var id: EthereumAddress { me }

    /// Upper bound of this node's own services (the graph keeps at most `maxServicesPerNode` per origin).
    public var maxOwnServices: Int { configuration.graphLimits.maxServicesPerNode }

    public func status() -> GossipStatus {
        let now = now()
        let peers = router.connectedPeers.map { id in
            GossipStatus.Peer(id: id, topics: router.topics(of: id).map(\.name).sorted(), score: router.score(of: id, now: now),
                              components: router.scoreComponents(of: id, now: now))
        }
        var mesh: [String: [EthereumAddress]] = [:]
        for topic in router.subscriptions { mesh[topic.name] = router.meshPeers(topic) }
        return GossipStatus(topics: router.subscriptions.map(\.name).sorted(), mesh: mesh, peers: peers, counters: router.counters,
                            driver: driverCounters, graphChannels: graph.channels.count, graphNodes: graph.nodes.count,
                            graphServices: graph.services.count, announceable: exchange.channels.count,
                            announced: exchange.complete.count, proposalsSent: exchange.proposalsSent,
                            counterSigned: exchange.counterSigned, seenCount: router.seenCount, cachedMessages: router.cachedMessageCount)
    }

    /// What a test waiting for the network to go quiet reads: the next heartbeat and the frame counters.
    public func progress() -> (nextHeartbeat: NodeInstant?, framesSent: Int, framesReceived: Int) {
        (heartbeatDue, router.counters.framesSent, router.counters.framesReceived)
    }

    public func graphNodes() -> [NetworkGraph.Node] { graph.nodeList }

    /// The addresses `id`'s node announcement lists (empty: no announcement known).
    public func nodeAddresses(_ id: EthereumAddress) -> [String] { graph.nodes[id]?.announcement.addresses ?? [] }

    public func graphChannels() -> [NetworkGraph.ChannelInfo] { graph.channelInfos(now: now()) }

    public func findServices(_ query: NetworkGraph.ServiceQuery) -> [NetworkGraph.Service] { graph.findServices(query, now: now()) }

    /// The network graph as it is now (a copy-on-write value) and the node's clock (unix ms): what
    /// path search needs (PaymeshRouting builds its directed graph from it, Specs/routing.md §2).
    public func graphSnapshot() -> (graph: NetworkGraph, now: UInt64) { (graph, now()) }

    /// Number of (channels, nodes, services) in the graph.
    public func graphCounts() -> (channels: Int, nodes: Int, services: Int) { (graph.channels.count, graph.nodes.count, graph.services.count) }

    /// Signs and publishes `service` (§7.4) with `expires` = now + `lifetimeMillis` (default: the
    /// configured lifetime), re-published with a fresh expiry at every refresh until withdrawn. A
    /// second advert of the same name replaces the first.
    public func advertise(_ service: ServiceAnnouncement, lifetimeMillis: UInt64? = nil) throws(NodeError) -> ServiceAnnouncement {
        if stopped { throw .shuttingDown() }
        guard ownServices[service.name] != nil || ownServices.count < maxOwnServices else {
            throw .invalidParams("this node already advertises \(maxOwnServices) services")
        }
        let lifetime = lifetimeMillis ?? configuration.serviceLifetimeMillis
        guard (1...ServiceAnnouncement.maxLifetimeMillis).contains(lifetime) else {
            throw .invalidParams("lifetime must be 1…\(ServiceAnnouncement.maxLifetimeMillis) ms")
        }
        var announcement = service
        announcement.expires = now() + lifetime
        ownServices[service.name] = OwnService(announcement: announcement, lifetimeMillis: lifetime)
        guard publishOwn(.service(announcement)) else { throw .internalError("cannot sign the service announcement") }
        return announcement
    }

    /// Publishes the withdrawal of an advertised service (§7.4: `expires` ≤ the body timestamp).
    public func withdraw(_ name: String) throws(NodeError) {
        if stopped { throw .shuttingDown() }
        guard var own = ownServices.removeValue(forKey: name) else { throw .invalidParams("this node does not advertise \"\(name)\"") }
        own.announcement.expires = 0
        guard publishOwn(.service(own.announcement)) else { throw .internalError("cannot sign the service withdrawal") }
    }

    /// A stream that yields after every change of the router or the graph (coalesced), for
    /// watchers that re-read `status()`; nil when too many watch.
    public nonisolated func watchChanges() -> AsyncStream<Void>? { changes.watch() }
}
