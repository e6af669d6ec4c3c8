import NIOCore

/// A yamux stream identifier. 0 is the session; the dialer uses odd ids, the listener even.
public struct StreamID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
{
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public init(_ rawValue: UInt32) { self.rawValue = rawValue }
    public init(integerLiteral value: UInt32) { self.rawValue = value }
    public static let session = StreamID(0)
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "stream \(rawValue)" }
}

/// GoAway error code, carried in the length field (yamux spec, "Session termination").
public struct GoAwayCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let normal = GoAwayCode(rawValue: 0)
    public static let protocolError = GoAwayCode(rawValue: 1)
    public static let internalError = GoAwayCode(rawValue: 2)
    public var description: String {
        switch rawValue {
        case 0: return "normal"
        case 1: return "protocol error"
        case 2: return "internal error"
        default: return "code \(rawValue)"
        }
    }
}

/// One yamux frame: the 12-byte header and, for Data frames, the payload that follows it.
public struct YamuxFrame: Hashable, Sendable {
    public enum FrameType: UInt8, Hashable, Sendable {
        case data = 0, windowUpdate = 1, ping = 2, goAway = 3
    }

    public struct Flags: OptionSet, Hashable, Sendable {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }
        public static let syn = Flags(rawValue: 0x1)
        public static let ack = Flags(rawValue: 0x2)
        public static let fin = Flags(rawValue: 0x4)
        public static let rst = Flags(rawValue: 0x8)
        static let known: Flags = [.syn, .ack, .fin, .rst]
    }

    public static let headerLength = 12
    /// Only version of the header (yamux spec, "Version Field").
    public static let version: UInt8 = 0

    public var type: FrameType
    public var flags: Flags
    public var streamID: StreamID
    /// Data: payload length; WindowUpdate: window delta; Ping: opaque value; GoAway: code.
    public var length: UInt32
    /// Data payload (empty for every other type).
    public var payload: ByteBuffer

    public init(type: FrameType, flags: Flags, streamID: StreamID, length: UInt32, payload: ByteBuffer = ByteBuffer()) {
        self.type = type
        self.flags = flags
        self.streamID = streamID
        self.length = length
        self.payload = payload
    }

    public static func data(_ id: StreamID, flags: Flags = [], payload: ByteBuffer) -> YamuxFrame {
        YamuxFrame(type: .data, flags: flags, streamID: id, length: UInt32(payload.readableBytes), payload: payload)
    }
    public static func windowUpdate(_ id: StreamID, flags: Flags = [], delta: UInt32) -> YamuxFrame {
        YamuxFrame(type: .windowUpdate, flags: flags, streamID: id, length: delta)
    }
    public static func ping(value: UInt32, response: Bool) -> YamuxFrame {
        YamuxFrame(type: .ping, flags: response ? .ack : .syn, streamID: .session, length: value)
    }
    public static func goAway(_ code: GoAwayCode) -> YamuxFrame {
        YamuxFrame(type: .goAway, flags: [], streamID: .session, length: code.rawValue)
    }

    /// Appends header and payload to `buffer`.
    public func encode(into buffer: inout ByteBuffer) {
        Self.writeHeader(type: type, flags: flags, streamID: streamID, length: length, into: &buffer)
        if type == .data {
            precondition(Int(length) == payload.readableBytes, "Data length must equal payload size")
            var payload = payload
            buffer.writeBuffer(&payload)
        }
    }

    /// Appends one 12-byte header (big-endian) to `buffer`.
    @inlinable
    public static func writeHeader(type: FrameType, flags: Flags, streamID: StreamID, length: UInt32,
                                   into buffer: inout ByteBuffer) {
        // One 64-bit and one 32-bit store instead of five small writes.
        let high = UInt64(version) << 56 | UInt64(type.rawValue) << 48 | UInt64(flags.rawValue) << 32
            | UInt64(streamID.rawValue)
        buffer.writeMultipleIntegers(high, length)
    }

    /// Checks the rules that depend on the header alone (Specs/mux.md §Header validation).
    static func validate(type: FrameType, flags: Flags, streamID: StreamID, length: UInt32,
                         maxDataLength: UInt32) throws(MuxError) {
        if !flags.isSubset(of: Flags.known) {
            throw .invalidFlags("unknown flag bits 0x\(String(flags.rawValue, radix: 16))")
        }
        switch type {
        case .data, .windowUpdate:
            if streamID == .session { throw .streamFrameOnSession("\(type) on stream 0") }
            if flags.contains(.syn) && flags.contains(.ack) { throw .invalidFlags("SYN and ACK together") }
            if type == .data && length > maxDataLength {
                throw .frameTooLarge("\(length) > \(maxDataLength)")
            }
        case .ping:
            if streamID != .session { throw .sessionFrameOnStream("ping on \(streamID)") }
            if flags != .syn && flags != .ack { throw .invalidFlags("ping needs exactly SYN or ACK") }
        case .goAway:
            if streamID != .session { throw .sessionFrameOnStream("GoAway on \(streamID)") }
            if !flags.isEmpty { throw .invalidFlags("GoAway carries no flags") }
        }
    }
}
