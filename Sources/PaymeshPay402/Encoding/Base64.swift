import Foundation

/// Base64 as the 402 headers use it (RFC 4648): we send the standard alphabet with padding
/// (§3.1); we accept the standard and the URL-safe alphabet, padded or not (pymacaroons sends
/// URL-safe without padding), and nothing else — no whitespace, no mixed garbage.
enum Base64 {
    static func encode(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// URL-safe alphabet without padding (the form `pymacaroons.Macaroon.serialize()` produces).
    static func encodeURL(_ bytes: [UInt8]) -> String {
        var s = encode(bytes)
        s = s.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while s.hasSuffix("=") { s.removeLast() }
        return s
    }

    static func decode(_ text: some StringProtocol, what: String) throws(Pay402Error) -> [UInt8] {
        var chars = Array(text.utf8)
        while chars.last == UInt8(ascii: "=") { chars.removeLast() }
        guard text.utf8.count - chars.count <= 2, chars.count % 4 != 1 else { throw .malformed("\(what) is not base64") }
        for i in chars.indices {
            switch chars[i] {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"): break
            case UInt8(ascii: "-"): chars[i] = UInt8(ascii: "+")
            case UInt8(ascii: "_"): chars[i] = UInt8(ascii: "/")
            default: throw .malformed("\(what) is not base64")
            }
        }
        while chars.count % 4 != 0 { chars.append(UInt8(ascii: "=")) }
        guard let data = Data(base64Encoded: Data(chars)) else { throw .malformed("\(what) is not base64") }
        return Array(data)
    }
}
