/// The libmacaroons v2 binary format (libmacaroons doc/format.txt; Specs/http402.md §6.3):
///
///     macaroon = 0x02 header caveat* EOS signature
///     header   = [location] identifier EOS
///     caveat   = [location] identifier [vid] EOS
///     field    = type(uvarint) length(uvarint) bytes      EOS = a single 0x00
///     types: 1 location, 2 identifier, 4 vid, 6 signature (32 bytes)
///
/// Within a section the field types strictly increase. Decoding enforces `Pay402Limits`.
extension Macaroon {
    static let version2: UInt8 = 2
    private enum Field: UInt64 { case eos = 0, location = 1, identifier = 2, vid = 4, signature = 6 }

    /// The v2 binary encoding. An absent (nil) location is omitted.
    public func serialized() -> [UInt8] {
        var out: [UInt8] = [Self.version2]
        if let location { Self.append(.location, Array(location.utf8), to: &out) }
        Self.append(.identifier, identifier, to: &out)
        out.append(0)
        for caveat in caveats {
            if let location = caveat.location { Self.append(.location, Array(location.utf8), to: &out) }
            Self.append(.identifier, caveat.identifier, to: &out)
            if let vid = caveat.verificationID { Self.append(.vid, vid, to: &out) }
            out.append(0)
        }
        out.append(0)
        Self.append(.signature, signature, to: &out)
        return out
    }

    /// Standard base64 with padding (the L402 header form, §6.1).
    public var base64: String { Base64.encode(serialized()) }
    /// URL-safe base64 without padding (pymacaroons' `serialize()` form).
    public var base64URL: String { Base64.encodeURL(serialized()) }

    /// Decodes base64 (either alphabet, padded or not) of the v2 binary form.
    public init(base64 text: some StringProtocol) throws(Pay402Error) {
        guard text.utf8.count <= (Pay402Limits.maxMacaroonBytes + 2) / 3 * 4 else {
            throw .malformed("macaroon is longer than \(Pay402Limits.maxMacaroonBytes) bytes")
        }
        try self.init(serialized: Base64.decode(text, what: "macaroon"))
    }

    /// Decodes the v2 binary form; 1320 for anything else (v1, truncation, field order, limits).
    public init(serialized bytes: [UInt8]) throws(Pay402Error) {
        guard bytes.count <= Pay402Limits.maxMacaroonBytes else { throw .malformed("macaroon is too long") }
        guard bytes.first == Self.version2 else { throw .malformed("macaroon is not libmacaroons v2") }
        var reader = Reader(bytes: bytes, offset: 1)
        let header = try reader.section()
        var location: String?
        var index = 0
        if index < header.count, header[index].type == .location {
            location = try Self.text(header[index].data)
            index += 1
        }
        guard index == header.count - 1, header[index].type == .identifier else {
            throw .malformed("macaroon header must be [location] identifier")
        }
        let identifier = header[index].data
        var caveats: [Caveat] = []
        while true {
            let section = try reader.section()
            if section.isEmpty { break }
            guard caveats.count < Pay402Limits.maxCaveats else { throw .malformed("more than \(Pay402Limits.maxCaveats) caveats") }
            var i = 0
            var caveatLocation: String?
            if section[i].type == .location {
                caveatLocation = try Self.text(section[i].data)
                i += 1
            }
            guard i < section.count, section[i].type == .identifier else { throw .malformed("caveat without identifier") }
            let id = section[i].data
            i += 1
            var vid: [UInt8]?
            if i < section.count, section[i].type == .vid {
                vid = section[i].data
                i += 1
            }
            guard i == section.count else { throw .malformed("unexpected field in caveat") }
            caveats.append(Caveat(location: caveatLocation, identifier: id, verificationID: vid))
        }
        let (type, signature) = try reader.field()
        guard type == .signature, signature.count == 32 else { throw .malformed("macaroon signature must be 32 bytes") }
        guard reader.atEnd else { throw .malformed("bytes after the macaroon signature") }
        self.init(location: location, identifier: identifier, caveats: caveats, signature: signature)
    }

    private static func text(_ bytes: [UInt8]) throws(Pay402Error) -> String {
        guard let s = String(validating: bytes, as: UTF8.self) else { throw .malformed("macaroon location is not UTF-8") }
        return s
    }

    private static func append(_ type: Field, _ data: [UInt8], to out: inout [UInt8]) {
        appendVarint(type.rawValue, to: &out)
        appendVarint(UInt64(data.count), to: &out)
        out += data
    }

    private static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var n = value
        while n >= 0x80 {
            out.append(UInt8(n & 0x7f) | 0x80)
            n >>= 7
        }
        out.append(UInt8(n))
    }

    private struct Reader {
        let bytes: [UInt8]
        var offset: Int
        var atEnd: Bool { offset == bytes.count }

        /// Fields up to the next EOS, in strictly increasing type order.
        mutating func section() throws(Pay402Error) -> [(type: Field, data: [UInt8])] {
            var fields: [(type: Field, data: [UInt8])] = []
            var previous: UInt64 = 0
            while true {
                let (type, data) = try field()
                if type == .eos { return fields }
                guard type.rawValue > previous else { throw .malformed("macaroon fields out of order") }
                previous = type.rawValue
                fields.append((type, data))
            }
        }

        mutating func field() throws(Pay402Error) -> (Field, [UInt8]) {
            let raw = try varint()
            guard let type = Field(rawValue: raw) else { throw .malformed("unknown macaroon field type \(raw)") }
            if type == .eos { return (.eos, []) }
            let length = try varint()
            guard length <= UInt64(Pay402Limits.maxMacaroonFieldBytes), length <= UInt64(bytes.count - offset) else {
                throw .malformed("macaroon field longer than its limit or the input")
            }
            let data = Array(bytes[offset..<offset + Int(length)])
            offset += Int(length)
            return (type, data)
        }

        /// A uvarint of at most 3 bytes (every valid type and length is below 2^21).
        mutating func varint() throws(Pay402Error) -> UInt64 {
            var value: UInt64 = 0
            for shift in stride(from: 0, to: 21, by: 7) {
                guard offset < bytes.count else { throw .malformed("macaroon truncated") }
                let b = bytes[offset]
                offset += 1
                value |= UInt64(b & 0x7f) << UInt64(shift)
                if b < 0x80 { return value }
            }
            throw .malformed("macaroon varint too long")
        }
    }
}
