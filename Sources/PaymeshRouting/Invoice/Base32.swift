/// RFC 4648 §6 base32, lowercase alphabet, no padding (Specs/invoice.md §3). Decoding is
/// strict: only alphabet characters, a length that a whole number of bytes produces, and zero
/// trailing bits, so every byte string has exactly one text form.
enum Base32 {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)
    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = Int8(i) }
        return table
    }()

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0, bits = 0
        for b in bytes {
            buffer = buffer << 8 | UInt32(b)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int(buffer >> UInt32(bits) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet[Int(buffer << UInt32(5 - bits) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// nil unless `text` is the canonical encoding of some bytes.
    static func decode(_ text: Substring.UTF8View) -> [UInt8]? {
        // 8 characters carry 5 bytes; a partial group of 1, 3 or 6 characters is never produced.
        guard ![1, 3, 6].contains(text.count % 8) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count * 5 / 8)
        var buffer: UInt32 = 0, bits = 0
        for c in text {
            let v = values[Int(c)]
            guard v >= 0 else { return nil }
            buffer = buffer << 5 | UInt32(v)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(buffer >> UInt32(bits) & 0xff))
            }
        }
        guard buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
