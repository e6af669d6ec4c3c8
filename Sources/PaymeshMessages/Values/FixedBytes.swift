import PaymeshCrypto

/// A value that is exactly `byteCount` bytes on the wire (a msgpack bin(N)).
public protocol FixedBytes: Sendable, Hashable, CustomStringConvertible {
    static var byteCount: Int { get }
    var bytes: [UInt8] { get }
    /// Throws MALFORMED_MESSAGE unless `bytes.count == byteCount` (and any type-specific rule holds).
    init(_ bytes: [UInt8]) throws(MessageError)
}

extension FixedBytes {
    /// Parses hex (optional `0x`); throws on bad hex or wrong length.
    public init(hex: String) throws(MessageError) {
        guard let bytes = [UInt8](hex: hex) else { throw .malformed("\(Self.self): invalid hex") }
        try self.init(bytes)
    }

    public var description: String { "0x" + bytes.hexString }

    /// Hashes the bytes in one call. The synthesized conformance feeds an array to the hasher
    /// one element at a time, which showed in profiles of many-channel payment runs (ids are
    /// dictionary keys on every message).
    func hashBytes(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    static func checkedCount(_ bytes: [UInt8]) throws(MessageError) -> [UInt8] {
        guard bytes.count == byteCount else {
            throw .malformed("\(Self.self) must be \(byteCount) bytes, got \(bytes.count)")
        }
        return bytes
    }
}

/// A 32-byte channel identifier.
public struct ChannelID: FixedBytes {
    public static let byteCount = 32
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) throws(MessageError) { self.bytes = try Self.checkedCount(bytes) }
    public func hash(into hasher: inout Hasher) { hashBytes(into: &hasher) }
}

/// A 16-byte HTLC identifier, unique within a channel.
public struct HTLCID: FixedBytes {
    public static let byteCount = 16
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) throws(MessageError) { self.bytes = try Self.checkedCount(bytes) }
    public func hash(into hasher: inout Hasher) { hashBytes(into: &hasher) }
}

/// A 16-byte negotiation identifier chosen by the proposer.
public struct NegotiationID: FixedBytes {
    public static let byteCount = 16
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) throws(MessageError) { self.bytes = try Self.checkedCount(bytes) }
    public func hash(into hasher: inout Hasher) { hashBytes(into: &hasher) }
}

/// 32 bytes: a SHA-256 payment hash or its preimage.
public struct Hash32: FixedBytes {
    public static let byteCount = 32
    public let bytes: [UInt8]
    public init(_ bytes: [UInt8]) throws(MessageError) { self.bytes = try Self.checkedCount(bytes) }
    public func hash(into hasher: inout Hasher) { hashBytes(into: &hasher) }
}
