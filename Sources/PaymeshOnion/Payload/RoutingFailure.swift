public import PaymeshMessages

/// The failure message inside a failure onion (Specs/onion.md §5.2): code (uint16 big-endian,
/// an errors.md code 1000–1999) ‖ data (0…`maxDataLength` bytes, meaning fixed per code).
public struct RoutingFailure: Sendable, Hashable {
    public let code: PaymeshErrorCode
    public let data: [UInt8]

    /// Keeps the message within the 256-byte padded size of BOLT 4.
    public static let maxDataLength = 254

    public init(code: PaymeshErrorCode, data: [UInt8] = []) throws(OnionError) {
        guard PaymeshErrorCode.wireRange.contains(UInt64(code.rawValue)) else {
            throw .invalidFailure("code \(code.rawValue) outside 1000–1999")
        }
        guard data.count <= Self.maxDataLength else { throw .invalidFailure("data of \(data.count) bytes > \(Self.maxDataLength)") }
        self.code = code
        self.data = data
    }

    /// Parses a decrypted failure message.
    public init(message: [UInt8]) throws(OnionError) {
        guard message.count >= 2 else { throw .invalidFailure("message shorter than its code") }
        try self.init(code: PaymeshErrorCode(rawValue: UInt16(message[0]) << 8 | UInt16(message[1])), data: Array(message[2...]))
    }

    public var message: [UInt8] { [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xff)] + data }
}

/// A failure as the origin sees it: which hop (0 = first hop) failed, and why.
public struct AttributedFailure: Sendable, Hashable {
    public let hopIndex: Int
    public let failure: RoutingFailure

    public init(hopIndex: Int, failure: RoutingFailure) {
        self.hopIndex = hopIndex
        self.failure = failure
    }
}

extension FailurePacket {
    /// The failing hop's side: a failure onion for `failure`.
    public static func create(sharedSecret: SharedSecret, failure: RoutingFailure) throws(OnionError) -> [UInt8] {
        try create(sharedSecret: sharedSecret, message: failure.message)
    }

    /// The origin's side: the failing hop and its typed failure.
    public static func attribute(_ packet: [UInt8], sharedSecrets: [SharedSecret]) throws(OnionError) -> AttributedFailure {
        let (hop, message) = try decrypt(packet, sharedSecrets: sharedSecrets)
        return AttributedFailure(hopIndex: hop, failure: try RoutingFailure(message: message))
    }
}
