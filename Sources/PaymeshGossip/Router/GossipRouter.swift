public import PaymeshCrypto
public import PaymeshMessages

/// GossipSub v1.1 over `/paymesh/gossip/1` as a sans-IO value type (Specs/gossip.md §9–§11):
/// events in (`onPeerConnected`, `onBytes`/`onFrame`, `onHeartbeat`, `publish`, `subscribe`),
/// `[GossipAction]` out. Time (Unix ms) and randomness are passed in; every collection is bounded;
/// every drop is counted in `counters`. Iteration is over sorted keys, so a seeded generator
/// gives the same actions on every run.
public struct GossipRouter: Sendable {
    public typealias PeerID = EthereumAddress

    struct Peer: Sendable {
        var topics: Set<GossipTopic> = []
        var decoder = GossipFrameDecoder()
        var publishBucket: TokenBucket
        var controlBucket: TokenBucket
        var colocationKey: String?
        var pending = 0
        var ihaveFrames = 0
        var iwantAsked = 0
        /// Our answer to the peer's SYNC_REQUEST (§8.5), sent as its send queue drains.
        var syncOut: SyncAnswer?
        /// Our SYNC_REQUEST to the peer, while it may still be answered.
        var syncIn: SyncWait?
    }

    struct SyncAnswer: Sendable {
        var messages: [GossipMessage]
        var next = 0
    }

    struct SyncWait: Sendable {
        var remaining: Int
        var deadline: UInt64
    }

    public let localID: PeerID
    public let parameters: GossipParameters
    public private(set) var counters = GossipCounters()
    /// Our topics.
    public private(set) var subscriptions: Set<GossipTopic> = []

    var peers: [PeerID: Peer] = [:]
    var mesh: [GossipTopic: Set<PeerID>] = [:]
    var fanout: [GossipTopic: Set<PeerID>] = [:]
    var fanoutLastPublish: [GossipTopic: UInt64] = [:]
    /// (topic, peer) → time before which we neither graft the peer nor accept its GRAFT.
    var backoff: [GossipTopic: [PeerID: UInt64]] = [:]
    var scores: [PeerID: PeerScore] = [:]
    /// Disconnected peers' negative scores, kept until the time given.
    var retained: [PeerID: UInt64] = [:]
    var mcache: MessageCache
    var seen: SeenCache
    /// IWANT promises: id → peer → deadline.
    var promises: [GossipMessageID: [PeerID: UInt64]] = [:]
    var promiseCount = 0
    var origins: [PeerID: TokenBucket] = [:]
    /// When we last answered each peer's SYNC_REQUEST (§8.5), bounded by `maxSyncServedPeers`.
    var syncServed: [PeerID: UInt64] = [:]

    public init(localID: PeerID, parameters: GossipParameters = GossipParameters()) {
        self.localID = localID
        self.parameters = parameters
        mcache = MessageCache(windows: parameters.mcacheWindows, gossipWindows: parameters.mcacheGossipWindows,
                              maxPerWindow: parameters.maxCachedMessagesPerWindow)
        seen = SeenCache(ttl: parameters.seenTTLMillis, capacity: parameters.maxSeenEntries)
    }

    // MARK: peers

    /// A gossip stream to `peer` is open. `colocationKey` groups peers for P6 (e.g. their IP); nil: none.
    public mutating func onPeerConnected(_ peer: PeerID, colocationKey: String? = nil, now: UInt64) -> [GossipAction] {
        guard peer != localID, peers[peer] == nil else { return [] }
        let p = parameters
        peers[peer] = Peer(publishBucket: TokenBucket(rate: p.publishRatePerSecond, burst: p.publishBurst, now: now),
                           controlBucket: TokenBucket(rate: p.controlRatePerSecond, burst: p.controlBurst, now: now),
                           colocationKey: colocationKey)
        retained[peer] = nil
        var out: [GossipAction] = []
        for topic in subscriptions.sorted() { send(.subscribe(topic), to: peer, &out) }
        if parameters.syncOnConnect, !subscriptions.isEmpty {
            // §8.5: after our SUBSCRIBEs (the peer answers for the topics they name).
            let limit = max(1, min(parameters.syncMaxMessages, Int(GossipLimits.syncLimit.upperBound)))
            if send(.syncRequest(limit: UInt64(limit)), to: peer, &out) {
                peers[peer]!.syncIn = SyncWait(remaining: limit, deadline: now + parameters.syncIdleTimeoutMillis)
                counters.syncRequestsSent += 1
            }
        }
        return out
    }

