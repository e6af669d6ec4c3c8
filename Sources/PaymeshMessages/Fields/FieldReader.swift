import PaymeshMsgpack

/// A message's `data` map: a known key that appears twice, has the wrong msgpack type or breaks
/// its limit is MALFORMED_MESSAGE naming the message type and the key.
struct MessageFieldErrors: FieldErrors {
    let type: MessageType
    func error(key: String, _ why: String) -> MessageError {
        .malformed("\(type.name).\(key): \(why)", refType: type.rawValue)
    }
}

/// Strict, typed reads from a message's `data` map (`FieldMap`, with MessageError).
typealias FieldReader = FieldMap<MessageFieldErrors>

extension FieldMap where Errors == MessageFieldErrors {
    init(_ pairs: [MsgpackPair], type: MessageType) {
        self.init(pairs, errors: MessageFieldErrors(type: type))
    }

    var type: MessageType { errors.type }

    func errorCode(_ key: String) throws(MessageError) -> PaymeshErrorCode {
        PaymeshErrorCode(rawValue: UInt16(try uint(key, in: PaymeshErrorCode.wireRange)))
    }

    func optionalErrorCode(_ key: String) throws(MessageError) -> PaymeshErrorCode? {
        guard let n = try optionalUInt(key, in: PaymeshErrorCode.wireRange) else { return nil }
        return PaymeshErrorCode(rawValue: UInt16(n))
    }
}
