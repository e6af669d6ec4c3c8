import NIOConcurrencyHelpers
public import PaymeshNode
import PaymeshChannels
import PaymeshGossip
import Prometheus

/// The node's Prometheus registry: the features count into it through swift-metrics
/// (`NodeMetrics`, handed to them at start), and a scrape first sets the gauges that describe the
/// node's state (channels, locked deposits, peers, store totals) from the features' own queries,
/// then renders the registry in the Prometheus text format. `/metrics` and console `metrics` both
/// read `scrape()`, so they show the same numbers. One registry per node (never the process-wide
/// `MetricsSystem`), so several nodes in one process (tests) keep their numbers apart.
public final class NodeMetricsCollector: Sendable {
    public let metrics: NodeMetrics
    private let registry: PrometheusCollectorRegistry
    private let sources = NIOLockedValueBox<Sources?>(nil)

    struct Sources: Sendable {
        let peers: PeerManager
        let payments: PaymentsService
        let events: NodeEventHub
        let gossip: GossipService?
        let clock: any NodeClock
        let started: NodeInstant
    }

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = [
            NodeMetrics.Name.ackLatency: NodeMetrics.ackLatencyBuckets,
            NodeMetrics.Name.storeCommit: NodeMetrics.storeCommitBuckets,
        ]
        factory.valueHistogramBuckets = [NodeMetrics.Name.storeBatch: NodeMetrics.storeBatchBuckets]
        metrics = NodeMetrics(factory: factory)
    }

    /// The features whose state a scrape reads (set once they are started).
    func attach(peers: PeerManager, payments: PaymentsService, events: NodeEventHub, gossip: GossipService?, clock: any NodeClock) {
        sources.withLockedValue { $0 = Sources(peers: peers, payments: payments, events: events, gossip: gossip, clock: clock, started: clock.now) }
    }

    /// Every metric in the Prometheus text exposition format (version 0.0.4).
    public func scrape() async -> String {
        if let s = sources.withLockedValue({ $0 }) { await refresh(s) }
        return registry.emitToString() // the registry locks its own state
    }

    private func refresh(_ s: Sources) async {
        typealias Name = NodeMetrics.Name
        let peers = await s.peers.snapshot()
        var byState: [NodeMetrics.Labels: Double] = [:]
        var traffic: [String: Double] = [:]
        for p in peers.peers {
            byState[["state": p.state], default: 0] += 1
            traffic["bytes_in", default: 0] += Double(p.counters.bytesIn)
            traffic["bytes_out", default: 0] += Double(p.counters.bytesOut)
            traffic["messages_in", default: 0] += Double(p.counters.messagesIn)
            traffic["messages_out", default: 0] += Double(p.counters.messagesOut)
        }
        metrics.publish(Name.peers, byState)
        metrics.publish(Name.peerConnections, [[:]: Double(peers.connections)])
        let m = peers.metrics
        let tableEvents: [(String, UInt64)] = [
            ("dials_started", m.dialsStarted), ("dials_succeeded", m.dialsSucceeded), ("dials_failed", m.dialsFailed),
            ("inbound_accepted", m.inboundAccepted), ("duplicates_closed", m.duplicatesClosed),
            ("rejected_too_many_peers", m.rejectedTooManyPeers), ("rejected_banned", m.rejectedBanned), ("bans_issued", m.bansIssued),
            ("violations_reported", m.violationsReported), ("disconnects", m.disconnects), ("pings_sent", m.pingsSent),
            ("pings_failed", m.pingsFailed),
        ]
        metrics.publish(Name.peerTableEvents, Dictionary(uniqueKeysWithValues: tableEvents.map { (["event": $0.0], Double($0.1)) }))
        metrics.publish(Name.peerTrafficBytes, [["direction": "in"]: traffic["bytes_in"] ?? 0, ["direction": "out"]: traffic["bytes_out"] ?? 0])
        metrics.publish(Name.peerTrafficMessages, [["direction": "in"]: traffic["messages_in"] ?? 0,
                                                   ["direction": "out"]: traffic["messages_out"] ?? 0])

        let views = await s.payments.views()
        var channels: [NodeMetrics.Labels: Double] = [:]
        var deposits: [NodeMetrics.Labels: Double] = [:]
        var htlcLocked: [NodeMetrics.Labels: Double] = [:]
        var unacknowledged = 0
        for v in views {
            let role = v.snapshot.role.rawValue
            channels[["state": v.snapshot.state.rawValue, "role": role], default: 0] += 1
            unacknowledged += v.unacknowledged
            guard v.snapshot.state != .settled else { continue }
            let key = ["asset": v.snapshot.terms.open.asset.id, "role": role]
            deposits[key, default: 0] += Double(v.snapshot.terms.open.totalDeposit.atomicUnits)
            htlcLocked[key, default: 0] += Double(v.snapshot.lockedAmount)
        }
        metrics.publish(Name.channels, channels)
        metrics.publish(Name.channelsDeposit, deposits)
        metrics.publish(Name.channelsHTLCLocked, htlcLocked)
        metrics.publish(Name.channelsUnacknowledged, [[:]: Double(unacknowledged)])

        let store = s.payments.storeStatistics
        metrics.publish(Name.storeCommits, [[:]: Double(store.commits)])
        metrics.publish(Name.storeRequests, [[:]: Double(store.requests)])
        metrics.publish(Name.storeFailedBatches, [[:]: Double(store.failedBatches)])
        metrics.publish(Name.storeHealthy, [[:]: s.payments.storeHealth == .ok ? 1 : 0])
        metrics.publish(Name.eventsDropped, [[:]: Double(s.events.droppedTotal)])
        metrics.publish(Name.uptime, [[:]: Double(s.started.duration(to: s.clock.now).components.seconds)])

        // HTLCs still pending, by side and asset-less amount count (channels.md §12; amounts locked
        // are in paymesh_channels_htlc_locked_atomic).
        var htlcs: [NodeMetrics.Labels: Double] = [["side": "offered"]: 0, ["side": "received"]: 0]
        for e in await s.payments.htlcEntries() where e.state == .pending { htlcs[["side": e.side.rawValue], default: 0] += 1 }
        metrics.publish(Name.htlcsPending, htlcs)

        // Gossip (Specs/gossip.md): the router's counters, drops by reason, graph and mesh sizes.
        guard let gossip = s.gossip else { return }
        let g = await gossip.status()
        let c = g.counters
        let kinds: [(String, Int)] = [
            ("received", c.messagesReceived), ("delivered", c.delivered), ("duplicates", c.duplicates), ("invalid", c.invalid),
            ("published", c.published), ("forwarded", c.forwarded), ("ihave_sent", c.ihaveSent), ("iwant_sent", c.iwantSent),
            ("sync_received", c.syncMessagesReceived), ("sync_sent", c.syncMessagesSent), ("frames_received", c.framesReceived),
            ("frames_sent", c.framesSent),
        ]
        metrics.publish(Name.gossipMessages, Dictionary(uniqueKeysWithValues: kinds.map { (["kind": $0.0], Double($0.1)) }))
        metrics.publish(Name.gossipDropped, Dictionary(uniqueKeysWithValues: GossipDropReason.allCases.map {
            (["reason": $0.rawValue], Double(c.dropped[$0] ?? 0))
        }))
        metrics.publish(Name.gossipGraph, [["kind": "channels"]: Double(g.graphChannels), ["kind": "nodes"]: Double(g.graphNodes),
                                           ["kind": "services"]: Double(g.graphServices)])
        metrics.publish(Name.gossipMeshPeers, Dictionary(uniqueKeysWithValues: g.mesh.map { (["topic": $0.key], Double($0.value.count)) }))
    }
}
