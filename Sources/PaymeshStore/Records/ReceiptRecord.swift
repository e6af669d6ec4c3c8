import PaymeshMessages

/// A payee-signed usage receipt, hash-chained per channel: `prevHash` is the previous receipt's
/// `hash` (nil for the first, `seq` 1). The store checks the sequence and the link, not the hash
/// or the signature (the channel engine computes and verifies those).
public struct ReceiptRecord: Sendable, Hashable {
    public var channel: ChannelID
    public var seq: UInt64
    public var hash: Hash32
    public var prevHash: Hash32?
    public var json: String
    public var signature: Signature65

    public init(channel: ChannelID, seq: UInt64, hash: Hash32, prevHash: Hash32?, json: String, signature: Signature65) {
        self.channel = channel
        self.seq = seq
        self.hash = hash
        self.prevHash = prevHash
        self.json = json
        self.signature = signature
    }
}