    public mutating func onPeerDisconnected(_ peer: PeerID, now: UInt64) {
        guard peers.removeValue(forKey: peer) != nil else { return }
        for topic in mesh.keys.sorted() { leaveMesh(peer, topic) }
        for topic in fanout.keys.sorted() { fanout[topic]?.remove(peer) }
        for id in promises.keys.sorted() {
            if promises[id]?.removeValue(forKey: peer) != nil { promiseCount -= 1 }
            if promises[id]?.isEmpty == true { promises[id] = nil }
        }
        if score(of: peer, now: now) < 0, retained.count < parameters.maxRetainedScores {
            retained[peer] = now + parameters.retainScoreMillis
        } else {
            scores[peer] = nil
        }
    }

    /// The driver wrote `frames` frames to `peer` (frees room in its bounded send queue). Returns
    /// the next frames of a graph-sync answer in progress (§8.5), if any.
    @discardableResult
    public mutating func onSent(to peer: PeerID, frames: Int = 1) -> [GossipAction] {
        guard var p = peers[peer] else { return [] }
        p.pending = max(0, p.pending - frames)
        peers[peer] = p
        guard p.syncOut != nil else { return [] }
        var out: [GossipAction] = []
        pumpSync(to: peer, &out)
        return out
    }

    /// P5: the application's opinion of a peer (e.g. from payments).
    public mutating func setApplicationScore(_ value: Double, for peer: PeerID) {
        scores[peer, default: PeerScore()].applicationScore = value
    }

    // MARK: topics

    public mutating func subscribe<R: RandomNumberGenerator>(_ topic: GossipTopic, now: UInt64, rng: inout R) -> [GossipAction] {
        guard subscriptions.insert(topic).inserted else { return [] }
        var out: [GossipAction] = []
        for peer in peers.keys.sorted() { send(.subscribe(topic), to: peer, &out) }
        // GossipSub join: fanout peers first, then others, up to D.
        var members = Set((fanout.removeValue(forKey: topic) ?? []).filter { isGraftable($0, topic, now: now) })
        fanoutLastPublish[topic] = nil
        if members.count < parameters.d {
            let candidates = peers.keys.sorted().filter { !members.contains($0) && isGraftable($0, topic, now: now) }
            members.formUnion(candidates.shuffled(using: &rng).prefix(parameters.d - members.count))
        }
        mesh[topic] = []
        for peer in members.sorted() {
            joinMesh(peer, topic, now: now)
            send(.graft(topic), to: peer, &out)
        }
        return out
    }

    public mutating func unsubscribe(_ topic: GossipTopic, now: UInt64) -> [GossipAction] {
        guard subscriptions.remove(topic) != nil else { return [] }
        var out: [GossipAction] = []
        let backoffSeconds = max(1, parameters.unsubscribeBackoffMillis / 1_000)
        for peer in (mesh[topic] ?? []).sorted() {
            send(.prune(topic, backoffSeconds: backoffSeconds), to: peer, &out)
            leaveMesh(peer, topic)
        }
        mesh[topic] = nil
        for peer in peers.keys.sorted() { send(.unsubscribe(topic), to: peer, &out) }
        return out
    }

    // MARK: publishing

    /// Sends our own, already signed message (§9.3): flood publishing to every subscribed peer at
    /// or above the publish threshold (or mesh/fanout peers when flood publishing is off).
    public mutating func publish(_ message: GossipMessage, now: UInt64) -> [GossipAction] {
        guard !seen.contains(message.id) else { return [] }
        counters.seenEvicted += seen.insert(message.id, now: now)
        if !mcache.put(message) { counters.mcacheFull += 1 }
        counters.published += 1
        let topic = message.topic
        var targets: [PeerID]
        if parameters.floodPublish {
            targets = peers.keys.sorted().filter {
                peers[$0]!.topics.contains(topic) && score(of: $0, now: now) >= parameters.score.publishThreshold
            }
        } else if let members = mesh[topic] {
            targets = members.sorted()
        } else {
            if fanout[topic] == nil {
                fanout[topic] = Set(peers.keys.sorted().filter {
                    peers[$0]!.topics.contains(topic) && score(of: $0, now: now) >= parameters.score.publishThreshold
                }.prefix(parameters.d))
            }
            targets = fanout[topic]!.sorted()
        }
        if !subscriptions.contains(topic) { fanoutLastPublish[topic] = now }
        var out: [GossipAction] = []
        for peer in targets { send(.publish(message), to: peer, &out) }
        return out
    }

    // MARK: inbound

