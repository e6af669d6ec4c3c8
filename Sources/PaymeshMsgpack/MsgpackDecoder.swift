internal import CMsgpack

/// Decodes exactly one msgpack object from untrusted bytes, within `MsgpackLimits`.
///
/// Owns one msgpack-c zone that is reused (cleared) between calls, so a long-lived decoder
/// allocates nothing per message beyond the Swift values it returns. Not thread-safe: keep one
/// per connection or event loop.
public final class MsgpackDecoder {
    public let limits: MsgpackLimits
    private let zone: UnsafeMutablePointer<msgpack_zone>

    /// Initial zone chunk; msgpack-c grows the zone in further chunks as needed.
    private static let zoneChunkSize = 2_048

    public init(limits: MsgpackLimits = .default) {
        self.limits = limits
        zone = .allocate(capacity: 1)
        guard msgpack_zone_init(zone, Self.zoneChunkSize) else {
            zone.deallocate()
            fatalError("msgpack_zone_init: out of memory")
        }
    }

    deinit {
        msgpack_zone_destroy(zone)
        zone.deallocate()
    }

    public func decode(_ bytes: [UInt8]) throws(MsgpackError) -> MsgpackValue {
        // `withUnsafeBytes` is not typed-throws aware; carry the result out explicitly.
        let result: Result<MsgpackValue, MsgpackError> = bytes.withUnsafeBytes { raw in
            do throws(MsgpackError) { return .success(try decode(raw)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public func decode(_ bytes: UnsafeRawBufferPointer) throws(MsgpackError) -> MsgpackValue {
        try MsgpackPrescan(bytes: bytes, limits: limits).run()
        guard let base = bytes.baseAddress else { throw MsgpackError(.truncated, at: 0) }
        defer { msgpack_zone_clear(zone) }
        var offset = 0
        var object = msgpack_object()
        let rc = msgpack_unpack(base.assumingMemoryBound(to: CChar.self), bytes.count, &offset, zone, &object)
        switch rc {
        case MSGPACK_UNPACK_SUCCESS: break
        case MSGPACK_UNPACK_EXTRA_BYTES: throw MsgpackError(.trailingBytes, at: offset)
        case MSGPACK_UNPACK_CONTINUE: throw MsgpackError(.truncated, at: offset)
        case MSGPACK_UNPACK_NOMEM_ERROR: throw MsgpackError(.outOfMemory)
        default: throw MsgpackError(.invalidFormat, at: offset)
        }
        return try Self.convert(object)
    }

    /// One-shot convenience that builds a temporary decoder.
    public static func decode(_ bytes: [UInt8], limits: MsgpackLimits = .default) throws(MsgpackError) -> MsgpackValue {
        try MsgpackDecoder(limits: limits).decode(bytes)
    }

    /// Copies a msgpack-c object tree (valid until the zone is cleared) into Swift values.
    /// Recursion depth is bounded by the prescan's `maxDepth`.
    private static func convert(_ o: msgpack_object) throws(MsgpackError) -> MsgpackValue {
        switch o.type {
        case MSGPACK_OBJECT_NIL:
            return .nil
        case MSGPACK_OBJECT_BOOLEAN:
            return .bool(o.via.boolean)
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            return .uint(o.via.u64)
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            return .int(o.via.i64)
        case MSGPACK_OBJECT_FLOAT32, MSGPACK_OBJECT_FLOAT64:
            return .float64(o.via.f64)
        case MSGPACK_OBJECT_STR:
            let count = Int(o.via.str.size)
            guard count > 0, let ptr = o.via.str.ptr else { return .string("") }
            let utf8 = UnsafeRawPointer(ptr).assumingMemoryBound(to: UInt8.self)
            guard let s = String(validating: UnsafeBufferPointer(start: utf8, count: count), as: UTF8.self) else {
                throw MsgpackError(.invalidUTF8)
            }
            return .string(s)
        case MSGPACK_OBJECT_BIN:
            return .binary(copyBytes(o.via.bin.ptr, Int(o.via.bin.size)))
        case MSGPACK_OBJECT_EXT:
            return .extension(type: o.via.ext.type, data: copyBytes(o.via.ext.ptr, Int(o.via.ext.size)))
        case MSGPACK_OBJECT_ARRAY:
            let count = Int(o.via.array.size)
            var items = [MsgpackValue]()
            items.reserveCapacity(count)
            if count > 0, let ptr = o.via.array.ptr {
                for i in 0..<count { items.append(try convert(ptr[i])) }
            }
            return .array(items)
        case MSGPACK_OBJECT_MAP:
            let count = Int(o.via.map.size)
            var pairs = [MsgpackPair]()
            pairs.reserveCapacity(count)
            if count > 0, let ptr = o.via.map.ptr {
                for i in 0..<count {
                    pairs.append(MsgpackPair(try convert(ptr[i].key), try convert(ptr[i].val)))
                }
            }
            return .map(pairs)
        default:
            throw MsgpackError(.invalidFormat)
        }
    }

    private static func copyBytes(_ ptr: UnsafePointer<CChar>?, _ count: Int) -> [UInt8] {
        guard count > 0, let ptr else { return [] }
        return Array(UnsafeRawBufferPointer(start: ptr, count: count))
    }
}
