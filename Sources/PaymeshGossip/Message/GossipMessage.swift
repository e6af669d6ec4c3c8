public import PaymeshCrypto
public import PaymeshMessages
import PaymeshMsgpack

/// A signed gossip message (Specs/gossip.md §5): the exact body bytes the origin signed, its
/// signature, and the fields parsed from the body. `init(body:signature:)` checks the shape and
/// the payload's own rules but not the signature; `verifySignature()` does (the router calls it
/// before anything is forwarded).
public struct GossipMessage: Sendable, Hashable {
    /// The signed bytes: a canonical msgpack map `{v, topic, origin, timestamp, kind, payload}` (§5.1).
    public let body: [UInt8]
    public let signature: Signature65
    /// keccak256(body) (§5.3).
    public let id: GossipMessageID
    public let topic: GossipTopic
    /// The identity address of the node that made and signed the message.
    public let origin: EthereumAddress
    /// Milliseconds since the Unix epoch, set by the origin (§5.4).
    public let timestamp: UInt64
    public let payload: GossipPayload

    /// Body schema version (§5.1).
    public static let version: UInt64 = 1
    /// Prepended to the body before EIP-191 personal-message hashing (§5.2), so that a gossip
    /// signature can never be mistaken for any other Paymesh signature.
    public static let signingTag: [UInt8] = Array("paymesh-gossip-1:".utf8)
    static let bodyLimits = MsgpackLimits(maxDepth: GossipLimits.maxDepth, maxElements: GossipLimits.maxElements,
                                          maxStringLength: GossipLimits.maxBodyBytes, maxBinaryLength: GossipLimits.maxBodyBytes)

    /// Parses a received body (§5.1). Throws `.malformedMessage`.
    public init(body: [UInt8], signature: Signature65) throws(GossipError) {
        guard (1...GossipLimits.maxBodyBytes).contains(body.count) else { throw GossipError.message("body length \(body.count)") }
        let value: MsgpackValue
        do { value = try MsgpackDecoder.decode(body, limits: Self.bodyLimits) } catch {
            throw GossipError.message("body is not valid msgpack: \(error)")
        }
        let f = try GossipFields(value, "body", kind: .malformedMessage)
        let version = try f.uint("v")
        guard version == Self.version else { throw GossipError.message("body version \(version) is not 1") }
        let topic: GossipTopic
        do { topic = try GossipTopic(try f.string("topic", bytes: GossipLimits.topicBytes)) } catch {
            throw GossipError.message("body.topic: \(error.detail)")
        }
        let origin: EthereumAddress = try f.fixed("origin")
        let timestamp = try f.uint("timestamp")
        let kind = try f.uint("kind")
        guard let payloadKind = GossipPayload.Kind(rawValue: kind) else { throw GossipError.message("unknown payload kind \(kind)") }
        guard payloadKind.topic == topic else { throw GossipError.message("payload kind \(kind) is not carried on \(topic)") }
        self.body = body
        self.signature = signature
        self.id = GossipMessageID(unchecked: Keccak256.hash(body))
        self.topic = topic
        self.origin = origin
        self.timestamp = timestamp
        self.payload = try GossipPayload(kind: payloadKind, data: try f.map("payload"), timestamp: timestamp)
    }

    /// Makes and signs a message as `key`'s node (its address is the origin).
    public static func sign(_ payload: GossipPayload, timestamp: UInt64, with key: IdentityKey) throws(GossipError) -> GossipMessage {
        let body = encodeBody(payload, origin: key.address, timestamp: timestamp)
        guard body.count <= GossipLimits.maxBodyBytes else { throw GossipError.message("body over \(GossipLimits.maxBodyBytes) bytes") }
        let raw: [UInt8]
        do { raw = try key.personalSign(message: signingTag + body) } catch { throw GossipError(.signingFailed, "\(error)") }
        let signature: Signature65
        do throws(MessageError) { signature = try Signature65(raw) } catch { throw GossipError(.signingFailed, error.detail) }
        return try GossipMessage(body: body, signature: signature)
    }

    /// The canonical body (§5.1).
    public static func encodeBody(_ payload: GossipPayload, origin: EthereumAddress, timestamp: UInt64) -> [UInt8] {
        var w = GossipFieldWriter()
        w.uint("v", version)
        w.string("topic", payload.kind.topic.name)
        w.binary("origin", origin.rawRepresentation)
        w.uint("timestamp", timestamp)
        w.uint("kind", payload.kind.rawValue)
        w.put("payload", payload.encode())
        do { return try MsgpackEncoder.encode(w.value) } catch { preconditionFailure("a gossip body always encodes: \(error)") }
    }

    /// The 32-byte digest the origin signs: EIP-191 personalHash(signingTag ‖ body) (§5.2).
    public var signingDigest: [UInt8] { EIP191.personalMessageHash(Self.signingTag + body) }

    /// Throws `.invalidSignature` unless the signature recovers to `origin`, and, for a
    /// CHANNEL_ANNOUNCE, unless both ends signed it and the origin is one of them (§7.1).
    public func verifySignature() throws(GossipError) {
        let signer: EthereumAddress
        do { signer = try EthereumAddress.recover(digest32: signingDigest, signature65: signature.bytes) } catch {
            throw GossipError(.invalidSignature, "signature recovers no key")
        }
        guard signer == origin else { throw GossipError(.invalidSignature, "signature is not by the origin") }
        if case .channelAnnounce(let announce) = payload {
            do throws(MessageError) { try announce.verify() } catch {
                throw GossipError(.invalidSignature, "CHANNEL_ANNOUNCE: \(error.detail)")
            }
        }
    }
}