    /// Bytes from `peer`'s gossip stream, cut anywhere.
    public mutating func onBytes<V: GossipValidator>(_ bytes: some Collection<UInt8>, from peer: PeerID, now: UInt64,
                                                      validator: inout V) -> [GossipAction] {
        guard var p = peers[peer] else {
            counters.drop(.unknownPeer)
            return []
        }
        let payloads: [[UInt8]]
        do throws(GossipError) {
            payloads = try p.decoder.feed(bytes)
            peers[peer] = p
        } catch {
            peers[peer] = p
            counters.drop(.malformedFrame)
            penalize(peer, behaviour: 1)
            return [.closeStream(peer, error)]
        }
        var out: [GossipAction] = []
        if !payloads.isEmpty, isGraylisted(peer, now: now) {
            // Framing is kept, but nothing from a graylisted peer is even parsed (§10.3).
            counters.framesReceived += payloads.count
            counters.drop(.graylisted, payloads.count)
            return []
        }
        for payload in payloads {
            do throws(GossipError) {
                out += onFrame(try GossipFrame(payload: payload), from: peer, now: now, validator: &validator)
            } catch {
                out += onUndecodableFrame(error, from: peer, now: now)
            }
        }
        return out
    }

    /// A frame whose envelope or PUBLISH body did not decode (§3.1): counted, never fatal.
    mutating func onUndecodableFrame(_ error: GossipError, from peer: PeerID, now: UInt64) -> [GossipAction] {
        counters.framesReceived += 1
        guard peers[peer] != nil else {
            counters.drop(.unknownPeer)
            return []
        }
        guard !isGraylisted(peer, now: now) else {
            counters.drop(.graylisted)
            return []
        }
        let isPublish = error.kind == .malformedMessage
        if isPublish { counters.messagesReceived += 1 }
        guard isPublish ? peers[peer]!.publishBucket.take(now: now) : peers[peer]!.controlBucket.take(now: now) else {
            return rateLimited(peer)
        }
        switch error.kind {
        case .unsupportedVersion: counters.drop(.unsupportedVersion)
        case .unknownFrameType: counters.drop(.unknownFrameType)
        case .malformedMessage:
            // A PUBLISH whose body breaks §5/§7: an invalid message from this sender.
            counters.invalid += 1
            counters.drop(.invalidMessage)
            penalizeInvalid(peer, topic: nil)
            return [.misbehaviour(peer, error)]
        default:
            counters.drop(.malformedFrame)
            penalize(peer, behaviour: 1)
            return [.misbehaviour(peer, error)]
        }
        return []
    }

    /// One decoded frame from `peer`.
    public mutating func onFrame<V: GossipValidator>(_ frame: GossipFrame, from peer: PeerID, now: UInt64,
                                                     validator: inout V) -> [GossipAction] {
        counters.framesReceived += 1
        guard peers[peer] != nil else {
            counters.drop(.unknownPeer)
            return []
        }
        if case .publish = frame { counters.messagesReceived += 1 }
        guard !isGraylisted(peer, now: now) else {
            counters.drop(.graylisted)
            return []
        }
        switch frame {
        case .publish:
            guard peers[peer]!.publishBucket.take(now: now) else { return rateLimited(peer) }
        case .syncMessage:
            break // bounded by our request instead (§8.5, §11.1)
        default:
            guard peers[peer]!.controlBucket.take(now: now) else { return rateLimited(peer) }
        }
        var out: [GossipAction] = []
        switch frame {
        case .subscribe(let topic):
            if !peers[peer]!.topics.contains(topic), peers[peer]!.topics.count >= parameters.maxTopicsPerPeer {
                counters.drop(.topicLimit)
            } else if peers[peer]!.topics.insert(topic).inserted {
                // §9.4: what we published or forwarded before its SUBSCRIBE arrived is offered now.
                offerCached(topic, to: peer, now: now, &out)
            }
        case .unsubscribe(let topic):
            peers[peer]!.topics.remove(topic)
            leaveMesh(peer, topic)
            fanout[topic]?.remove(peer)
        case .publish(let message):
            out = onPublish(message, from: peer, now: now, validator: &validator)
        case .ihave(let topic, let ids):
            out = onIHave(topic, ids, from: peer, now: now)
        case .iwant(let ids):
            out = onIWant(ids, from: peer, now: now)
        case .graft(let topic):
            out = onGraft(topic, from: peer, now: now)
        case .prune(let topic, let backoffSeconds):
            leaveMesh(peer, topic)
            let until = now + min(backoffSeconds, GossipLimits.pruneBackoffSeconds.upperBound) * 1_000
            backoff[topic, default: [:]][peer] = max(backoff[topic]?[peer] ?? 0, until)
        case .announceSignatures(let announce):
            out = onAnnounceSignatures(announce, from: peer)
        case .syncRequest(let limit):
            onSyncRequest(limit: limit, from: peer, now: now, validator: validator, &out)
        case .syncMessage(let message):
            out = onSyncMessage(message, from: peer, now: now, validator: &validator)
        case .syncEnd:
            if peers[peer]!.syncIn != nil {
                peers[peer]!.syncIn = nil
                counters.syncCompleted += 1
            } else {
                counters.drop(.unsolicitedSync)
            }
        }
        return out
    }

