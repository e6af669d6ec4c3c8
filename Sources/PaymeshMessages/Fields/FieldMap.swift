public import PaymeshMsgpack

/// What a `FieldMap`'s failures become: each protocol module keeps its own error type (messages:
/// `MessageError`, gossip: `GossipError`) and says how a field's failure reads.
public protocol FieldErrors {
    associatedtype Failure: Error
    func error(key: String, _ why: String) -> Failure
}

/// Strict, typed reads from a msgpack map — the one field reader of every wire format.
///
/// Unknown keys (including non-str keys) are ignored. A known key that appears twice, has the
/// wrong msgpack type, or breaks its limit is an error (`Errors.Failure`). A msgpack nil counts as
/// absent.
public struct FieldMap<Errors: FieldErrors> {
    public let pairs: [MsgpackPair]
    public let errors: Errors

    public init(_ pairs: [MsgpackPair], errors: Errors) {
        self.pairs = pairs
        self.errors = errors
    }

    public func fail(_ key: String, _ why: String) -> Errors.Failure { errors.error(key: key, why) }

    /// The value under `key`, or nil when absent or nil.
    public func optional(_ key: String) throws(Errors.Failure) -> MsgpackValue? {
        var found: MsgpackValue?
        for pair in pairs {
            guard case .string(let k) = pair.key, k == key else { continue }
            guard found == nil else { throw fail(key, "duplicate key") }
            found = pair.value
        }
        if let found, found.isNil { return nil }
        return found
    }

    public func required(_ key: String) throws(Errors.Failure) -> MsgpackValue {
        guard let v = try optional(key) else { throw fail(key, "missing") }
        return v
    }

    // MARK: integers and booleans

    public func uint(_ key: String, in range: ClosedRange<UInt64> = 0...UInt64.max) throws(Errors.Failure) -> UInt64 {
        try uintValue(key, try required(key), range)
    }

    public func optionalUInt(_ key: String, in range: ClosedRange<UInt64> = 0...UInt64.max) throws(Errors.Failure) -> UInt64? {
        guard let v = try optional(key) else { return nil }
        return try uintValue(key, v, range)
    }

    func uintValue(_ key: String, _ v: MsgpackValue, _ range: ClosedRange<UInt64>) throws(Errors.Failure) -> UInt64 {
        guard let n = v.uint64Value else { throw fail(key, "expected uint") }
        guard range.contains(n) else { throw fail(key, "\(n) outside \(range.lowerBound)…\(range.upperBound)") }
        return n
    }

    public func bool(_ key: String) throws(Errors.Failure) -> Bool {
        guard let b = try required(key).boolValue else { throw fail(key, "expected bool") }
        return b
    }

    // MARK: strings

    public func string(_ key: String, bytes range: ClosedRange<Int>) throws(Errors.Failure) -> String {
        try stringValue(key, try required(key), range)
    }

    public func optionalString(_ key: String, bytes range: ClosedRange<Int>) throws(Errors.Failure) -> String? {
        guard let v = try optional(key) else { return nil }
        return try stringValue(key, v, range)
    }

    /// `v` (the value under `key`, or an element of its array) as a str of `range` bytes.
    public func stringValue(_ key: String, _ v: MsgpackValue, _ range: ClosedRange<Int>) throws(Errors.Failure) -> String {
        guard let s = v.stringValue else { throw fail(key, "expected str") }
        guard range.contains(s.utf8.count) else {
            throw fail(key, "length \(s.utf8.count) outside \(range.lowerBound)…\(range.upperBound) bytes")
        }
        return s
    }

    // MARK: binaries, arrays, maps

    public func binary(_ key: String, bytes range: ClosedRange<Int>) throws(Errors.Failure) -> [UInt8] {
        guard let b = try required(key).binaryValue else { throw fail(key, "expected bin") }
        guard range.contains(b.count) else {
            throw fail(key, "length \(b.count) outside \(range.lowerBound)…\(range.upperBound) bytes")
        }
        return b
    }

    public func fixed<T: FixedBytes>(_ key: String, as: T.Type = T.self) throws(Errors.Failure) -> T {
        try fixedValue(key, try required(key))
    }

    public func optionalFixed<T: FixedBytes>(_ key: String, as: T.Type = T.self) throws(Errors.Failure) -> T? {
        guard let v = try optional(key) else { return nil }
        return try fixedValue(key, v)
    }

    func fixedValue<T: FixedBytes>(_ key: String, _ v: MsgpackValue) throws(Errors.Failure) -> T {
        guard let b = v.binaryValue else { throw fail(key, "expected bin(\(T.byteCount))") }
        do throws(MessageError) {
            return try T(b)
        } catch {
            throw fail(key, error.detail)
        }
    }

    public func array(_ key: String, count range: ClosedRange<Int>) throws(Errors.Failure) -> [MsgpackValue] {
        guard let a = try required(key).arrayValue else { throw fail(key, "expected array") }
        guard range.contains(a.count) else {
            throw fail(key, "\(a.count) elements outside \(range.lowerBound)…\(range.upperBound)")
        }
        return a
    }

    public func map(_ key: String) throws(Errors.Failure) -> MsgpackValue {
        let v = try required(key)
        guard v.mapValue != nil else { throw fail(key, "expected map") }
        return v
    }

    // MARK: money

    public func amount(_ key: String) throws(Errors.Failure) -> Amount {
        guard let s = try required(key).stringValue else { throw fail(key, "amount must be a decimal str") }
        do throws(MessageError) {
            return try Amount(decimal: s)
        } catch {
            throw fail(key, error.detail)
        }
    }

    /// Reads the sibling fields `asset` (str 1–32 bytes) and `decimals` (uint 0–36).
    public func asset() throws(Errors.Failure) -> Asset {
        let id = try string("asset", bytes: Asset.idBytes)
        let decimals = try uint("decimals", in: 0...UInt64(Asset.decimalsRange.upperBound))
        do throws(MessageError) {
            return try Asset(id: id, decimals: UInt8(decimals))
        } catch {
            throw fail("asset", error.detail)
        }
    }
}
