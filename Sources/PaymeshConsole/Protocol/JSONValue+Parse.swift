import PaymeshNode

// MARK: Parsing (RFC 8259), by hand
//
// `JSONDecoder` through `Decodable` cost ≈ 0.1 ms for a `pay` request (each value is tried as
// bool, integer, double, string, array, object in turn, every miss a thrown error) on both ends of
// the console (issue 10 latency). This parser reads the same values: an integral number that fits
// Int64 is `.int`, any other number `.double`; of a duplicated key the first value is kept.

extension JSONValue {
    /// Arrays and objects nested deeper than this are refused (`JSONDecoder`'s own limit).
    public static let maxDepth = 512

    /// Parses one JSON text (UTF-8). Throws a parse error with a short reason.
    public static func parse(_ bytes: some Collection<UInt8>) throws(NodeError) -> JSONValue {
        let input = Array(bytes)
        guard String(validating: input, as: UTF8.self) != nil else { throw .parseError("not valid UTF-8") }
        let parsed: JSONValue? = input.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(buffer)
            guard let value = parser.value(depth: 0) else { return nil }
            parser.skipSpace()
            // (Not `nil`: JSONValue is ExpressibleByNilLiteral, so a bare nil here would be `.null`.)
            return parser.atEnd ? value : Optional<JSONValue>.none
        }
        guard let parsed else { throw .parseError("not valid JSON") }
        return parsed
    }
}

/// A recursive-descent reader over validated UTF-8; nil at the first byte that breaks the grammar.
private struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var atEnd: Bool { i == bytes.count }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func value(depth: Int) -> JSONValue? {
        skipSpace()
        guard i < bytes.count else { return nil }
        switch bytes[i] {
        case UInt8(ascii: "{"): return object(depth: depth + 1)
        case UInt8(ascii: "["): return array(depth: depth + 1)
        case UInt8(ascii: "\""): return string().map { .string($0) }
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : Optional<JSONValue>.none
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : Optional<JSONValue>.none
        case UInt8(ascii: "n"): return literal("null") ? .null : Optional<JSONValue>.none
        default: return number()
        }
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard bytes.count - i >= n else { return false }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { return false }
        i += n
        return true
    }

    mutating func array(depth: Int) -> JSONValue? {
        guard depth <= JSONValue.maxDepth else { return nil }
        i += 1 // [
        var items: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            guard let v = value(depth: depth) else { return nil }
            items.append(v)
            skipSpace()
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            guard bytes[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
    }

    mutating func object(depth: Int) -> JSONValue? {
        guard depth <= JSONValue.maxDepth else { return nil }
        i += 1 // {
        var members: [String: JSONValue] = [:]
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\""), let key = string() else { return nil }
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
            i += 1
            guard let v = value(depth: depth) else { return nil }
            if members[key] == nil { members[key] = v }
            skipSpace()
            guard i < bytes.count else { return nil }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            guard bytes[i] == UInt8(ascii: ",") else { return nil }
            i += 1
        }
    }

    /// A string at `i` (its opening quote): escapes decoded, raw control characters refused.
    mutating func string() -> String? {
        i += 1 // "
        let start = i
        // Fast path: no escape.
        while i < bytes.count, bytes[i] != UInt8(ascii: "\""), bytes[i] != UInt8(ascii: "\\") {
            guard bytes[i] >= 0x20 else { return nil }
            i += 1
        }
        guard i < bytes.count else { return nil }
        var out = Array(bytes[start..<i])
        while true {
            guard i < bytes.count else { return nil }
            let b = bytes[i]
            i += 1
            switch b {
            case UInt8(ascii: "\""): return String(decoding: out, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard i < bytes.count else { return nil }
                let e = bytes[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard let scalar = unicodeEscape() else { return nil }
                    out.append(contentsOf: String(Character(scalar)).utf8)
                default: return nil
                }
            default:
                guard b >= 0x20 else { return nil }
                out.append(b)
            }
        }
    }

    /// After `\u`: 4 hex digits, or a surrogate pair as two escapes; a lone surrogate is refused.
    mutating func unicodeEscape() -> Unicode.Scalar? {
        guard let high = hex4() else { return nil }
        switch high {
        case 0xD800...0xDBFF:
            guard bytes.count - i >= 2, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else { return nil }
            i += 2
            guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
            return Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
        case 0xDC00...0xDFFF: return nil
        default: return Unicode.Scalar(high)
        }
    }

    mutating func hex4() -> UInt32? {
        guard bytes.count - i >= 4 else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return v
    }

    /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    mutating func number() -> JSONValue? {
        let start = i
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count, isDigit(bytes[i]) else { return nil }
        if bytes[i] == UInt8(ascii: "0") { i += 1 } else { while i < bytes.count, isDigit(bytes[i]) { i += 1 } }
        var plain = true
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            plain = false
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { return nil }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            plain = false
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count, isDigit(bytes[i]) else { return nil }
            while i < bytes.count, isDigit(bytes[i]) { i += 1 }
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if plain, let n = Int64(text) { return .int(n) }
        guard let d = Double(text), d.isFinite else { return nil }
        // An integral value that fits Int64 is an integer (1.0, 1e2), as JSONDecoder read it.
        if !plain, d.rounded() == d, let n = Int64(exactly: d) { return .int(n) }
        return .double(d)
    }

    func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
}
