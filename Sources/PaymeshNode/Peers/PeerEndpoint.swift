public import PaymeshCrypto

/// A dialable `host:port` (IPv6 literals in brackets: `[::1]:9735`).
public struct PeerEndpoint: Hashable, Comparable, Sendable, CustomStringConvertible, LosslessStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; the port must be 0–65535 (0 only makes sense for listening).
    public init?(_ text: String) {
        guard let (host, port) = try? Self.parse(text) else { return nil }
        self.init(host: host, port: port)
    }

    public static func parse(_ text: String) throws(NodeError) -> (String, Int) {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw NodeError.configuration("bad address \(text): expected [ipv6]:port")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw NodeError.configuration("bad address \(text): expected host:port")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, host.allSatisfy({ !$0.isWhitespace }) else {
            throw NodeError.configuration("bad address \(text): empty host")
        }
        guard portText.allSatisfy(\.isASCII), let port = Int(portText), (0...65_535).contains(port) else {
            throw NodeError.configuration("bad address \(text): port must be 0–65535")
        }
        return (String(host), port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public static func < (a: Self, b: Self) -> Bool { (a.host, a.port) < (b.host, b.port) }
}

extension PeerEndpoint {
    /// Parses `host:port` or `id@host:port` (`connect`, `--peer`): the id, when given, is the
    /// identity the node there must prove (EIP-55 or lower-case hex).
    public static func parsePinned(_ text: String) throws(NodeError) -> (id: EthereumAddress?, endpoint: PeerEndpoint) {
        guard let at = text.firstIndex(of: "@") else {
            let (host, port) = try parse(text)
            return (nil, PeerEndpoint(host: host, port: port))
        }
        let idText = String(text[..<at])
        guard let id = EthereumAddress(string: idText) else {
            throw .configuration("bad address \(text): \(idText) is not a peer id (0x + 40 hex digits)")
        }
        let (host, port) = try parse(String(text[text.index(after: at)...]))
        return (id, PeerEndpoint(host: host, port: port))
    }
}
