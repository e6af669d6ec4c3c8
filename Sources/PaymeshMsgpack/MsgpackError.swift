/// The one error type of PaymeshMsgpack: what went wrong and, when known, at which byte offset.
public struct MsgpackError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The input ended inside an object.
        case truncated
        /// A byte that starts no msgpack object (0xc1) or a structure msgpack-c rejected.
        case invalidFormat
        /// Bytes remain after the single top-level object.
        case trailingBytes
        /// Containers nested deeper than `MsgpackLimits.maxDepth`.
        case depthLimitExceeded
        /// More objects than `MsgpackLimits.maxElements`.
        case elementLimitExceeded
        /// A str longer than `MsgpackLimits.maxStringLength`.
        case stringTooLong
        /// A bin or ext longer than `MsgpackLimits.maxBinaryLength`.
        case binaryTooLong
        /// A str whose bytes are not valid UTF-8.
        case invalidUTF8
        /// msgpack-c could not allocate memory.
        case outOfMemory
        /// msgpack-c's packer reported a failure while encoding.
        case encodingFailed
    }

    public let kind: Kind
    public let offset: Int?

    init(_ kind: Kind, at offset: Int? = nil) {
        self.kind = kind
        self.offset = offset
    }

    public var description: String {
        if let offset { return "msgpack: \(kind) at byte \(offset)" }
        return "msgpack: \(kind)"
    }
}
