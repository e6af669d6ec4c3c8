public import PaymeshCrypto
public import PaymeshMessages

/// The gateway's measurements per client and service, sans-IO (Specs/negotiation.md §7): latency
/// and upstream errors of each request, in tumbling windows of `window` requests, checked against
/// the client's agreed SLA terms when a window is full. Bounded: at most `maxEntries` (client,
/// service) pairs, the least recently seen evicted first.
struct SLAMonitor {
    static let maxEntries = 1_024
    /// Requests per window (p99 of 100 requests: the second slowest is above the 99th percentile).
    static let window = 100
    /// Paid requests after which a client has full reputation (reputation = paid · 10,000 / this, bps).
    static let loyaltyTarget: UInt64 = 100

    struct Key: Hashable, Sendable {
        var client: EthereumAddress?
        var service: String
    }

    struct Stats: Sendable {
        var latencies: [UInt32] = []
        var windowErrors: UInt32 = 0
        var windowStart: UInt64 = 0
        var requests: UInt64 = 0
        var errors: UInt64 = 0
        var paid: UInt64 = 0
        var violations: UInt64 = 0
        var lastSeen: UInt64 = 0
        var maxLatency: UInt32 = 0
        /// p99 and error rate (bps) of the last full window.
        var lastP99: UInt32?
        var lastErrorBps: UInt32?
    }

    /// A full window that broke the agreed terms.
    struct Breach: Equatable, Sendable {
        var metric: SLAViolationStatement.Metric
        var agreed: UInt32
        var measured: UInt32
        var samples: UInt32
        var windowStart: UInt64
        var windowEnd: UInt64
    }

    private(set) var stats: [Key: Stats] = [:]

    /// One request the gateway answered (or failed upstream) for `client` (nil: not known).
    mutating func record(client: EthereumAddress?, service: String, latencyMillis: UInt32, failed: Bool, paid: Bool, now: UInt64,
                         terms: NegotiationTerms?) -> Breach? {
        let key = Key(client: client, service: service)
        if stats[key] == nil, stats.count >= Self.maxEntries, let oldest = stats.min(by: { $0.value.lastSeen < $1.value.lastSeen })?.key {
            stats[oldest] = nil
        }
        var s = stats[key] ?? Stats()
        if s.latencies.isEmpty { s.windowStart = now }
        s.latencies.append(latencyMillis)
        if failed { s.windowErrors += 1; s.errors += 1 }
        s.requests += 1
        if paid { s.paid += 1 }
        s.lastSeen = now
        s.maxLatency = max(s.maxLatency, latencyMillis)
        var breach: Breach?
        if s.latencies.count >= Self.window {
            let n = UInt32(s.latencies.count)
            let p99 = Self.percentile99(s.latencies)
            let errorBps = s.windowErrors * 10_000 / n
            s.lastP99 = p99
            s.lastErrorBps = errorBps
            if let t = terms {
                if t.latencyP99Millis > 0, p99 > t.latencyP99Millis {
                    breach = Breach(metric: .latencyP99, agreed: t.latencyP99Millis, measured: p99, samples: n, windowStart: s.windowStart, windowEnd: now)
                } else if UInt32(t.errorRateBasisPoints) < 10_000, errorBps > UInt32(t.errorRateBasisPoints) {
                    breach = Breach(metric: .errorRate, agreed: UInt32(t.errorRateBasisPoints), measured: errorBps, samples: n,
                                    windowStart: s.windowStart, windowEnd: now)
                }
            }
            if breach != nil { s.violations += 1 }
            s.latencies.removeAll(keepingCapacity: true)
            s.windowErrors = 0
        }
        stats[key] = s
        return breach
    }

    /// The client's reputation at this gateway, bps: its paid requests over `loyaltyTarget`, capped.
    func reputationBps(_ client: EthereumAddress?) -> UInt64 {
        guard let client else { return 0 }
        let paid = stats.reduce(UInt64(0)) { $0 + ($1.key.client == client ? $1.value.paid : 0) }
        return min(10_000, paid.multipliedReportingOverflow(by: 10_000).overflow ? 10_000 : paid * 10_000 / Self.loyaltyTarget)
    }

    /// The value below which 99 % of `values` lie: the ⌈0.99·n⌉-th smallest.
    static func percentile99(_ values: [UInt32]) -> UInt32 {
        precondition(!values.isEmpty)
        let sorted = values.sorted()
        let rank = (sorted.count * 99 + 99) / 100 // ⌈0.99·n⌉
        return sorted[rank - 1]
    }
}
