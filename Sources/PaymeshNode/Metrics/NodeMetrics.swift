public import CoreMetrics
import NIOConcurrencyHelpers

/// The node's metrics, made through swift-metrics by the factory the composition root passes in
/// (`paymesh start`: the Prometheus registry behind `/metrics` and console `metrics`; tests and
/// benchmarks that do not ask get `.disabled`, a no-op factory). Every name is listed with its
/// meaning in docs/operations.md ("Metrics").
///
/// Counters on the hot path are created once and incremented with an atomic add (the factory's
/// handler); nothing here takes a lock per voucher. Gauges (channels by state, locked amounts,
/// peers by state, store totals) are set when a scrape asks for them (`publish`).
public final class NodeMetrics: Sendable {
    /// A no-op factory: every handle does nothing.
    public static var disabled: NodeMetrics { NodeMetrics(factory: NOOPMetricsHandler.instance) }

    /// Histogram buckets of `Name.ackLatency`: 100 µs … 10 s (a loopback ack takes well under a
    /// millisecond; a loaded or distant payee seconds).
    public static let ackLatencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2), .seconds(5), .seconds(10),
    ]
    /// Histogram buckets of `Name.storeCommit`: 50 µs (NORMAL sync, page cache) … 5 s (a stalled disk).
    public static let storeCommitBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .seconds(1), .seconds(5),
    ]
    /// Histogram buckets of `Name.storeBatch`: requests per commit, up to the store's default
    /// `maxBatchRequests` (4,096).
    public static let storeBatchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1_024, 2_048, 4_096]

    /// The metric names (Prometheus conventions: a unit suffix, `_total` on counters). Amounts are
    /// in the asset's atomic units (a Prometheus sample is a float64: exact up to 2^53).
    public enum Name {
        public static let paymentsSent = "paymesh_payments_sent_total"
        public static let paymentsSentAmount = "paymesh_payments_sent_atomic_total"
        public static let paymentsAcked = "paymesh_payments_acked_total"
        public static let paymentsAckedAmount = "paymesh_payments_acked_atomic_total"
        public static let paymentsReceived = "paymesh_payments_received_total"
        public static let paymentsReceivedAmount = "paymesh_payments_received_atomic_total"
        public static let paymentsRejected = "paymesh_payments_rejected_total"
        public static let peerMessagesRejected = "paymesh_peer_messages_rejected_total"
        public static let ackLatency = "paymesh_payment_ack_latency_seconds"
        public static let streamBytes = "paymesh_stream_bytes_total"
        public static let streamMessages = "paymesh_stream_messages_total"
        public static let storeCommit = "paymesh_store_commit_seconds"
        public static let storeBatch = "paymesh_store_commit_batch_requests"
        public static let channels = "paymesh_channels"
        public static let channelsDeposit = "paymesh_channels_deposit_atomic"
        public static let channelsHTLCLocked = "paymesh_channels_htlc_locked_atomic"
        public static let channelsUnacknowledged = "paymesh_channels_unacknowledged_vouchers"
        public static let peers = "paymesh_peers"
        public static let peerConnections = "paymesh_peer_connections"
        public static let peerTableEvents = "paymesh_peer_table_events"
        public static let peerTrafficBytes = "paymesh_peer_traffic_bytes"
        public static let peerTrafficMessages = "paymesh_peer_traffic_messages"
        public static let storeCommits = "paymesh_store_commits"
        public static let storeRequests = "paymesh_store_requests"
        public static let storeFailedBatches = "paymesh_store_failed_batches"
        public static let storeHealthy = "paymesh_store_healthy"
        public static let eventsDropped = "paymesh_events_dropped"
        public static let uptime = "paymesh_uptime_seconds"
        public static let htlcsPending = "paymesh_htlcs_pending"
        public static let gossipMessages = "paymesh_gossip_messages"
        public static let gossipDropped = "paymesh_gossip_dropped"
        public static let gossipGraph = "paymesh_gossip_graph_entries"
        public static let gossipMeshPeers = "paymesh_gossip_mesh_peers"
    }

    let factory: any MetricsFactory
    let ackLatency: CoreMetrics.Timer
    let storeCommit: CoreMetrics.Timer
    let storeBatch: Recorder
    /// Gauges by name and labels, and the label sets each name was last published with (a set no
    /// longer present is set to 0, so a state that emptied reads 0, not its last value).
    private let gauges = NIOLockedValueBox<[String: [Labels: Gauge]]>([:])

    public typealias Labels = [String: String]

    public init(factory: any MetricsFactory) {
        self.factory = factory
        ackLatency = CoreMetrics.Timer(label: Name.ackLatency, dimensions: [], factory: factory)
        storeCommit = CoreMetrics.Timer(label: Name.storeCommit, dimensions: [], factory: factory)
        storeBatch = Recorder(label: Name.storeBatch, dimensions: [], aggregate: true, factory: factory)
    }

    public func counter(_ name: String, _ labels: Labels = [:]) -> Counter {
        Counter(label: name, dimensions: Self.dimensions(labels), factory: factory)
    }

    public func amountCounter(_ name: String, _ labels: Labels = [:]) -> FloatingPointCounter {
        FloatingPointCounter(label: name, dimensions: Self.dimensions(labels), factory: factory)
    }

    /// Bytes and messages of one stream protocol, in and out (the stream's payload: what the
    /// protocol's codec reads and writes, without the yamux and Noise framing).
    public struct StreamCounters: Sendable {
        public let bytesIn, bytesOut, messagesIn, messagesOut: Counter
    }

    /// The counters of stream protocol `id` (a driver takes them once per stream).
    public func stream(_ id: String) -> StreamCounters {
        StreamCounters(bytesIn: counter(Name.streamBytes, ["protocol": id, "direction": "in"]),
                       bytesOut: counter(Name.streamBytes, ["protocol": id, "direction": "out"]),
                       messagesIn: counter(Name.streamMessages, ["protocol": id, "direction": "in"]),
                       messagesOut: counter(Name.streamMessages, ["protocol": id, "direction": "out"]))
    }

    /// One group commit of the store: how many requests it held and how long it took (writer thread).
    @Sendable public func storeCommitted(requests: Int, nanoseconds: UInt64) {
        storeBatch.record(requests)
        storeCommit.recordNanoseconds(nanoseconds)
    }

    /// Sign-to-acknowledgement latencies of one `pay` call (recorded when the call ends, not per ack).
    func acknowledged(latenciesNanos: [UInt64]) {
        for n in latenciesNanos { ackLatency.recordNanoseconds(n) }
    }

    /// Sets the gauge `name` to each value of `values` (keyed by labels); label sets published
    /// before under this name and absent now are set to 0.
    public func publish(_ name: String, _ values: [Labels: Double]) {
        gauges.withLockedValue { all in
            var family = all[name] ?? [:]
            for (labels, gauge) in family where values[labels] == nil { gauge.record(0.0) }
            for (labels, value) in values {
                let gauge = family[labels] ?? Gauge(label: name, dimensions: Self.dimensions(labels), factory: factory)
                family[labels] = gauge
                gauge.record(value)
            }
            all[name] = family
        }
    }

    /// Labels in a fixed order (sorted by name), so one label set is one series.
    static func dimensions(_ labels: Labels) -> [(String, String)] {
        labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}