    // MARK: graph sync (§8.5)

    private mutating func onSyncRequest<V: GossipValidator>(limit: UInt64, from peer: PeerID, now: UInt64, validator: V,
                                                            _ out: inout [GossipAction]) {
        if let last = syncServed[peer], last + parameters.syncMinIntervalMillis > now {
            counters.drop(.syncRateLimited)
            return
        }
        guard peers[peer]!.syncOut == nil, syncServed[peer] != nil || syncServed.count < parameters.maxSyncServedPeers else {
            counters.drop(.syncRateLimited)
            return
        }
        syncServed[peer] = now
        counters.syncRequestsServed += 1
        let topics = peers[peer]!.topics.intersection(subscriptions)
        let n = Int(min(limit, UInt64(max(0, parameters.syncMaxMessages))))
        let messages = topics.isEmpty || n == 0 ? [] : Array(validator.syncMessages(topics: topics, now: now, limit: n).prefix(n))
        peers[peer]!.syncOut = SyncAnswer(messages: messages)
        pumpSync(to: peer, &out)
    }

    /// Sends the next frames of our answer to `peer` while its send queue is at most half full
    /// (the other half stays free for live gossip), then SYNC_END.
    private mutating func pumpSync(to peer: PeerID, _ out: inout [GossipAction]) {
        guard var answer = peers[peer]?.syncOut else { return }
        let room = parameters.maxPendingFramesPerPeer / 2
        while answer.next < answer.messages.count, peers[peer]!.pending < room {
            send(.syncMessage(answer.messages[answer.next]), to: peer, &out)
            answer.next += 1
            counters.syncMessagesSent += 1
        }
        if answer.next == answer.messages.count, peers[peer]!.pending < parameters.maxPendingFramesPerPeer {
            send(.syncEnd(count: UInt64(answer.messages.count)), to: peer, &out)
            peers[peer]!.syncOut = nil
        } else {
            peers[peer]!.syncOut = answer
        }
    }

    /// A stored message answering our request: validated like a PUBLISH (signature, the graph's
    /// rules) except that its age is the graph's business, and never forwarded nor cached.
    private mutating func onSyncMessage<V: GossipValidator>(_ message: GossipMessage, from peer: PeerID, now: UInt64,
                                                            validator: inout V) -> [GossipAction] {
        guard var wait = peers[peer]!.syncIn, wait.remaining > 0, now <= wait.deadline else {
            // Not asked for, or beyond what we asked: the peer pushes unvalidated bulk at us.
            counters.drop(.unsolicitedSync)
            penalize(peer, behaviour: 1)
            return []
        }
        wait.remaining -= 1
        wait.deadline = now + parameters.syncIdleTimeoutMillis
        peers[peer]!.syncIn = wait
        counters.syncMessagesReceived += 1
        guard subscriptions.contains(message.topic) else {
            counters.drop(.notSubscribed)
            return []
        }
        if seen.contains(message.id) {
            counters.duplicates += 1
            fulfilPromise(message.id, by: peer)
            return []
        }
        guard message.timestamp <= now + parameters.maxClockSkewMillis else {
            return invalid(message, from: peer, .timestampOutOfWindow,
                           GossipError(.timestampOutOfWindow, "synced message timestamp \(message.timestamp) is in the future (now \(now))"))
        }
        do throws(GossipError) { try message.verifySignature() } catch {
            return invalid(message, from: peer, .invalidSignature, error)
        }
        counters.seenEvicted += seen.insert(message.id, now: now)
        fulfilPromise(message.id, by: peer)
        switch validator.validateSynced(message, now: now) {
        case .reject(let why):
            return invalid(message, from: peer, .rejected, GossipError(.rejected, why))
        case .ignore:
            counters.drop(.ignored)
            return []
        case .accept:
            counters.delivered += 1
            counters.syncDelivered += 1
            return [.deliver(message)]
        }
    }

