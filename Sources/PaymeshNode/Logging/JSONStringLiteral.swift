/// A JSON string literal (RFC 8259 §7): quotes, backslashes and control characters escaped, and
/// U+2028/U+2029 too (JavaScript readers). Shared by the console's JSON and the node's JSON logs.
public enum JSONStringLiteral {
    public static func write(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    public static func make(_ s: String) -> String {
        var out = ""
        write(s, to: &out)
        return out
    }
}
