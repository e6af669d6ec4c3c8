/// A decoded or to-be-encoded MessagePack value.
///
/// Decoding always yields `.uint` for non-negative integers and `.int` only for negative ones
/// (msgpack-c's positive/negative split); the accessors accept both spellings.
/// `.float64` and `.extension` exist so that unknown fields can be decoded and skipped;
/// Paymesh never carries money or any protocol field in them.
public enum MsgpackValue: Sendable, Hashable {
    case `nil`
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case float64(Double)
    case string(String)
    case binary([UInt8])
    case array([MsgpackValue])
    /// Key/value pairs in wire order (duplicates are preserved; callers decide).
    case map([MsgpackPair])
    case `extension`(type: Int8, data: [UInt8])
}

/// One key/value entry of a msgpack map, kept in order.
public struct MsgpackPair: Sendable, Hashable {
    public var key: MsgpackValue
    public var value: MsgpackValue

    public init(_ key: MsgpackValue, _ value: MsgpackValue) {
        self.key = key
        self.value = value
    }
}

extension MsgpackValue {
    /// The value as a non-negative integer, whichever integer encoding carried it.
    public var uint64Value: UInt64? {
        switch self {
        case .uint(let v): return v
        case .int(let v) where v >= 0: return UInt64(v)
        default: return nil
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var binaryValue: [UInt8]? {
        if case .binary(let b) = self { return b }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var mapValue: [MsgpackPair]? {
        if case .map(let m) = self { return m }
        return nil
    }

    public var arrayValue: [MsgpackValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var isNil: Bool {
        if case .nil = self { return true }
        return false
    }
}
