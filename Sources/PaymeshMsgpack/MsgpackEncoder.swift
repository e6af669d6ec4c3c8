internal import CMsgpack

/// Encodes `MsgpackValue`s with msgpack-c's packer into a reusable `msgpack_sbuffer`.
///
/// Encoding is canonical: integers take their smallest encoding (non-negative values always
/// as positive fixint/uint8/16/32/64), strings use fixstr/str8/str16/str32 and binaries
/// bin8/bin16/bin32 by length, floats are float64, and maps keep their pair order.
/// Python's `msgpack.packb(..., use_bin_type=True)` produces the same bytes.
/// Not thread-safe: keep one per connection or event loop.
public final class MsgpackEncoder {
    private let buffer: UnsafeMutablePointer<msgpack_sbuffer>
    private let packer: UnsafeMutablePointer<msgpack_packer>

    public init() {
        buffer = .allocate(capacity: 1)
        packer = .allocate(capacity: 1)
        msgpack_sbuffer_init(buffer)
        msgpack_packer_init(packer, buffer, msgpack_sbuffer_write)
    }

    deinit {
        msgpack_sbuffer_destroy(buffer)
        buffer.deallocate()
        packer.deallocate()
    }

    /// Encodes `value` and returns a copy of the bytes.
    public func encode(_ value: MsgpackValue) throws(MsgpackError) -> [UInt8] {
        try withEncoded(value) { Array($0) }
    }

    /// Encodes `value` and lends the bytes to `body` without copying them; they are valid only
    /// during the call.
    public func withEncoded<R>(_ value: MsgpackValue, _ body: (UnsafeRawBufferPointer) -> R) throws(MsgpackError) -> R {
        msgpack_sbuffer_clear(buffer)
        try pack(value)
        return body(UnsafeRawBufferPointer(start: buffer.pointee.data, count: buffer.pointee.size))
    }

    /// One-shot convenience that builds a temporary encoder.
    public static func encode(_ value: MsgpackValue) throws(MsgpackError) -> [UInt8] {
        try MsgpackEncoder().encode(value)
    }

    private func check(_ rc: Int32) throws(MsgpackError) {
        if rc != 0 { throw MsgpackError(.encodingFailed) }
    }

    private func pack(_ value: MsgpackValue) throws(MsgpackError) {
        switch value {
        case .nil:
            try check(msgpack_pack_nil(packer))
        case .bool(let b):
            try check(b ? msgpack_pack_true(packer) : msgpack_pack_false(packer))
        case .int(let v):
            try check(msgpack_pack_int64(packer, v))
        case .uint(let v):
            try check(msgpack_pack_uint64(packer, v))
        case .float64(let d):
            try check(msgpack_pack_double(packer, d))
        case .string(let s):
            try packBytes(Array(s.utf8), header: msgpack_pack_str, body: msgpack_pack_str_body)
        case .binary(let b):
            try packBytes(b, header: msgpack_pack_bin, body: msgpack_pack_bin_body)
        case .extension(let type, let data):
            try checkLength(data.count)
            try check(msgpack_pack_ext(packer, data.count, type))
            try check(data.withUnsafeBytes { msgpack_pack_ext_body(packer, $0.baseAddress, $0.count) })
        case .array(let items):
            try checkLength(items.count)
            try check(msgpack_pack_array(packer, items.count))
            for item in items { try pack(item) }
        case .map(let pairs):
            try checkLength(pairs.count)
            try check(msgpack_pack_map(packer, pairs.count))
            for pair in pairs {
                try pack(pair.key)
                try pack(pair.value)
            }
        }
    }

    private func packBytes(
        _ bytes: [UInt8],
        header: (UnsafeMutablePointer<msgpack_packer>?, Int) -> Int32,
        body: (UnsafeMutablePointer<msgpack_packer>?, UnsafeRawPointer?, Int) -> Int32
    ) throws(MsgpackError) {
        try checkLength(bytes.count)
        try check(header(packer, bytes.count))
        if bytes.isEmpty { return }
        try check(bytes.withUnsafeBytes { body(packer, $0.baseAddress, $0.count) })
    }

    /// msgpack lengths and counts are at most 32 bits.
    private func checkLength(_ n: Int) throws(MsgpackError) {
        if n > Int(UInt32.max) { throw MsgpackError(.encodingFailed) }
    }
}
