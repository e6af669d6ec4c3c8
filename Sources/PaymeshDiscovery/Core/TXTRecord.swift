/// DNS-SD TXT record encoding and parsing (RFC 6763 §6), without I/O.
///
/// A TXT record is a sequence of strings, each `key=value` in bytes. Parsing never fails: entries
/// that break the rules are skipped, so a hostile or broken peer can only hide its own attributes.
enum TXTRecord {
    /// RFC 6763 §6.1: each string is one length byte followed by at most 255 bytes.
    static let maxEntryLength = 255
    /// RFC 6763 §6.2: the whole record SHOULD fit in one packet, "typically … under 1300 bytes".
    static let maxRecordLength = 1300
    /// RFC 6763 §6.4: keys SHOULD be no more than nine characters (enforced for what we publish).
    static let maxKeyLength = 9
    /// Our own bound on attributes kept from one received record (a DNS TXT can hold thousands).
    static let maxParsedEntries = 128

    /// Encodes attributes as TXT strings, sorted by key so the record is deterministic.
    /// Keys are lowercased (RFC 6763 §6.4: keys are case-insensitive).
    static func encode(_ attributes: [String: String]) throws(DiscoveryError) -> [[UInt8]] {
        var seen = Set<String>()
        var entries: [(key: String, bytes: [UInt8])] = []
        for (rawKey, value) in attributes {
            let key = rawKey.lowercased()
            guard isValidKey(Array(key.utf8)), key.utf8.count <= maxKeyLength else {
                throw .invalidTXTKey(rawKey)
            }
            guard seen.insert(key).inserted else { throw .duplicateTXTKey(rawKey) }
            let bytes = Array(key.utf8) + [UInt8(ascii: "=")] + Array(value.utf8)
            guard bytes.count <= maxEntryLength else { throw .txtEntryTooLong(key: key, length: bytes.count) }
            entries.append((key, bytes))
        }
        let total = entries.reduce(0) { $0 + 1 + $1.bytes.count }
        guard total <= maxRecordLength else { throw .txtTooLong(total) }
        return entries.sorted { $0.key < $1.key }.map(\.bytes)
    }

    /// Parses TXT strings into attributes. Keys are lowercased; the first occurrence of a key wins
    /// (RFC 6763 §6.4); an attribute without `=` is a boolean attribute and maps to "".
    /// Skipped: empty strings, strings over 255 bytes, empty or non-printable keys, values that are
    /// not UTF-8, and everything after `maxParsedEntries` attributes.
    static func parse(_ strings: [[UInt8]]) -> [String: String] {
        var result: [String: String] = [:]
        for entry in strings {
            guard result.count < maxParsedEntries else { break }
            guard !entry.isEmpty, entry.count <= maxEntryLength else { continue }
            let equals = entry.firstIndex(of: UInt8(ascii: "="))
            let keyBytes = Array(entry[..<(equals ?? entry.endIndex)])
            guard isValidKey(keyBytes) else { continue }
            let key = String(decoding: keyBytes, as: UTF8.self).lowercased()
            guard result[key] == nil else { continue }
            let valueBytes = equals.map { Array(entry[entry.index(after: $0)...]) } ?? []
            guard let value = String(validating: valueBytes, as: UTF8.self) else { continue }
            result[key] = value
        }
        return result
    }

    /// RFC 6763 §6.4: a key is at least one printable US-ASCII character (0x20–0x7E) other than `=`.
    static func isValidKey(_ bytes: [UInt8]) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy { $0 >= 0x20 && $0 <= 0x7E && $0 != UInt8(ascii: "=") }
    }
}
