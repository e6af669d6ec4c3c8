import PaymeshMsgpack

/// Builds a message's `data` map in the canonical key order (the order of the calls).
/// Absent optional fields are omitted, never written as nil.
struct FieldWriter {
    private(set) var pairs: [MsgpackPair] = []

    init(capacity: Int) {
        pairs.reserveCapacity(capacity)
    }

    var value: MsgpackValue { .map(pairs) }

    mutating func uint(_ key: String, _ v: UInt64) { pairs.append(MsgpackPair(.string(key), .uint(v))) }
    mutating func uint(_ key: String, _ v: UInt64?) { if let v { uint(key, v) } }
    mutating func bool(_ key: String, _ v: Bool) { pairs.append(MsgpackPair(.string(key), .bool(v))) }
    mutating func string(_ key: String, _ v: String) { pairs.append(MsgpackPair(.string(key), .string(v))) }
    mutating func string(_ key: String, _ v: String?) { if let v { string(key, v) } }
    mutating func binary(_ key: String, _ v: [UInt8]) { pairs.append(MsgpackPair(.string(key), .binary(v))) }
    mutating func array(_ key: String, _ v: [MsgpackValue]) { pairs.append(MsgpackPair(.string(key), .array(v))) }
    mutating func fixed(_ key: String, _ v: some FixedBytes) { binary(key, v.bytes) }
    mutating func fixed(_ key: String, _ v: (some FixedBytes)?) { if let v { binary(key, v.bytes) } }
    mutating func amount(_ key: String, _ v: Amount) { string(key, v.description) }
    mutating func errorCode(_ key: String, _ v: PaymeshErrorCode) { uint(key, UInt64(v.rawValue)) }
    mutating func errorCode(_ key: String, _ v: PaymeshErrorCode?) { if let v { errorCode(key, v) } }

    mutating func asset(_ v: Asset) {
        string("asset", v.id)
        uint("decimals", UInt64(v.decimals))
    }
}
