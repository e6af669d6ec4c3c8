import PaymeshMsgpack

/// 4 PAYMENT_ACK: the payee's answer to PAYMENT_OPEN / PAYMENT_UPDATE / PAYMENT_CLOSE (§4.4).
public struct PaymentAck: PaymeshMessage {
    public static let messageType = MessageType.paymentAck

    public enum Status: String, Sendable, Hashable {
        case accepted
        case rejected
    }

    public var channelID: ChannelID
    /// The nonce of the message acknowledged.
    public var nonce: UInt64
    public var status: Status
    /// Optional human-readable reason, ≤ 256 bytes.
    public var reason: String?
    /// Optional error code (1000–1999); only with `.rejected`.
    public var errorCode: PaymeshErrorCode?

    public init(channelID: ChannelID, nonce: UInt64, status: Status, reason: String? = nil,
                errorCode: PaymeshErrorCode? = nil) throws(MessageError) {
        if let reason {
            try require(MessageLimits.reasonBytes.containsLength(of: reason), Self.messageType, "reason over 256 bytes")
        }
        if let errorCode {
            try require(status == .rejected, Self.messageType, "error_code only with status rejected")
            try require(PaymeshErrorCode.wireRange.contains(UInt64(errorCode.rawValue)), Self.messageType,
                        "error_code outside 1000…1999")
        }
        self.channelID = channelID
        self.nonce = nonce
        self.status = status
        self.reason = reason
        self.errorCode = errorCode
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
            errorCode: try r.optionalErrorCode("error_code"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 5)
        w.fixed("channel_id", channelID)
        w.uint("nonce", nonce)
        w.string("status", status.rawValue)
        w.string("reason", reason)
        w.errorCode("error_code", errorCode)
        return w.value
    }
}
