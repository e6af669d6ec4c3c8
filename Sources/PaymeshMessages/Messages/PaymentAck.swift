import PaymeshMsgpack

/// 4 PAYMENT_ACK: the payee's answer to PAYMENT_OPEN / PAYMENT_UPDATE / PAYMENT_CLOSE (§4.4).
///
/// On a `/paymesh/payments/2` stream an accepted ack may also carry `acks`: further accepted
/// acknowledgements of other channels (or of the same channel), applied in order after the first
/// (§4.4.1). `acknowledgements` lists them all as plain acks; `coalesced(_:)` (PaymentAck+Coalescing)
/// builds them.
public struct PaymentAck: PaymeshMessage {
    public static let messageType = MessageType.paymentAck

    public enum Status: String, Sendable, Hashable {
        case accepted
        case rejected
    }

    /// One more accepted acknowledgement carried in `acks` (§4.4.1).
    public struct Entry: Sendable, Hashable {
        public var channelID: ChannelID
        public var nonce: UInt64

        public init(channelID: ChannelID, nonce: UInt64) {
            self.channelID = channelID
            self.nonce = nonce
        }
    }

    public var channelID: ChannelID
    /// The nonce of the message acknowledged.
    public var nonce: UInt64
    public var status: Status
    /// Optional human-readable reason, ≤ 256 bytes.
    public var reason: String?
    /// Optional error code (1000–1999); only with `.rejected`.
    public var errorCode: PaymeshErrorCode?
    /// Further accepted acknowledgements (`/paymesh/payments/2` only): empty, or 1…`MessageLimits.ackEntries`
    /// entries; only with `.accepted`.
    public var acks: [Entry]

    public init(channelID: ChannelID, nonce: UInt64, status: Status, reason: String? = nil,
                errorCode: PaymeshErrorCode? = nil, acks: [Entry] = []) throws(MessageError) {
        if let reason {
            try require(MessageLimits.reasonBytes.containsLength(of: reason), Self.messageType, "reason over 256 bytes")
        }
        if let errorCode {
            try require(status == .rejected, Self.messageType, "error_code only with status rejected")
            try require(PaymeshErrorCode.wireRange.contains(UInt64(errorCode.rawValue)), Self.messageType,
                        "error_code outside 1000…1999")
        }
        if !acks.isEmpty {
            try require(status == .accepted, Self.messageType, "acks only with status accepted")
            try require(acks.count <= MessageLimits.ackEntries, Self.messageType,
                        "acks holds \(acks.count) entries, at most \(MessageLimits.ackEntries)")
        }
        self.channelID = channelID
        self.nonce = nonce
        self.status = status
        self.reason = reason
        self.errorCode = errorCode
        self.acks = acks
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        let statusText = try r.string("status", bytes: 1...16)
        guard let status = Status(rawValue: statusText) else {
            throw r.fail("status", "must be \"accepted\" or \"rejected\"")
        }
        try self.init(
            channelID: try r.fixed("channel_id"),
            nonce: try r.uint("nonce"),
            status: status,
            reason: try r.optionalString("reason", bytes: MessageLimits.reasonBytes),
            errorCode: try r.optionalErrorCode("error_code"),
            acks: try Self.entries(r))
    }

    /// `acks`: an array of 1…`ackEntries` arrays `[channel_id bin(32), nonce uint]`.
    private static func entries(_ r: FieldReader) throws(MessageError) -> [Entry] {
        guard let value = try r.optional("acks") else { return [] }
        guard let items = value.arrayValue else { throw r.fail("acks", "expected array") }
        guard (1...MessageLimits.ackEntries).contains(items.count) else {
            throw r.fail("acks", "\(items.count) entries outside 1…\(MessageLimits.ackEntries)")
        }
        var entries: [Entry] = []
        entries.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard let pair = item.arrayValue, pair.count == 2, let id = pair[0].binaryValue, let nonce = pair[1].uint64Value else {
                throw r.fail("acks", "entry \(i) is not [bin(32), uint]")
            }
            do throws(MessageError) {
                entries.append(Entry(channelID: try ChannelID(id), nonce: nonce))
            } catch {
                throw r.fail("acks", "entry \(i): \(error.detail)")
            }
        }
        return entries
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 6)
        w.fixed("channel_id", channelID)
        w.uint("nonce", nonce)
        w.string("status", status.rawValue)
        w.string("reason", reason)
        w.errorCode("error_code", errorCode)
        if !acks.isEmpty {
            w.array("acks", acks.map { .array([.binary($0.channelID.bytes), .uint($0.nonce)]) })
        }
        return w.value
    }
}
