import PaymeshMsgpack

/// The msgpack envelope inside every payment frame (Specs/messages.md §3):
/// `{"v": 1, "type": <uint>, "data": <map>}`, unknown keys ignored.
public enum Envelope {
    /// The only schema version this implementation speaks.
    public static let schemaVersion: UInt64 = 1

    /// The canonical envelope: keys "v", "type", "data" in that order.
    public static func encode(_ message: Message) -> MsgpackValue {
        .map([
            MsgpackPair(.string("v"), .uint(schemaVersion)),
            MsgpackPair(.string("type"), .uint(message.type.rawValue)),
            MsgpackPair(.string("data"), message.encodeData()),
        ])
    }

    /// Decodes one envelope from a frame payload.
    public static func decode(_ payload: UnsafeRawBufferPointer, using decoder: MsgpackDecoder) throws(MessageError) -> Message {
        let value: MsgpackValue
        do throws(MsgpackError) {
            value = try decoder.decode(payload)
        } catch {
            throw .malformed("envelope is not valid msgpack: \(error.kind)")
        }
        return try decode(value)
    }

    public static func decode(_ payload: [UInt8], using decoder: MsgpackDecoder = MsgpackDecoder()) throws(MessageError) -> Message {
        let result: Result<Message, MessageError> = payload.withUnsafeBytes { raw in
            do throws(MessageError) { return .success(try decode(raw, using: decoder)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Checks, in this order: map → "v" present and uint → "type" present and uint →
    /// v == 1 (else UNSUPPORTED_VERSION) → known type (else UNSUPPORTED_MESSAGE) → "data" map → fields.
    public static func decode(_ value: MsgpackValue) throws(MessageError) -> Message {
        guard let pairs = value.mapValue else { throw .malformed("envelope is not a map") }
        var version: MsgpackValue?, typeValue: MsgpackValue?, data: MsgpackValue?
        for pair in pairs {
            guard case .string(let key) = pair.key else { continue }
            switch key {
            case "v":
                guard version == nil else { throw .malformed("envelope: duplicate key v") }
                version = pair.value
            case "type":
                guard typeValue == nil else { throw .malformed("envelope: duplicate key type") }
                typeValue = pair.value
            case "data":
                guard data == nil else { throw .malformed("envelope: duplicate key data") }
                data = pair.value
            default:
                continue
            }
        }
        guard let v = version?.uint64Value else { throw .malformed("envelope: v missing or not uint") }
        guard let typeID = typeValue?.uint64Value else { throw .malformed("envelope: type missing or not uint") }
        guard v == schemaVersion else { throw .unsupportedVersion(v, refType: typeID) }
        guard let type = MessageType(rawValue: typeID) else { throw .unsupportedType(typeID) }
        guard let fields = data?.mapValue else {
            throw .malformed("envelope: data missing or not a map", refType: typeID)
        }
        do throws(MessageError) {
            return try Message(type: type, fields: fields)
        } catch {
            throw error.with(refType: typeID)
        }
    }
}
