/// The one error type of PaymeshMessages: why a frame or message from a peer was refused,
/// carrying the code to answer with (Specs/errors.md).
public struct MessageError: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: PaymeshErrorCode
    /// Human-readable detail, safe to send back in ERROR.message (≤ 1024 bytes, no peer bytes echoed raw).
    public let detail: String
    /// The message type id of the offending message when it was readable.
    public let refType: UInt64?
    /// True when framing is lost (bad length prefix): answer, then close the stream.
    /// False for a bad envelope or message inside a well-formed frame: answer and carry on.
    public let closesStream: Bool

    public init(code: PaymeshErrorCode, detail: String, refType: UInt64? = nil, closesStream: Bool = false) {
        self.code = code
        self.detail = detail
        self.refType = refType
        self.closesStream = closesStream
    }

    public var description: String {
        var s = "\(code): \(detail)"
        if let refType { s += " (type \(refType))" }
        return s
    }

    /// The ERROR message a node sends in reply.
    public var reply: ErrorMessage {
        var text = detail
        while text.utf8.count > ErrorMessage.maxMessageBytes { text.removeLast() }
        return ErrorMessage(unchecked: code, message: text, refType: refType)
    }

    static func malformed(_ detail: String, refType: UInt64? = nil) -> MessageError {
        MessageError(code: .malformedMessage, detail: detail, refType: refType)
    }

    static func unsupportedType(_ id: UInt64) -> MessageError {
        MessageError(code: .unsupportedMessage, detail: "unsupported message type \(id)", refType: id)
    }

    static func unsupportedVersion(_ version: UInt64, refType: UInt64?) -> MessageError {
        MessageError(code: .unsupportedVersion, detail: "unsupported schema version \(version)", refType: refType)
    }

    static func badFrameLength(_ length: UInt32) -> MessageError {
        MessageError(code: .malformedMessage, detail: "frame length \(length) outside 1…\(PaymentFrame.maxPayloadLength)",
                     closesStream: true)
    }

    static func internalError(_ detail: String) -> MessageError {
        MessageError(code: .internalError, detail: detail)
    }

    func with(refType: UInt64) -> MessageError {
        MessageError(code: code, detail: detail, refType: self.refType ?? refType, closesStream: closesStream)
    }
}