    /// IHAVE of the topic's cached ids (every window) to a peer that just subscribed or joined our
    /// mesh, so a message published before it could receive it is not lost to the race (§9.4).
    private mutating func offerCached(_ topic: GossipTopic, to peer: PeerID, now: UInt64, _ out: inout [GossipAction]) {
        guard subscriptions.contains(topic), score(of: peer, now: now) >= parameters.score.gossipThreshold else { return }
        // Only messages well inside the acceptance window (§5.4): an older one would be invalid at the peer.
        let half = parameters.maxMessageAgeMillis / 2
        let ids = mcache.allIDs(topic, since: now > half ? now - half : 0)
        guard !ids.isEmpty else { return }
        if send(.ihave(topic, Array(ids.suffix(GossipLimits.maxIDsPerFrame))), to: peer, &out) { counters.ihaveSent += 1 }
    }

    /// §7.5: the sender must be one end of the channel and its own signature must verify; else
    /// the frame is an invalid message from the sender (P4 on the channels topic).
    private mutating func onAnnounceSignatures(_ announce: ChannelAnnounce, from peer: PeerID) -> [GossipAction] {
        // Only the sender's own slot is checked: the other end's may be the `Signature65.unsigned`
        // placeholder of a proposal.
        var problem: String?
        if announce.peerA != peer, announce.peerB != peer {
            problem = "the sender is not an end of the channel"
        } else {
            let own = announce.peerA == peer ? announce.signatureA : announce.signatureB
            do throws(MessageError) {
                let signer = try? EthereumAddress.recover(digest32: try announce.signingDigest(), signature65: own.bytes)
                if signer != peer { problem = "the sender's signature is not its own" }
            } catch { problem = error.detail }
        }
        if let problem {
            counters.invalid += 1
            counters.drop(.invalidSignature)
            penalizeInvalid(peer, topic: .channels)
            return [.misbehaviour(peer, GossipError(.invalidSignature, "ANNOUNCE_SIGNATURES: \(problem)"))]
        }
        return [.announceSignatures(announce, from: peer)]
    }

    /// Queues an ANNOUNCE_SIGNATURES frame to `peer` (§7.5) in its bounded send queue.
    public mutating func sendAnnounceSignatures(_ announce: ChannelAnnounce, to peer: PeerID) -> [GossipAction] {
        var out: [GossipAction] = []
        send(.announceSignatures(announce), to: peer, &out)
        return out
    }

    private mutating func rateLimited(_ peer: PeerID) -> [GossipAction] {
        counters.drop(.rateLimited)
        penalize(peer, behaviour: 1)
        return []
    }

    private mutating func onPublish<V: GossipValidator>(_ message: GossipMessage, from peer: PeerID, now: UInt64,
                                                        validator: inout V) -> [GossipAction] {
        let topic = message.topic
        guard subscriptions.contains(topic) else {
            counters.drop(.notSubscribed)
            return []
        }
        if seen.contains(message.id) {
            counters.duplicates += 1
            fulfilPromise(message.id, by: peer)
            if mesh[topic]?.contains(peer) == true { scores[peer, default: PeerScore()].topics[topic, default: .init()].meshDeliveries.add(1, cap: parameters.score.meshDeliveriesCap) }
            return []
        }
        // §5.4: a replay older than the window (or a message from the future) is invalid.
        guard message.timestamp + parameters.maxMessageAgeMillis >= now, message.timestamp <= now + parameters.maxClockSkewMillis else {
            return invalid(message, from: peer, .timestampOutOfWindow,
                           GossipError(.timestampOutOfWindow, "timestamp \(message.timestamp) outside the window at \(now)"))
        }
        // Signature before the seen-cache: a forged copy must not hide the real message.
        do throws(GossipError) { try message.verifySignature() } catch {
            return invalid(message, from: peer, .invalidSignature, error)
        }
        if !takeOriginToken(message.origin, now: now) {
            counters.drop(.originRateLimited)
            if message.origin == peer { penalize(peer, behaviour: 1) }
            return []
        }
        counters.seenEvicted += seen.insert(message.id, now: now)
        fulfilPromise(message.id, by: peer)
        switch validator.validate(message, now: now) {
        case .reject(let why):
            return invalid(message, from: peer, .rejected, GossipError(.rejected, why))
        case .ignore:
            counters.drop(.ignored)
            return []
        case .accept:
            break
        }
        if !mcache.put(message) { counters.mcacheFull += 1 }
        var stats = scores[peer, default: PeerScore()].topics[topic, default: .init()]
        stats.firstDeliveries.add(1, cap: parameters.score.firstDeliveriesCap)
        if mesh[topic]?.contains(peer) == true { stats.meshDeliveries.add(1, cap: parameters.score.meshDeliveriesCap) }
        scores[peer, default: PeerScore()].topics[topic] = stats
        counters.delivered += 1
        var out: [GossipAction] = [.deliver(message)]
        for target in (mesh[topic] ?? []).sorted() where target != peer && target != message.origin {
            if send(.publish(message), to: target, &out) { counters.forwarded += 1 }
        }
        return out
    }

