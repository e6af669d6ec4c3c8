// The gossip frame decoder and router (Specs/gossip.md) under arbitrary peer bytes. Symlinked into
// Tests/PaymeshGossipTests/FuzzHarness/; Fuzz/README.md describes the input layout.
import PaymeshCrypto
import PaymeshGossip

public enum GossipRouterHarness {
    public struct Outcome: Sendable {
        public var frames = 0
        public var deliveries = 0
        public var errors: Set<String> = []
        public var closed = false
    }

    /// Messages in Specs/vectors/gossip.json are stamped 1767225600000 + up to 60 s: a router 30 s
    /// later accepts some and finds others outside the window.
    static let now: UInt64 = 1_767_225_630_000

    static let local = try! EthereumAddress(rawRepresentation: [UInt8](repeating: 0xee, count: 20))
    static let sender = try! EthereumAddress(rawRepresentation: [UInt8](repeating: 0x11, count: 20))
    static let other = try! EthereumAddress(rawRepresentation: [UInt8](repeating: 0x22, count: 20))

    /// Mode bit 0: a heartbeat (1 s later each) after every chunk. Bit 1: tiny limits (send queue 4,
    /// publish burst 3, one IHAVE per heartbeat), so the drop paths run.
    public static func run(_ bytes: [UInt8]) throws(FuzzViolation) -> Outcome {
        let input = FuzzInput(bytes)
        var parameters = GossipParameters()
        if input.mode & 2 != 0 {
            parameters.maxPendingFramesPerPeer = 4
            parameters.publishBurst = 3
            parameters.maxIHaveFramesPerHeartbeat = 1
            parameters.maxPromises = 8
        }
        var router = GossipRouter(localID: local, parameters: parameters)
        var rng = FuzzRNG(state: UInt64(bytes.count))
        let now0 = Self.now
        var validator = AcceptAllValidator()
        var outcome = Outcome()
        var now = Self.now
        for topic in GossipTopic.all { _ = router.subscribe(topic, now: now0, rng: &rng) }
        _ = router.onPeerConnected(sender, now: now0)
        _ = router.onPeerConnected(other, colocationKey: "10.0.0.1", now: now0)

        // 1. The decoder alone: chunking must not matter; decoded frames re-encode canonically.
        var whole = GossipFrameDecoder()
        var chunked = GossipFrameDecoder()
        let wholeResult = Result { () throws(GossipError) in try whole.feed(input.payload) }
        var chunkedPayloads: [[UInt8]] = []
        var chunkedError: GossipError?
        for chunk in input.chunks {
            do throws(GossipError) { chunkedPayloads += try chunked.feed(chunk) } catch {
                chunkedError = error
                break
            }
        }
        switch wholeResult {
        case .success(let payloads):
            try fuzzRequire(chunkedError == nil && payloads == chunkedPayloads, "chunking changed the frames")
        case .failure(let error):
            try fuzzRequire(chunkedError?.kind == error.kind && error.kind == .badFrameLength, "chunking changed the framing error")
        }
        for payload in chunkedPayloads {
            try fuzzRequire((1...GossipLimits.maxFrameBytes).contains(payload.count), "frame size out of range")
            do {
                let frame = try GossipFrame(payload: payload)
                outcome.frames += 1
                let canonical = frame.payload()
                let again = try GossipFrame(payload: canonical)
                try fuzzRequire(again == frame && again.payload() == canonical, "re-encoded frame differs")
            } catch let error as GossipError {
                outcome.errors.insert("\(error.kind)")
            } catch let violation as FuzzViolation {
                throw violation
            } catch {}
        }

        // 2. The router fed the same chunks.
        var delivered = Set<GossipMessageID>()
        var closed = false
        for chunk in input.chunks {
            let actions = router.onBytes(chunk, from: sender, now: now, validator: &validator)
            for action in actions {
                switch action {
                case .send(_, let to):
                    try fuzzRequire(to == sender || to == other, "send to a peer that is not connected")
                    router.onSent(to: to)
                case .deliver(let message):
                    try fuzzRequire((try? message.verifySignature()) != nil, "delivered a message whose signature fails")
                    try fuzzRequire(delivered.insert(message.id).inserted, "delivered a message twice")
                    outcome.deliveries += 1
                case .misbehaviour(let peer, _):
                    try fuzzRequire(peer == sender, "misbehaviour blamed on the wrong peer")
                case .closeStream(let peer, let error):
                    try fuzzRequire(peer == sender && error.closesStream, "closeStream without lost framing")
                    closed = true
                case .announceSignatures(let announce, let from):
                    try fuzzRequire(from == sender && (announce.peerA == from || announce.peerB == from),
                                    "ANNOUNCE_SIGNATURES passed up from a peer that is not an end")
                }
            }
            if input.mode & 1 != 0 {
                now += parameters.heartbeatMillis
                for action in router.onHeartbeat(now: now, rng: &rng) {
                    if case .send(_, let to) = action { router.onSent(to: to) }
                    try fuzzRequire(!{ if case .deliver = action { true } else { false } }(), "a heartbeat delivered a message")
                }
            }
        }
        let c = router.counters
        try fuzzRequire(c.delivered == delivered.count && c.delivered <= c.messagesReceived, "delivery counters disagree")
        try fuzzRequire(c.framesReceived <= chunkedPayloads.count, "more frames counted than decoded")
        try fuzzRequire(c.dropped.values.allSatisfy { $0 > 0 }, "a drop counter is not positive")
        try fuzzRequire(router.pendingPromises <= parameters.maxPromises && router.pendingPromises >= 0, "promises unbounded")
        try fuzzRequire(router.seenCount <= parameters.maxSeenEntries, "seen cache unbounded")
        try fuzzRequire(closed == (chunkedError != nil), "closeStream exactly when framing was lost")
        outcome.closed = closed
        return outcome
    }
}

/// SplitMix64 seeded from the input (the harness stays deterministic).
struct FuzzRNG: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
