import PaymeshMsgpack

/// Strict, typed reads from a message's `data` map.
///
/// Unknown keys (including non-str keys) are ignored. A known key that appears twice, has the
/// wrong msgpack type, or breaks its limit is MALFORMED_MESSAGE. A msgpack nil counts as absent.
struct FieldReader {
    let pairs: [MsgpackPair]
    let type: MessageType

    init(_ pairs: [MsgpackPair], type: MessageType) {
        self.pairs = pairs
        self.type = type
    }

    func fail(_ key: String, _ why: String) -> MessageError {
        .malformed("\(type.name).\(key): \(why)", refType: type.rawValue)
    }

    /// The value under `key`, or nil when absent or nil.
    func optional(_ key: String) throws(MessageError) -> MsgpackValue? {
        var found: MsgpackValue?
        for pair in pairs {
            guard case .string(let k) = pair.key, k == key else { continue }
            guard found == nil else { throw fail(key, "duplicate key") }
            found = pair.value
        }
        if let found, found.isNil { return nil }
        return found
    }

    func required(_ key: String) throws(MessageError) -> MsgpackValue {
        guard let v = try optional(key) else { throw fail(key, "missing") }
        return v
    }

    // MARK: integers

    func uint(_ key: String, in range: ClosedRange<UInt64> = 0...UInt64.max) throws(MessageError) -> UInt64 {
        try uintValue(key, try required(key), range)
    }

    func optionalUInt(_ key: String, in range: ClosedRange<UInt64> = 0...UInt64.max) throws(MessageError) -> UInt64? {
        guard let v = try optional(key) else { return nil }
        return try uintValue(key, v, range)
    }

    private func uintValue(_ key: String, _ v: MsgpackValue, _ range: ClosedRange<UInt64>) throws(MessageError) -> UInt64 {
        guard let n = v.uint64Value else { throw fail(key, "expected uint") }
        guard range.contains(n) else { throw fail(key, "\(n) outside \(range.lowerBound)…\(range.upperBound)") }
        return n
    }

    func bool(_ key: String) throws(MessageError) -> Bool {
        guard let b = try required(key).boolValue else { throw fail(key, "expected bool") }
        return b
    }

    // MARK: strings

    func string(_ key: String, bytes range: ClosedRange<Int>) throws(MessageError) -> String {
        try stringValue(key, try required(key), range)
    }

    func optionalString(_ key: String, bytes range: ClosedRange<Int>) throws(MessageError) -> String? {
        guard let v = try optional(key) else { return nil }
        return try stringValue(key, v, range)
    }

    private func stringValue(_ key: String, _ v: MsgpackValue, _ range: ClosedRange<Int>) throws(MessageError) -> String {
        guard let s = v.stringValue else { throw fail(key, "expected str") }
        guard range.contains(s.utf8.count) else {
            throw fail(key, "length \(s.utf8.count) outside \(range.lowerBound)…\(range.upperBound) bytes")
        }
        return s
    }

    // MARK: binaries

    func binary(_ key: String, bytes range: ClosedRange<Int>) throws(MessageError) -> [UInt8] {
        guard let b = try required(key).binaryValue else { throw fail(key, "expected bin") }
        guard range.contains(b.count) else {
            throw fail(key, "length \(b.count) outside \(range.lowerBound)…\(range.upperBound) bytes")
        }
        return b
    }

    func fixed<T: FixedBytes>(_ key: String, as: T.Type = T.self) throws(MessageError) -> T {
        try fixedValue(key, try required(key))
    }

    func optionalFixed<T: FixedBytes>(_ key: String, as: T.Type = T.self) throws(MessageError) -> T? {
        guard let v = try optional(key) else { return nil }
        return try fixedValue(key, v)
    }

    private func fixedValue<T: FixedBytes>(_ key: String, _ v: MsgpackValue) throws(MessageError) -> T {
        guard let b = v.binaryValue else { throw fail(key, "expected bin(\(T.byteCount))") }
        do throws(MessageError) {
            return try T(b)
        } catch {
            throw fail(key, error.detail)
        }
    }

    // MARK: money

    func amount(_ key: String) throws(MessageError) -> Amount {
        guard let s = try required(key).stringValue else { throw fail(key, "amount must be a decimal str") }
        do throws(MessageError) {
            return try Amount(decimal: s)
        } catch {
            throw fail(key, error.detail)
        }
    }

    /// Reads the sibling fields `asset` (str) and `decimals` (uint).
    func asset() throws(MessageError) -> Asset {
        let id = try string("asset", bytes: Asset.idBytes)
        let decimals = try uint("decimals", in: 0...UInt64(Asset.decimalsRange.upperBound))
        do throws(MessageError) {
            return try Asset(id: id, decimals: UInt8(decimals))
        } catch {
            throw fail("asset", error.detail)
        }
    }

    func errorCode(_ key: String) throws(MessageError) -> PaymeshErrorCode {
        PaymeshErrorCode(rawValue: UInt16(try uint(key, in: PaymeshErrorCode.wireRange)))
    }

    func optionalErrorCode(_ key: String) throws(MessageError) -> PaymeshErrorCode? {
        guard let n = try optionalUInt(key, in: PaymeshErrorCode.wireRange) else { return nil }
        return PaymeshErrorCode(rawValue: UInt16(n))
    }
}