    private mutating func invalid(_ message: GossipMessage, from peer: PeerID, _ reason: GossipDropReason,
                                  _ error: GossipError) -> [GossipAction] {
        counters.invalid += 1
        counters.drop(reason)
        penalizeInvalid(peer, topic: message.topic)
        return [.misbehaviour(peer, error)]
    }

    private mutating func onIHave(_ topic: GossipTopic, _ ids: [GossipMessageID], from peer: PeerID, now: UInt64) -> [GossipAction] {
        guard score(of: peer, now: now) >= parameters.score.gossipThreshold else {
            counters.drop(.belowGossipThreshold)
            return []
        }
        guard peers[peer]!.ihaveFrames < parameters.maxIHaveFramesPerHeartbeat else {
            counters.drop(.ihaveLimit)
            return []
        }
        peers[peer]!.ihaveFrames += 1
        guard subscriptions.contains(topic) else {
            counters.drop(.notSubscribed)
            return []
        }
        let room = parameters.maxIWantIDsPerHeartbeat - peers[peer]!.iwantAsked
        var wanted: [GossipMessageID] = []
        var asked = Set<GossipMessageID>()
        for id in ids where !seen.contains(id) && promises[id] == nil && !asked.contains(id) {
            guard wanted.count < room else { break }
            wanted.append(id)
            asked.insert(id)
        }
        guard !wanted.isEmpty else { return [] }
        peers[peer]!.iwantAsked += wanted.count
        for id in wanted where promiseCount < parameters.maxPromises {
            promises[id, default: [:]][peer] = now + parameters.iwantFollowupMillis
            promiseCount += 1
        }
        var out: [GossipAction] = []
        if send(.iwant(wanted), to: peer, &out) { counters.iwantSent += 1 }
        return out
    }

    private mutating func onIWant(_ ids: [GossipMessageID], from peer: PeerID, now: UInt64) -> [GossipAction] {
        guard score(of: peer, now: now) >= parameters.score.gossipThreshold else {
            counters.drop(.belowGossipThreshold)
            return []
        }
        var out: [GossipAction] = []
        for id in ids {
            switch mcache.fetch(id, for: peer, limit: parameters.gossipRetransmission) {
            case .message(let message): if send(.publish(message), to: peer, &out) { counters.forwarded += 1 }
            case .unknown: counters.iwantUnknown += 1
            case .limit: counters.drop(.iwantRetransmitLimit)
            }
        }
        return out
    }

    private mutating func onGraft(_ topic: GossipTopic, from peer: PeerID, now: UInt64) -> [GossipAction] {
        guard subscriptions.contains(topic) else {
            counters.drop(.notSubscribed)
            return []
        }
        guard mesh[topic]?.contains(peer) != true else { return [] }
        var out: [GossipAction] = []
        let backoffSeconds = max(1, parameters.pruneBackoffMillis / 1_000)
        if let until = backoff[topic]?[peer], until > now {
            // GRAFT during our backoff (GossipSub v1.1: behaviour penalty), answered with PRUNE.
            penalize(peer, behaviour: 1)
            send(.prune(topic, backoffSeconds: backoffSeconds), to: peer, &out)
            return out
        }
        guard score(of: peer, now: now) >= 0, (mesh[topic]?.count ?? 0) < parameters.dHigh else {
            backoff[topic, default: [:]][peer] = now + parameters.pruneBackoffMillis
            send(.prune(topic, backoffSeconds: backoffSeconds), to: peer, &out)
            return out
        }
        joinMesh(peer, topic, now: now)
        offerCached(topic, to: peer, now: now, &out)
        return out
    }

    // MARK: heartbeat

    /// Every `parameters.heartbeatMillis` (§9.2): decay scores, repair meshes, expire fanout,
    /// emit IHAVE gossip, age caches, check IWANT promises.
    public mutating func onHeartbeat<R: RandomNumberGenerator>(now: UInt64, rng: inout R) -> [GossipAction] {
        var out: [GossipAction] = []
        for peer in scores.keys.sorted() { scores[peer]!.decay(parameters.score) }
        checkPromises(now: now)
        for (peer, until) in retained.sorted(by: { $0.key < $1.key }) where until <= now || (scores[peer]?.isNeutral ?? true) {
            retained[peer] = nil
            scores[peer] = nil
        }
        for topic in backoff.keys.sorted() {
            backoff[topic] = backoff[topic]!.filter { $0.value > now }
            if backoff[topic]!.isEmpty { backoff[topic] = nil }
        }
        let peerScores = Dictionary(uniqueKeysWithValues: peers.keys.map { ($0, score(of: $0, now: now)) })
        for topic in subscriptions.sorted() { maintainMesh(topic, scores: peerScores, now: now, rng: &rng, &out) }
        maintainFanout(scores: peerScores, now: now)
        emitGossip(scores: peerScores, rng: &rng, &out)
        mcache.shift()
        seen.expire(now: now)
        for peer in peers.keys.sorted() {
            peers[peer]!.ihaveFrames = 0
            peers[peer]!.iwantAsked = 0
        }
        syncServed = syncServed.filter { $0.value + parameters.syncMinIntervalMillis > now }
        if origins.count >= parameters.maxTrackedOrigins {
            origins = origins.filter { !$0.value.isFull(now: now) }
        }
        return out
    }

