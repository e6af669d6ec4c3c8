/// A Noise handshake pattern (rev 34 §7): pre-messages and message token lists. Messages
/// alternate initiator → responder, responder → initiator, starting with the initiator.
/// The twelve fundamental interactive patterns of §7.4 and §7.5 are provided.
public struct HandshakePattern: Hashable, Sendable, CustomStringConvertible {
    public enum Token: Hashable, Sendable {
        case e, s, ee, es, se, ss
    }

    /// The pattern's name, e.g. "XX".
    public let name: String
    /// Keys the responder knows before the handshake (only `s` in these patterns).
    public let initiatorPreMessage: [Token]
    public let responderPreMessage: [Token]
    public let messages: [[Token]]

    init(_ name: String, initiatorPre: [Token] = [], responderPre: [Token] = [], _ messages: [[Token]]) {
        self.name = name
        self.initiatorPreMessage = initiatorPre
        self.responderPreMessage = responderPre
        self.messages = messages
    }

    /// The full protocol name with the only cipher suite this module implements.
    public var protocolName: String { "Noise_\(name)_25519_ChaChaPoly_SHA256" }
    public var description: String { protocolName }

    public static let nn = HandshakePattern("NN", [[.e], [.e, .ee]])
    public static let nk = HandshakePattern("NK", responderPre: [.s], [[.e, .es], [.e, .ee]])
    public static let nx = HandshakePattern("NX", [[.e], [.e, .ee, .s, .es]])
    public static let xn = HandshakePattern("XN", [[.e], [.e, .ee], [.s, .se]])
    public static let xk = HandshakePattern("XK", responderPre: [.s], [[.e, .es], [.e, .ee], [.s, .se]])
    public static let xx = HandshakePattern("XX", [[.e], [.e, .ee, .s, .es], [.s, .se]])
    public static let kn = HandshakePattern("KN", initiatorPre: [.s], [[.e], [.e, .ee, .se]])
    public static let kk = HandshakePattern("KK", initiatorPre: [.s], responderPre: [.s],
                                            [[.e, .es, .ss], [.e, .ee, .se]])
    public static let kx = HandshakePattern("KX", initiatorPre: [.s], [[.e], [.e, .ee, .se, .s, .es]])
    public static let `in` = HandshakePattern("IN", [[.e, .s], [.e, .ee, .se]])
    public static let ik = HandshakePattern("IK", responderPre: [.s], [[.e, .es, .s, .ss], [.e, .ee, .se]])
    public static let ix = HandshakePattern("IX", [[.e, .s], [.e, .ee, .se, .s, .es]])

    public static let all: [HandshakePattern] = [.nn, .nk, .nx, .xn, .xk, .xx, .kn, .kk, .kx, .in, .ik, .ix]

    /// Parses "Noise_<pattern>_25519_ChaChaPoly_SHA256"; any other suite or modifier is refused.
    public init(protocolName: String) throws {
        let parts = protocolName.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0] == "Noise", parts[2] == "25519", parts[3] == "ChaChaPoly",
              parts[4] == "SHA256", let pattern = Self.all.first(where: { $0.name == parts[1] }) else {
            throw NoiseError.unsupportedProtocol(protocolName)
        }
        self = pattern
    }

    /// Whether the party in `role` needs a static key pair of its own.
    func needsLocalStatic(_ role: NoiseRole) -> Bool {
        let pre = role == .initiator ? initiatorPreMessage : responderPreMessage
        return pre.contains(.s) || messages.enumerated().contains { i, tokens in
            (i % 2 == 0) == (role == .initiator) && tokens.contains(.s)
        }
    }

    /// Whether the party in `role` must know the peer's static key before the handshake.
    func needsRemoteStaticBeforehand(_ role: NoiseRole) -> Bool {
        (role == .initiator ? responderPreMessage : initiatorPreMessage).contains(.s)
    }
}

/// Which side of the handshake this party plays. The dialer is the initiator in paymesh/1.
public enum NoiseRole: Hashable, Sendable {
    case initiator, responder
}
