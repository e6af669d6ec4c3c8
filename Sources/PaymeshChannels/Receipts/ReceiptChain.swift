public import PaymeshCrypto
public import PaymeshMessages

/// The payee's receipt chain head for one channel: issues the next receipt and advances.
public struct ReceiptChain: Sendable, Hashable {
    public private(set) var seq: UInt64
    public private(set) var head: [UInt8]

    /// A chain that continues after receipt `seq` whose hash is `head` (0 and zero hash: empty).
    public init(seq: UInt64 = 0, head: [UInt8] = Receipt.zeroHash) {
        self.seq = seq
        self.head = head
    }

    public mutating func append(channelID: ChannelID, nonce: UInt64, amount: UInt128, taskID: String?, usage: Usage?,
                                timestamp: UInt64, payeeKey: IdentityKey, domain: SigningDomain) throws(ChannelError) -> Receipt {
        let receipt = try Receipt.issue(channelID: channelID, seq: seq + 1, nonce: nonce, amount: amount, taskID: taskID,
                                        usage: usage, prevHash: head, timestamp: timestamp, payeeKey: payeeKey, domain: domain)
        seq += 1
        head = receipt.hash
        return receipt
    }
}