    private mutating func maintainMesh<R: RandomNumberGenerator>(_ topic: GossipTopic, scores: [PeerID: Double], now: UInt64,
                                                                 rng: inout R, _ out: inout [GossipAction]) {
        let p = parameters
        let backoffSeconds = max(1, p.pruneBackoffMillis / 1_000)
        var members = mesh[topic] ?? []
        for peer in members.sorted() where (scores[peer] ?? 0) < 0 {
            members.remove(peer)
            prune(peer, topic, backoffSeconds: backoffSeconds, now: now, &out)
        }
        if members.count < p.dLow {
            let candidates = peers.keys.sorted().filter { !members.contains($0) && isGraftable($0, topic, now: now) && (scores[$0] ?? 0) >= 0 }
            for peer in candidates.shuffled(using: &rng).prefix(p.d - members.count) {
                members.insert(peer)
                joinMesh(peer, topic, now: now)
                send(.graft(topic), to: peer, &out)
                offerCached(topic, to: peer, now: now, &out)
            }
        }
        if members.count > p.dHigh {
            let byScore = members.sorted().shuffled(using: &rng).sorted { (scores[$0] ?? 0) > (scores[$1] ?? 0) }
            var keep = Set(byScore.prefix(p.dScore))
            keep.formUnion(byScore.dropFirst(p.dScore).shuffled(using: &rng).prefix(p.d - keep.count))
            for peer in members.sorted() where !keep.contains(peer) {
                members.remove(peer)
                prune(peer, topic, backoffSeconds: backoffSeconds, now: now, &out)
            }
        }
        mesh[topic] = members
    }

    private mutating func maintainFanout(scores: [PeerID: Double], now: UInt64) {
        for topic in fanout.keys.sorted() {
            guard let last = fanoutLastPublish[topic], last + parameters.fanoutTTLMillis > now else {
                fanout[topic] = nil
                fanoutLastPublish[topic] = nil
                continue
            }
            var members = fanout[topic]!.filter {
                peers[$0]?.topics.contains(topic) == true && (scores[$0] ?? 0) >= parameters.score.publishThreshold
            }
            if members.count < parameters.d {
                let more = peers.keys.sorted().filter {
                    !members.contains($0) && peers[$0]!.topics.contains(topic) && (scores[$0] ?? 0) >= parameters.score.publishThreshold
                }
                members.formUnion(more.prefix(parameters.d - members.count))
            }
            fanout[topic] = members
        }
    }

    private mutating func emitGossip<R: RandomNumberGenerator>(scores: [PeerID: Double], rng: inout R, _ out: inout [GossipAction]) {
        let topics = Set(mesh.keys).union(fanout.keys).sorted()
        for topic in topics {
            let ids = mcache.gossipIDs(topic)
            guard !ids.isEmpty else { continue }
            let exclude = (mesh[topic] ?? []).union(fanout[topic] ?? [])
            let candidates = peers.keys.sorted().filter {
                !exclude.contains($0) && peers[$0]!.topics.contains(topic) && (scores[$0] ?? 0) >= parameters.score.gossipThreshold
            }
            let n = max(parameters.dLazy, Int(parameters.gossipFactor * Double(candidates.count)))
            let advertised = Array(ids.count > GossipLimits.maxIDsPerFrame ? Array(ids.shuffled(using: &rng).prefix(GossipLimits.maxIDsPerFrame)) : ids)
            for peer in candidates.shuffled(using: &rng).prefix(n).sorted() {
                if send(.ihave(topic, advertised), to: peer, &out) { counters.ihaveSent += 1 }
            }
        }
    }

    private mutating func checkPromises(now: UInt64) {
        var broken = Set<PeerID>()
        for id in promises.keys.sorted() {
            for (peer, deadline) in promises[id]! where deadline <= now {
                broken.insert(peer)
                promises[id]![peer] = nil
                promiseCount -= 1
            }
            if promises[id]!.isEmpty { promises[id] = nil }
        }
        for peer in broken.sorted() {
            counters.brokenPromises += 1
            penalize(peer, behaviour: 1)
        }
    }

