extension EthereumAddress: CustomStringConvertible, LosslessStringConvertible {
    /// `0x` and the EIP-55 mixed-case checksum encoding.
    public var description: String { "0x" + Self.checksummed(lowercaseHex: rawRepresentation.hexString) }

    /// `0x` and 40 lowercase hex digits.
    public var lowercaseHex: String { "0x" + rawRepresentation.hexString }

    /// Parses 40 hex digits with or without `0x`. All-lowercase and all-uppercase digits are
    /// accepted as they are; mixed case must carry a valid EIP-55 checksum.
    public init?(_ string: String) { self.init(string: string) }

    public init?(string: String) {
        var digits = Substring(string)
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        guard digits.utf8.count == 2 * Self.byteCount, let raw = [UInt8](hex: String(digits)) else { return nil }
        let hasLower = digits.utf8.contains { (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
        let hasUpper = digits.utf8.contains { (UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) }
        if hasLower, hasUpper, Self.checksummed(lowercaseHex: raw.hexString) != String(digits) { return nil }
        try? self.init(rawRepresentation: raw)
    }

    /// Like `init?(string:)` but says why the string was refused.
    public static func parse(_ string: String) throws -> EthereumAddress {
        guard let address = EthereumAddress(string: string) else {
            throw CryptoError.invalidInput("not an address (40 hex digits, valid EIP-55 checksum if mixed case)")
        }
        return address
    }

    /// EIP-55: the i-th hex letter is uppercase when nibble i of keccak256(lowercase hex as ASCII) ≥ 8.
    static func checksummed(lowercaseHex: String) -> String {
        let ascii = Array(lowercaseHex.utf8)
        let hash = Keccak256.hash(ascii)
        var out = ascii
        for i in out.indices where out[i] >= UInt8(ascii: "a") {
            let nibble = i % 2 == 0 ? hash[i / 2] >> 4 : hash[i / 2] & 0x0f
            if nibble >= 8 { out[i] -= 0x20 }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
