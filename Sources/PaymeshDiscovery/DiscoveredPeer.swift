/// A Paymesh node seen through DNS-SD and resolved to an IPv4 address.
public struct DiscoveredPeer: Sendable, Hashable, CustomStringConvertible {
    /// The DNS-SD instance name, unique on the link (the key for `.removed`).
    public let instanceName: String
    /// The peer id from the TXT record (`id`): "0x" + 40 hex digits. Unauthenticated until the
    /// Noise handshake proves it.
    public let peerID: String
    /// The resolved IPv4 address, in dotted decimal.
    public let host: String
    /// The TCP port the node listens on.
    public let port: UInt16
    /// Every TXT attribute, keys lowercased (includes `id` and `v`).
    public let txt: [String: String]

    public init(instanceName: String, peerID: String, host: String, port: UInt16, txt: [String: String]) {
        self.instanceName = instanceName
        self.peerID = peerID
        self.host = host
        self.port = port
        self.txt = txt
    }

    public var description: String { "\(instanceName) \(peerID) at \(host):\(port)" }
}
