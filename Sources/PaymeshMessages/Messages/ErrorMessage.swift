import PaymeshMsgpack

/// 15 ERROR: tells the peer why a message was refused (§4.13, codes in Specs/errors.md).
public struct ErrorMessage: PaymeshMessage {
    public static let messageType = MessageType.error
    public static let maxMessageBytes = MessageLimits.errorMessageBytes.upperBound

    /// 1000–1999; codes this node does not name are kept as they are.
    public var code: PaymeshErrorCode
    /// Human-readable text, ≤ 1024 bytes.
    public var message: String
    /// Type id of the message that caused the error, when known.
    public var refType: UInt64?

    public init(code: PaymeshErrorCode, message: String, refType: UInt64? = nil) throws(MessageError) {
        try require(PaymeshErrorCode.wireRange.contains(UInt64(code.rawValue)), Self.messageType, "code outside 1000…1999")
        try require(MessageLimits.errorMessageBytes.containsLength(of: message), Self.messageType, "message over 1024 bytes")
        self.init(unchecked: code, message: message, refType: refType)
    }

    /// For codes and texts this module builds itself (known in range).
    init(unchecked code: PaymeshErrorCode, message: String, refType: UInt64?) {
        self.code = code
        self.message = message
        self.refType = refType
    }

    public init(fields: [MsgpackPair]) throws(MessageError) {
        let r = FieldReader(fields, type: Self.messageType)
        try self.init(
            code: try r.errorCode("code"),
            message: try r.string("message", bytes: MessageLimits.errorMessageBytes),
            refType: try r.optionalUInt("ref_type"))
    }

    public func encode() -> MsgpackValue {
        var w = FieldWriter(capacity: 3)
        w.errorCode("code", code)
        w.string("message", message)
        w.uint("ref_type", refType)
        return w.value
    }
}
