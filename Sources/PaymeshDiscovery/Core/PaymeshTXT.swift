/// The TXT attributes a Paymesh node publishes (see Specs/discovery.md).
enum PaymeshTXT {
    /// The node's peer id: its Ethereum address in EIP-55 mixed-case hex ("0x" + 40 hex digits).
    static let peerIDKey = "id"
    /// The wire protocol version the node speaks.
    static let versionKey = "v"
    /// Current protocol version string (Specs/README.md: wire protocol `paymesh/1`).
    static let protocolVersion = "paymesh/1"
    /// "0x" + 20 bytes in hex: the length of an Ethereum address in text.
    static let peerIDLength = 42

    /// True for "0x" followed by exactly 40 hex digits (either case). The EIP-55 checksum is not
    /// checked here: the TXT record is unauthenticated and the Noise handshake proves the identity.
    static func isWellFormedPeerID(_ id: String) -> Bool {
        let bytes = Array(id.utf8)
        guard bytes.count == peerIDLength, bytes[0] == UInt8(ascii: "0"),
              bytes[1] == UInt8(ascii: "x") || bytes[1] == UInt8(ascii: "X") else { return false }
        return bytes[2...].allSatisfy { $0.isHexDigit }
    }

    /// The attributes to publish: the caller's extras plus `id` and `v` (which win over extras).
    static func attributes(peerID: String, extra: [String: String]) throws(DiscoveryError) -> [String: String] {
        guard isWellFormedPeerID(peerID) else { throw .invalidPeerID(peerID) }
        var result: [String: String] = [:]
        for (key, value) in extra where key.lowercased() != peerIDKey && key.lowercased() != versionKey {
            result[key] = value
        }
        result[peerIDKey] = peerID
        result[versionKey] = protocolVersion
        return result
    }
}

private extension UInt8 {
    var isHexDigit: Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
            || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(self)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(self)
    }
}
