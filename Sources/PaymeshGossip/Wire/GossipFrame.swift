public import PaymeshMessages
import PaymeshMsgpack

/// One frame of `/paymesh/gossip/1` (Specs/gossip.md §3–§4): the control messages of GossipSub
/// v1.1 and PUBLISH, each in its own length-prefixed msgpack envelope `{v, type, data}`.
public enum GossipFrame: Sendable, Hashable {
    case subscribe(GossipTopic)
    case unsubscribe(GossipTopic)
    case publish(GossipMessage)
    case ihave(GossipTopic, [GossipMessageID])
    case iwant([GossipMessageID])
    case graft(GossipTopic)
    /// `backoffSeconds`: the sender will not accept a GRAFT for the topic from the receiver before it passes.
    case prune(GossipTopic, backoffSeconds: UInt64)
    /// Not gossiped: a CHANNEL_ANNOUNCE exchanged between the channel's two ends to collect both
    /// signatures (§7.5). The sender's own signature is valid; the other may be a placeholder.
    case announceSignatures(ChannelAnnounce)
    /// Graph sync (§8.5): ask the peer for the signed messages its graph holds, at most `limit`.
    case syncRequest(limit: UInt64)
    /// Graph sync: one stored signed message answering our SYNC_REQUEST (never forwarded).
    case syncMessage(GossipMessage)
    /// Graph sync: the answer is complete; `count` SYNC_MESSAGE frames were sent.
    case syncEnd(count: UInt64)

    /// Envelope schema version (§3).
    public static let version: UInt64 = 1
    static let headerBytes = 4

    /// The frame type ids of §4.
    public enum FrameType: UInt64, Sendable, CaseIterable {
        case subscribe = 1, unsubscribe = 2, publish = 3, ihave = 4, iwant = 5, graft = 6, prune = 7
        case announceSignatures = 8
        case syncRequest = 9, syncMessage = 10, syncEnd = 11
    }

    public var type: FrameType {
        switch self {
        case .subscribe: .subscribe
        case .unsubscribe: .unsubscribe
        case .publish: .publish
        case .ihave: .ihave
        case .iwant: .iwant
        case .graft: .graft
        case .prune: .prune
        case .announceSignatures: .announceSignatures
        case .syncRequest: .syncRequest
        case .syncMessage: .syncMessage
        case .syncEnd: .syncEnd
        }
    }

    // MARK: encoding

    /// The canonical `data` map (§3.3, §4).
    func data() -> MsgpackValue {
        var w = GossipFieldWriter()
        switch self {
        case .subscribe(let topic), .unsubscribe(let topic), .graft(let topic):
            w.string("topic", topic.name)
        case .publish(let message), .syncMessage(let message):
            w.binary("body", message.body)
            w.binary("signature", message.signature.bytes)
        case .ihave(let topic, let ids):
            w.string("topic", topic.name)
            w.put("ids", .array(ids.map { .binary($0.bytes) }))
        case .iwant(let ids):
            w.put("ids", .array(ids.map { .binary($0.bytes) }))
        case .prune(let topic, let backoff):
            w.string("topic", topic.name)
            w.uint("backoff", backoff)
        case .announceSignatures(let announce):
            w.put("announce", announce.encode())
        case .syncRequest(let limit):
            w.uint("limit", limit)
        case .syncEnd(let count):
            w.uint("count", count)
        }
        return w.value
    }

    /// The msgpack envelope, without the length prefix.
    public func payload() -> [UInt8] {
        let envelope = MsgpackValue.map([
            MsgpackPair(.string("v"), .uint(Self.version)),
            MsgpackPair(.string("type"), .uint(type.rawValue)),
            MsgpackPair(.string("data"), data()),
        ])
        do { return try MsgpackEncoder.encode(envelope) } catch {
            preconditionFailure("a gossip frame always encodes: \(error)")
        }
    }

    /// Length prefix ‖ envelope: the bytes to write on the stream.
    public func encoded() -> [UInt8] {
        let payload = payload()
        precondition(payload.count <= GossipLimits.maxFrameBytes, "gossip frame over the limit")
        let n = UInt32(payload.count)
        return [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
            + payload
    }

    // MARK: decoding

    static let limits = MsgpackLimits(maxDepth: GossipLimits.maxDepth, maxElements: GossipLimits.maxElements,
                                      maxStringLength: GossipLimits.maxFrameBytes, maxBinaryLength: GossipLimits.maxFrameBytes)

    /// Decodes one envelope (the bytes after the length prefix), checking §3.1 in order.
    public init(payload: [UInt8]) throws(GossipError) {
        let value: MsgpackValue
        do { value = try MsgpackDecoder.decode(payload, limits: Self.limits) } catch {
            throw GossipError.frame("invalid msgpack: \(error)")
        }
        let envelope = try GossipFields(value, "envelope", kind: .malformedFrame)
        let version = try envelope.uint("v")
        let typeID = try envelope.uint("type")
        guard version == Self.version else { throw GossipError(.unsupportedVersion, "unsupported gossip version \(version)") }
        guard let type = FrameType(rawValue: typeID) else { throw GossipError(.unknownFrameType, "unknown frame type \(typeID)") }
        let f = try GossipFields(try envelope.map("data"), "data", kind: .malformedFrame)
        switch type {
        case .subscribe: self = .subscribe(try Self.topic(f))
        case .unsubscribe: self = .unsubscribe(try Self.topic(f))
        case .graft: self = .graft(try Self.topic(f))
        case .prune: self = .prune(try Self.topic(f), backoffSeconds: try f.uint("backoff", in: GossipLimits.pruneBackoffSeconds))
        case .ihave: self = .ihave(try Self.topic(f), try Self.ids(f))
        case .iwant: self = .iwant(try Self.ids(f))
        case .publish, .syncMessage:
            let body = try f.binary("body", bytes: 1...GossipLimits.maxBodyBytes)
            let signature: Signature65 = try f.fixed("signature")
            // A body that breaks §5 is the origin's fault but reaches us through this frame: the
            // router counts it as an invalid message from the sender (not a framing error).
            let message = try GossipMessage(body: body, signature: signature)
            self = type == .publish ? .publish(message) : .syncMessage(message)
        case .syncRequest: self = .syncRequest(limit: try f.uint("limit", in: GossipLimits.syncLimit))
        case .syncEnd: self = .syncEnd(count: try f.uint("count", in: 0...GossipLimits.syncLimit.upperBound))
        case .announceSignatures:
            guard let fields = try f.map("announce").mapValue else { throw f.fail("announce", "expected a map") }
            do throws(MessageError) { self = .announceSignatures(try ChannelAnnounce(fields: fields)) } catch {
                throw f.fail("announce", error.detail)
            }
        }
    }

    private static func topic(_ f: GossipFields) throws(GossipError) -> GossipTopic {
        let name = try f.string("topic", bytes: GossipLimits.topicBytes)
        return try GossipTopic(name)
    }

    private static func ids(_ f: GossipFields) throws(GossipError) -> [GossipMessageID] {
        var ids: [GossipMessageID] = []
        for v in try f.array("ids", count: 1...GossipLimits.maxIDsPerFrame) {
            guard let b = v.binaryValue, b.count == GossipMessageID.byteCount else { throw f.fail("ids", "expected bin(32)") }
            ids.append(GossipMessageID(unchecked: b))
        }
        return ids
    }
}
