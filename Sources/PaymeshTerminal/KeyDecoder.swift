/// A key a person pressed, decoded from a terminal's bytes (VT100/xterm sequences).
public enum Key: Equatable, Sendable {
    case text(String)
    case enter, tab, backspace, delete
    case left, right, up, down, home, end
    case wordLeft, wordRight
    /// A control key: its letter (`"a"` for Ctrl-A).
    case control(Character)
}

/// Bytes from a terminal in raw mode → keys. Sans-IO: feed it whatever `read` returned, in any
/// split; escape sequences and UTF-8 characters cut between two reads are completed by the next.
/// A sequence it does not know (function keys, mouse reports) is swallowed whole, never typed.
public struct KeyDecoder: Sendable {
    /// Longest escape sequence kept while it is incomplete; a longer one is dropped as garbage.
    public static let maxSequence = 16

    private var pending: [UInt8] = []
    /// A CR was the last byte: an LF right after it is the same Enter (a pasted CRLF).
    private var afterCR = false

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Key] {
        var keys: [Key] = []
        for byte in bytes {
            pending.append(byte)
            if let key = take() { keys.append(contentsOf: key) }
        }
        return keys
    }

    /// A key when `pending` holds a complete one ([] when it held something ignored), nil while incomplete.
    private mutating func take() -> [Key]? {
        let first = pending[0]
        if first == 0x1B { return escape() }
        if first >= 0x80 {
            afterCR = false
            return utf8()
        }
        defer { pending.removeAll(keepingCapacity: true) }
        let wasCR = afterCR
        afterCR = first == 0x0D
        switch first {
        case 0x0D: return [.enter]
        case 0x0A: return wasCR ? [] : [.enter]
        case 0x09: return [.tab]
        case 0x7F, 0x08: return [.backspace]
        case 0x00..<0x20: return [.control(Character(Unicode.Scalar(first + 0x60)))]
        default: return [.text(String(Unicode.Scalar(first)))]
        }
    }

    private mutating func utf8() -> [Key]? {
        let first = pending[0]
        let length = first >= 0xF0 ? 4 : first >= 0xE0 ? 3 : first >= 0xC0 ? 2 : 1
        if pending.count < length, length > 1 {
            // Not yet complete; keep it unless a byte that cannot continue it arrived.
            if pending.count > 1, pending.last! & 0xC0 != 0x80 {
                let last = pending.removeLast()
                pending.removeAll(keepingCapacity: true)
                pending.append(last)
                return take()
            }
            return nil
        }
        let bytes = pending
        pending.removeAll(keepingCapacity: true)
        guard let text = String(validating: bytes, as: UTF8.self), !text.isEmpty else { return [] }
        return [.text(text)]
    }

    private mutating func escape() -> [Key]? {
        afterCR = false
        guard pending.count >= 2 else { return nil }
        let kind = pending[1]
        if kind != UInt8(ascii: "[") && kind != UInt8(ascii: "O") {
            // ESC then a key: Alt-b / Alt-f move by words, other Alt keys are ignored.
            defer { pending.removeAll(keepingCapacity: true) }
            switch kind {
            case UInt8(ascii: "b"): return [.wordLeft]
            case UInt8(ascii: "f"): return [.wordRight]
            case 0x7F: return [.control("w")]
            default: return []
            }
        }
        guard pending.count >= 3 else { return nil }
        let last = pending[pending.count - 1]
        // CSI: parameters (digits, ';') then one final byte 0x40…0x7E; SS3 (`ESC O x`): one byte.
        let final = kind == UInt8(ascii: "O") || (0x40...0x7E).contains(last)
        guard final else {
            if pending.count >= Self.maxSequence { pending.removeAll(keepingCapacity: true); return [] }
            return nil
        }
        let params = String(decoding: pending[2..<(pending.count - 1)], as: UTF8.self)
        pending.removeAll(keepingCapacity: true)
        let modified = params.contains(";5") || params.contains(";3") // Ctrl- / Alt-arrow
        switch last {
        case UInt8(ascii: "A"): return [.up]
        case UInt8(ascii: "B"): return [.down]
        case UInt8(ascii: "C"): return [modified ? .wordRight : .right]
        case UInt8(ascii: "D"): return [modified ? .wordLeft : .left]
        case UInt8(ascii: "H"): return [.home]
        case UInt8(ascii: "F"): return [.end]
        case UInt8(ascii: "~"):
            switch params.split(separator: ";").first {
            case "1", "7": return [.home]
            case "4", "8": return [.end]
            case "3": return [.delete]
            default: return []
            }
        default: return []
        }
    }
}
