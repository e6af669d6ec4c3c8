import PaymeshMessages

/// Amounts are stored as exactly 16 bytes, big-endian (Specs/storage.md, "Amount encoding").
/// Fixed width and big-endian make SQLite's BLOB order (memcmp) equal to numeric order, so a
/// guard such as `amount >= latest_amount` in SQL compares numbers exactly. Never a float.
enum AmountEncoding {
    static let byteCount = 16

    static func encode(_ value: UInt128) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: byteCount)
        var v = value
        for i in stride(from: byteCount - 1, through: 0, by: -1) {
            bytes[i] = UInt8(truncatingIfNeeded: v)
            v >>= 8
        }
        return bytes
    }

    static func encode(_ amount: Amount) -> [UInt8] { encode(amount.atomicUnits) }

    static func decode(_ bytes: [UInt8]?, _ what: @autoclosure () -> String) throws(StoreError) -> Amount {
        guard let bytes, bytes.count == byteCount else { throw .corrupt("\(what()) is not a 16-byte amount") }
        var v: UInt128 = 0
        for b in bytes { v = v << 8 | UInt128(b) }
        return Amount(v)
    }
}

/// Conversions between the store's unsigned integers and SQLite's signed 64-bit INTEGER.
enum IntegerEncoding {
    /// Nonces, sequence numbers, chain ids and periods are stored as INTEGER, so they must fit Int64.
    static func int64(_ value: UInt64, _ what: @autoclosure () -> String) throws(StoreError) -> Int64 {
        guard value <= UInt64(Int64.max) else { throw .valueOutOfRange("\(what()) exceeds 2^63 - 1") }
        return Int64(value)
    }

    static func uint64(_ value: Int64, _ what: @autoclosure () -> String) throws(StoreError) -> UInt64 {
        guard value >= 0 else { throw .corrupt("\(what()) is negative") }
        return UInt64(value)
    }
}

/// Decoding of fixed-size byte columns into PaymeshMessages values.
enum BytesDecoding {
    static func decode<T: FixedBytes>(_ type: T.Type, _ bytes: [UInt8]?, _ what: @autoclosure () -> String) throws(StoreError) -> T {
        guard let bytes else { throw .corrupt("\(what()) is NULL") }
        do { return try T(bytes) } catch { throw .corrupt("\(what()): \(error)") }
    }

    static func decodeOptional<T: FixedBytes>(_ type: T.Type, _ bytes: [UInt8]?, _ what: @autoclosure () -> String) throws(StoreError) -> T? {
        guard let bytes else { return nil }
        do { return try T(bytes) } catch { throw .corrupt("\(what()): \(error)") }
    }
}
