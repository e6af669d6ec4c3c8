extension MessageError {
    /// 1101 INVALID_SIGNATURE: a signature that does not verify, or not by the party it must be from.
    @inline(never)
    static func invalidSignature(_ detail: String, type: MessageType) -> MessageError {
        MessageError(code: .invalidSignature, detail: detail, refType: type.rawValue)
    }

    /// 1502 for a local misuse of the signing API (e.g. a key that is not the signer's).
    @inline(never)
    static func wrongSigningKey(_ detail: String, type: MessageType) -> MessageError {
        MessageError(code: .internalError, detail: "\(type.name): \(detail)", refType: type.rawValue)
    }
}