    // MARK: helpers

    /// Adds a send to `out` unless the peer's queue is full (counted). True when added.
    @discardableResult
    mutating func send(_ frame: GossipFrame, to peer: PeerID, _ out: inout [GossipAction]) -> Bool {
        guard peers[peer] != nil else {
            counters.drop(.unknownPeer)
            return false
        }
        guard peers[peer]!.pending < parameters.maxPendingFramesPerPeer else {
            counters.drop(.outboundQueueFull)
            return false
        }
        peers[peer]!.pending += 1
        counters.framesSent += 1
        out.append(.send(frame, to: peer))
        return true
    }

    private mutating func prune(_ peer: PeerID, _ topic: GossipTopic, backoffSeconds: UInt64, now: UInt64, _ out: inout [GossipAction]) {
        leaveMesh(peer, topic)
        backoff[topic, default: [:]][peer] = now + backoffSeconds * 1_000
        send(.prune(topic, backoffSeconds: backoffSeconds), to: peer, &out)
    }

    private mutating func joinMesh(_ peer: PeerID, _ topic: GossipTopic, now: UInt64) {
        mesh[topic, default: []].insert(peer)
        scores[peer, default: PeerScore()].topics[topic, default: .init()].meshSince = now
    }

    private mutating func leaveMesh(_ peer: PeerID, _ topic: GossipTopic) {
        guard mesh[topic]?.remove(peer) != nil else { return }
        scores[peer]?.topics[topic]?.meshSince = nil
    }

    private func isGraftable(_ peer: PeerID, _ topic: GossipTopic, now: UInt64) -> Bool {
        guard let p = peers[peer], p.topics.contains(topic) else { return false }
        if let until = backoff[topic]?[peer], until > now { return false }
        return true
    }

    private mutating func penalize(_ peer: PeerID, behaviour: Double) {
        scores[peer, default: PeerScore()].behaviourPenalty += behaviour
    }

    private mutating func penalizeInvalid(_ peer: PeerID, topic: GossipTopic?) {
        // An invalid message whose topic is unreadable counts on the channels topic's P4.
        scores[peer, default: PeerScore()].topics[topic ?? .channels, default: .init()].invalidDeliveries += 1
    }

    private mutating func fulfilPromise(_ id: GossipMessageID, by peer: PeerID) {
        guard let waiting = promises.removeValue(forKey: id) else { return }
        promiseCount -= waiting.count
    }

    private mutating func takeOriginToken(_ origin: PeerID, now: UInt64) -> Bool {
        if origins[origin] == nil {
            guard origins.count < parameters.maxTrackedOrigins else { return true } // untracked until the heartbeat frees room
            origins[origin] = TokenBucket(rate: parameters.originRatePerSecond, burst: parameters.originBurst, now: now)
        }
        return origins[origin]!.take(now: now)
    }

    private func isGraylisted(_ peer: PeerID, now: UInt64) -> Bool {
        score(of: peer, now: now) < parameters.score.graylistThreshold
    }

    // MARK: status

    /// The peer's score components (`gossip.status`).
    public func scoreComponents(of peer: PeerID, now: UInt64) -> PeerScore.Components {
        let colocated: Int
        if let key = peers[peer]?.colocationKey {
            colocated = peers.values.reduce(0) { $0 + ($1.colocationKey == key ? 1 : 0) }
        } else {
            colocated = 0
        }
        return (scores[peer] ?? PeerScore()).components(now: now, colocatedPeers: colocated, parameters.score)
    }

    public func score(of peer: PeerID, now: UInt64) -> Double {
        guard scores[peer] != nil || peers[peer]?.colocationKey != nil else { return 0 }
        return scoreComponents(of: peer, now: now).total
    }

    /// Connected peers, sorted.
    public var connectedPeers: [PeerID] { peers.keys.sorted() }
    /// Our mesh for `topic`, sorted.
    public func meshPeers(_ topic: GossipTopic) -> [PeerID] { (mesh[topic] ?? []).sorted() }
    /// The topics `peer` told us it subscribes to.
    public func topics(of peer: PeerID) -> Set<GossipTopic> { peers[peer]?.topics ?? [] }
    public var seenCount: Int { seen.count }
    public var cachedMessageCount: Int { mcache.count }
    public var pendingPromises: Int { promiseCount }
}

extension Double {
    fileprivate mutating func add(_ n: Double, cap: Double) { self = Swift.min(cap, self + n) }
}
