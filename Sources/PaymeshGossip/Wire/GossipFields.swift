import PaymeshMessages
import PaymeshMsgpack

/// Strict, typed reads from a msgpack map (Specs/gossip.md §3): unknown keys are ignored, a known
/// key that appears twice, has the wrong type or breaks its limit is an error of `kind`, and a nil
/// value counts as absent.
struct GossipFields {
    let pairs: [MsgpackPair]
    let context: String
    let kind: GossipError.Kind

    init(_ value: MsgpackValue, _ context: String, kind: GossipError.Kind) throws(GossipError) {
        guard let pairs = value.mapValue else { throw GossipError(kind, "\(context): expected a map") }
        self.pairs = pairs
        self.context = context
        self.kind = kind
    }

    func fail(_ key: String, _ why: String) -> GossipError { GossipError(kind, "\(context).\(key): \(why)") }

    func optional(_ key: String) throws(GossipError) -> MsgpackValue? {
        var found: MsgpackValue?
        for pair in pairs {
            guard case .string(let k) = pair.key, k == key else { continue }
            guard found == nil else { throw fail(key, "duplicate key") }
            found = pair.value
        }
        if let found, found.isNil { return nil }
        return found
    }

    func required(_ key: String) throws(GossipError) -> MsgpackValue {
        guard let v = try optional(key) else { throw fail(key, "missing") }
        return v
    }

    func uint(_ key: String, in range: ClosedRange<UInt64> = 0...UInt64.max) throws(GossipError) -> UInt64 {
        guard let n = try required(key).uint64Value else { throw fail(key, "expected uint") }
        guard range.contains(n) else { throw fail(key, "\(n) outside \(range.lowerBound)…\(range.upperBound)") }
        return n
    }

    func bool(_ key: String) throws(GossipError) -> Bool {
        guard let b = try required(key).boolValue else { throw fail(key, "expected bool") }
        return b
    }

    func string(_ key: String, bytes range: ClosedRange<Int>) throws(GossipError) -> String {
        try stringValue(key, try required(key), range)
    }

    func optionalString(_ key: String, bytes range: ClosedRange<Int>) throws(GossipError) -> String? {
        guard let v = try optional(key) else { return nil }
        return try stringValue(key, v, range)
    }

    func stringValue(_ key: String, _ v: MsgpackValue, _ range: ClosedRange<Int>) throws(GossipError) -> String {
        guard let s = v.stringValue else { throw fail(key, "expected str") }
        guard range.contains(s.utf8.count) else {
            throw fail(key, "length \(s.utf8.count) outside \(range.lowerBound)…\(range.upperBound) bytes")
        }
        return s
    }

    func binary(_ key: String, bytes range: ClosedRange<Int>) throws(GossipError) -> [UInt8] {
        guard let b = try required(key).binaryValue else { throw fail(key, "expected bin") }
        guard range.contains(b.count) else {
            throw fail(key, "length \(b.count) outside \(range.lowerBound)…\(range.upperBound) bytes")
        }
        return b
    }

    func array(_ key: String, count range: ClosedRange<Int>) throws(GossipError) -> [MsgpackValue] {
        guard let a = try required(key).arrayValue else { throw fail(key, "expected array") }
        guard range.contains(a.count) else {
            throw fail(key, "\(a.count) elements outside \(range.lowerBound)…\(range.upperBound)")
        }
        return a
    }

    func map(_ key: String) throws(GossipError) -> MsgpackValue {
        let v = try required(key)
        guard v.mapValue != nil else { throw fail(key, "expected map") }
        return v
    }

    func fixed<T: FixedBytes>(_ key: String, as: T.Type = T.self) throws(GossipError) -> T {
        guard let b = try required(key).binaryValue else { throw fail(key, "expected bin(\(T.byteCount))") }
        do throws(MessageError) { return try T(b) } catch { throw fail(key, error.detail) }
    }

    func amount(_ key: String) throws(GossipError) -> Amount {
        guard let s = try required(key).stringValue else { throw fail(key, "amount must be a decimal str") }
        do throws(MessageError) { return try Amount(decimal: s) } catch { throw fail(key, error.detail) }
    }

    /// The sibling fields `asset` (str 1–32) and `decimals` (uint 0–36).
    func asset() throws(GossipError) -> Asset {
        let id = try string("asset", bytes: Asset.idBytes)
        let decimals = try uint("decimals", in: 0...UInt64(Asset.decimalsRange.upperBound))
        do throws(MessageError) { return try Asset(id: id, decimals: UInt8(decimals)) } catch { throw fail("asset", error.detail) }
    }
}

/// Builds a map in canonical key order (§3.3).
struct GossipFieldWriter {
    private(set) var pairs: [MsgpackPair] = []
    var value: MsgpackValue { .map(pairs) }

    mutating func put(_ key: String, _ value: MsgpackValue) { pairs.append(MsgpackPair(.string(key), value)) }
    mutating func uint(_ key: String, _ v: UInt64) { put(key, .uint(v)) }
    mutating func string(_ key: String, _ v: String) { put(key, .string(v)) }
    mutating func binary(_ key: String, _ v: [UInt8]) { put(key, .binary(v)) }
    mutating func amount(_ key: String, _ v: Amount) { put(key, .string(v.description)) }
    mutating func asset(_ v: Asset) {
        string("asset", v.id)
        uint("decimals", UInt64(v.decimals))
    }
}
