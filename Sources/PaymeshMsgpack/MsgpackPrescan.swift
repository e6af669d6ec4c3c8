/// A structural walk over untrusted msgpack bytes that runs before msgpack-c sees them.
///
/// msgpack-c allocates `n × sizeof(msgpack_object)` for a declared array or map before it reads
/// the elements, so a 5-byte `array32(0xFFFFFFFF)` asks for ~96 GiB. The walk rejects any
/// declared count or length that the remaining input cannot hold, enforces `MsgpackLimits`
/// (depth, element count, str/bin length), and requires exactly one top-level object.
struct MsgpackPrescan {
    let bytes: UnsafeRawBufferPointer
    let limits: MsgpackLimits

    func run() throws(MsgpackError) {
        let end = bytes.count
        var pos = 0
        var elements = 0
        // Items still to read at each open container level; index 0 is the top level.
        var pending: [Int] = [1]
        pending.reserveCapacity(limits.maxDepth + 1)

        while let top = pending.last {
            if top == 0 {
                pending.removeLast()
                continue
            }
            pending[pending.count - 1] = top - 1
            elements += 1
            if elements > limits.maxElements { throw MsgpackError(.elementLimitExceeded, at: pos) }
            guard pos < end else { throw MsgpackError(.truncated, at: pos) }
            let start = pos
            let b = bytes[pos]
            pos += 1

            var children = 0 // items inside a container that starts here
            var payload = 0  // bytes of str/bin/ext/number body that follow the header
            switch b {
            case 0x00...0x7f, 0xe0...0xff, 0xc0, 0xc2, 0xc3:
                break
            case 0x80...0x8f:
                children = Int(b & 0x0f) * 2
            case 0x90...0x9f:
                children = Int(b & 0x0f)
            case 0xa0...0xbf:
                payload = Int(b & 0x1f)
                guard payload <= limits.maxStringLength else { throw MsgpackError(.stringTooLong, at: start) }
            case 0xc1:
                throw MsgpackError(.invalidFormat, at: start)
            case 0xc4, 0xc5, 0xc6:
                payload = try readLength(&pos, width: 1 << Int(b - 0xc4))
                guard payload <= limits.maxBinaryLength else { throw MsgpackError(.binaryTooLong, at: start) }
            case 0xc7, 0xc8, 0xc9:
                payload = try readLength(&pos, width: 1 << Int(b - 0xc7))
                guard payload <= limits.maxBinaryLength else { throw MsgpackError(.binaryTooLong, at: start) }
                payload += 1 // the ext type byte
            case 0xca: payload = 4
            case 0xcb: payload = 8
            case 0xcc...0xcf: payload = 1 << Int(b - 0xcc)
            case 0xd0...0xd3: payload = 1 << Int(b - 0xd0)
            case 0xd4...0xd8: payload = 1 + (1 << Int(b - 0xd4))
            case 0xd9, 0xda, 0xdb:
                payload = try readLength(&pos, width: 1 << Int(b - 0xd9))
                guard payload <= limits.maxStringLength else { throw MsgpackError(.stringTooLong, at: start) }
            case 0xdc, 0xdd:
                children = try readLength(&pos, width: b == 0xdc ? 2 : 4)
            case 0xde, 0xdf:
                children = try readLength(&pos, width: b == 0xde ? 2 : 4) * 2
            default:
                throw MsgpackError(.invalidFormat, at: start)
            }

            if payload > 0 {
                guard payload <= end - pos else { throw MsgpackError(.truncated, at: start) }
                pos += payload
            }
            let isContainer = (0x80...0x9f).contains(b) || (0xdc...0xdf).contains(b)
            if isContainer {
                // Every item takes at least one byte: a count the rest of the input cannot hold is a lie.
                guard children <= end - pos else { throw MsgpackError(.truncated, at: start) }
                guard pending.count <= limits.maxDepth else { throw MsgpackError(.depthLimitExceeded, at: start) }
                // Count-only bound before the walk reaches the items.
                guard elements + children <= limits.maxElements else {
                    throw MsgpackError(.elementLimitExceeded, at: start)
                }
                pending.append(children)
            }
        }
        guard pos == end else { throw MsgpackError(.trailingBytes, at: pos) }
    }

    private func readLength(_ pos: inout Int, width: Int) throws(MsgpackError) -> Int {
        guard width <= bytes.count - pos else { throw MsgpackError(.truncated, at: pos) }
        var n = 0
        for i in 0..<width { n = n << 8 | Int(bytes[pos + i]) }
        pos += width
        return n
    }
}
