/// One peer's score counters (Specs/gossip.md §10), and the score's components for `gossip.status`.
public struct PeerScore: Sendable, Hashable {
    struct TopicStats: Sendable, Hashable {
        var meshSince: UInt64?
        var firstDeliveries = 0.0
        var meshDeliveries = 0.0
        var invalidDeliveries = 0.0
    }

    var topics: [GossipTopic: TopicStats] = [:]
    var behaviourPenalty = 0.0
    var applicationScore = 0.0

    /// The seven components and their weighted sum.
    public struct Components: Sendable, Hashable {
        public var timeInMesh = 0.0       // P1
        public var firstDeliveries = 0.0  // P2
        public var meshDeliveryDeficit = 0.0 // P3
        public var invalidMessages = 0.0  // P4
        public var application = 0.0      // P5
        public var ipColocation = 0.0     // P6
        public var behaviourPenalty = 0.0 // P7
        public var total: Double {
            timeInMesh + firstDeliveries + meshDeliveryDeficit + invalidMessages + application + ipColocation + behaviourPenalty
        }
    }

    func components(now: UInt64, colocatedPeers: Int, _ p: GossipScoreParameters) -> Components {
        var c = Components()
        for stats in topics.values {
            if let since = stats.meshSince {
                let inMesh = now > since ? now - since : 0
                let quanta = Double(inMesh / max(1, p.timeInMeshQuantumMillis))
                c.timeInMesh += p.timeInMeshWeight * min(quanta, p.timeInMeshCap)
                if inMesh >= p.meshDeliveriesActivationMillis, stats.meshDeliveries < p.meshDeliveriesThreshold {
                    let deficit = p.meshDeliveriesThreshold - stats.meshDeliveries
                    c.meshDeliveryDeficit += p.meshDeliveriesWeight * deficit * deficit
                }
            }
            c.firstDeliveries += p.firstDeliveriesWeight * min(stats.firstDeliveries, p.firstDeliveriesCap)
            c.invalidMessages += p.invalidDeliveriesWeight * stats.invalidDeliveries * stats.invalidDeliveries
        }
        c.application = p.appSpecificWeight * applicationScore
        let surplus = Double(max(0, colocatedPeers - p.ipColocationThreshold))
        c.ipColocation = p.ipColocationWeight * surplus * surplus
        let excess = max(0, behaviourPenalty - p.behaviourPenaltyThreshold)
        c.behaviourPenalty = p.behaviourPenaltyWeight * excess * excess
        return c
    }

    /// Heartbeat decay.
    mutating func decay(_ p: GossipScoreParameters) {
        func d(_ v: inout Double, _ factor: Double) {
            v *= factor
            if v < p.decayToZero { v = 0 }
        }
        for topic in topics.keys.sorted() {
            var s = topics[topic]!
            d(&s.firstDeliveries, p.firstDeliveriesDecay)
            d(&s.meshDeliveries, p.meshDeliveriesDecay)
            d(&s.invalidDeliveries, p.invalidDeliveriesDecay)
            if s.meshSince == nil, s.firstDeliveries == 0, s.meshDeliveries == 0, s.invalidDeliveries == 0 {
                topics[topic] = nil
            } else {
                topics[topic] = s
            }
        }
        d(&behaviourPenalty, p.behaviourPenaltyDecay)
    }

    var isNeutral: Bool { topics.isEmpty && behaviourPenalty == 0 && applicationScore == 0 }
}
