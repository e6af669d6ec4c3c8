public import PaymeshMessages
import PaymeshMsgpack

/// What a gossip message carries (Specs/gossip.md §7).
public enum GossipPayload: Sendable, Hashable {
    /// CHANNEL_ANNOUNCE (messages.md §4.8), signed by both ends; published by either end.
    case channelAnnounce(ChannelAnnounce)
    /// One end's forwarding terms; signed (through the envelope) by that end.
    case channelUpdate(ChannelUpdate)
    case node(NodeAnnouncement)
    case service(ServiceAnnouncement)

    /// Payload kind ids (§7).
    public enum Kind: UInt64, Sendable, CaseIterable {
        case channelAnnounce = 1, channelUpdate = 2, node = 3, service = 4

        /// The one topic each kind travels on (§6).
        public var topic: GossipTopic {
            switch self {
            case .channelAnnounce, .channelUpdate: .channels
            case .node: .nodes
            case .service: .services
            }
        }
    }

    public var kind: Kind {
        switch self {
        case .channelAnnounce: .channelAnnounce
        case .channelUpdate: .channelUpdate
        case .node: .node
        case .service: .service
        }
    }

    init(kind: Kind, data: MsgpackValue, timestamp: UInt64) throws(GossipError) {
        switch kind {
        case .channelAnnounce:
            guard let fields = data.mapValue else { throw GossipError.message("payload: expected a map") }
            do throws(MessageError) { self = .channelAnnounce(try ChannelAnnounce(fields: fields)) } catch {
                throw GossipError.message("CHANNEL_ANNOUNCE: \(error.detail)")
            }
        case .channelUpdate: self = .channelUpdate(try ChannelUpdate(data))
        case .node: self = .node(try NodeAnnouncement(data))
        case .service: self = .service(try ServiceAnnouncement(data, timestamp: timestamp))
        }
    }

    func encode() -> MsgpackValue {
        switch self {
        case .channelAnnounce(let a): a.encode()
        case .channelUpdate(let u): u.encode()
        case .node(let n): n.encode()
        case .service(let s): s.encode()
        }
    }
}
