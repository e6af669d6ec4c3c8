public import Foundation
public import PaymeshCrypto

/// What a completed handshake yields.
public struct HandshakeResult: Sendable {
    /// Initiator: sends with Split's first CipherState; responder: with the second.
    public var transport: TransportCipher
    /// Final `h`: a channel binding both sides share.
    public let handshakeHash: [UInt8]
    /// The peer's static key, when the pattern transmits or pre-shares one.
    public let remoteStaticKey: X25519.PublicKey?
}

/// Noise rev 34 §5.3 HandshakeState for 25519/ChaChaPoly/SHA256, generic over the patterns of
/// `HandshakePattern`. A sans-IO value: the caller moves bytes, this only computes. Ephemeral
/// keys are generated on demand unless one is injected (test vectors). Any error on reading
/// aborts the handshake (later calls throw `handshakeFailed`); a failed write changes nothing.
public struct HandshakeState: Sendable {
    public let pattern: HandshakePattern
    public let role: NoiseRole

    private var symmetric: SymmetricState
    private var localStatic: X25519.PrivateKey?
    private var localEphemeral: X25519.PrivateKey?
    private var remoteStatic: X25519.PublicKey?
    private var remoteEphemeral: X25519.PublicKey?
    private let transportConfiguration: TransportCipher.Configuration

    private enum Phase: Sendable {
        case inProgress(messageIndex: Int)
        case complete(HandshakeResult)
        case failed
    }
    private var phase: Phase = .inProgress(messageIndex: 0)

    /// - Parameters:
    ///   - localStatic: required when the pattern sends or pre-shares our static key.
    ///   - remoteStatic: required when the peer's static key is a pre-message (XK, IK, NK, KK
    ///     initiator; KN, KK, KX responder); ignored otherwise.
    ///   - localEphemeral: a fixed ephemeral key for test vectors; nil generates one when needed.
    public init(pattern: HandshakePattern, role: NoiseRole, prologue: some ContiguousBytes = [UInt8](),
                localStatic: X25519.PrivateKey? = nil, remoteStatic: X25519.PublicKey? = nil,
                localEphemeral: X25519.PrivateKey? = nil,
                transport: TransportCipher.Configuration = .paymesh) throws {
        if pattern.needsLocalStatic(role) && localStatic == nil { throw NoiseError.missingKey("local static") }
        if pattern.needsRemoteStaticBeforehand(role) && remoteStatic == nil { throw NoiseError.missingKey("remote static") }
        self.pattern = pattern
        self.role = role
        self.localStatic = localStatic
        self.localEphemeral = localEphemeral
        self.remoteStatic = pattern.needsRemoteStaticBeforehand(role) ? remoteStatic : nil
        self.transportConfiguration = transport
        symmetric = SymmetricState(protocolName: pattern.protocolName)
        symmetric.mixHash(prologue)
        // Pre-messages: the initiator's first, then the responder's (§5.3 Initialize).
        for (owner, tokens) in [(NoiseRole.initiator, pattern.initiatorPreMessage),
                                (NoiseRole.responder, pattern.responderPreMessage)] {
            for token in tokens {
                precondition(token == .s, "pre-messages other than s are not supported")
                let key = owner == role ? localStatic!.publicKey : self.remoteStatic!
                symmetric.mixHash(key.rawRepresentation)
            }
        }
    }

    public var isComplete: Bool { if case .complete = phase { return true } else { return false } }

    /// True when the next step is `writeMessage`, false when it is `readMessage` or when the
    /// handshake is over.
    public var isWriteTurn: Bool {
        guard case .inProgress(let i) = phase else { return false }
        return (i % 2 == 0) == (role == .initiator)
    }

    /// The current `h` (the final one once complete).
    public var handshakeHash: [UInt8] { symmetric.handshakeHash }

    /// The peer's static key once received (or pre-known).
    public var remoteStaticKey: X25519.PublicKey? { remoteStatic }

    /// The transport ciphers, handshake hash and remote key; throws until the handshake completes.
    public func result() throws -> HandshakeResult {
        switch phase {
        case .complete(let r): return r
        case .failed: throw NoiseError.handshakeFailed()
        case .inProgress: throw NoiseError.handshakeNotComplete()
        }
    }

    private func currentIndex() throws -> Int {
        switch phase {
        case .inProgress(let i): return i
        case .complete: throw NoiseError.handshakeAlreadyComplete()
        case .failed: throw NoiseError.handshakeFailed()
        }
    }

    // MARK: WriteMessage

    /// `WriteMessage(payload)`: the next handshake message (≤ 65535 bytes).
    public mutating func writeMessage(_ payload: some ContiguousBytes = [UInt8]()) throws -> [UInt8] {
        let index = try currentIndex()
        guard isWriteTurn else { throw NoiseError.unexpectedMessage("it is the peer's turn to send") }
        var next = self // commit only on success
        let message = try next.write(tokens: pattern.messages[index], payload: payload)
        guard message.count <= NoiseLimits.maxMessageLength else {
            throw NoiseError.messageTooLarge(length: message.count, maximum: NoiseLimits.maxMessageLength)
        }
        next.advance(from: index)
        self = next
        return message
    }

    private mutating func write(tokens: [HandshakePattern.Token], payload: some ContiguousBytes) throws -> [UInt8] {
        var out: [UInt8] = []
        for token in tokens {
            switch token {
            case .e:
                let e = localEphemeral ?? X25519.PrivateKey()
                localEphemeral = e
                out += e.publicKey.rawRepresentation
                symmetric.mixHash(e.publicKey.rawRepresentation)
            case .s:
                guard let s = localStatic else { throw NoiseError.missingKey("local static") }
                out += try symmetric.encryptAndHash(s.publicKey.rawRepresentation)
            case .ee, .es, .se, .ss:
                try mixDH(token)
            }
        }
        out += try symmetric.encryptAndHash(payload)
        return out
    }

    // MARK: ReadMessage

    /// `ReadMessage(message)`: the decrypted payload. Any error aborts the handshake.
    public mutating func readMessage(_ message: some ContiguousBytes) throws -> [UInt8] {
        let index = try currentIndex()
        guard !isWriteTurn else { throw NoiseError.unexpectedMessage("it is our turn to send") }
        do {
            let bytes = message.withUnsafeBytes { Array($0) }
            guard bytes.count <= NoiseLimits.maxMessageLength else {
                throw NoiseError.messageTooLarge(length: bytes.count, maximum: NoiseLimits.maxMessageLength)
            }
            let payload = try read(tokens: pattern.messages[index], message: bytes[...])
            advance(from: index)
            return payload
        } catch {
            phase = .failed
            throw error
        }
    }

    private mutating func read(tokens: [HandshakePattern.Token], message: ArraySlice<UInt8>) throws -> [UInt8] {
        var rest = message
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard rest.count >= n else { throw NoiseError.truncatedMessage(needed: n, available: rest.count) }
            defer { rest = rest.dropFirst(n) }
            return rest.prefix(n)
        }
        for token in tokens {
            switch token {
            case .e:
                let bytes = try take(NoiseLimits.dhLength)
                remoteEphemeral = try Self.publicKey(bytes)
                symmetric.mixHash(Array(bytes))
            case .s:
                let n = NoiseLimits.dhLength + (symmetric.cipher.hasKey ? NoiseLimits.tagLength : 0)
                let plain = try symmetric.decryptAndHash(Array(try take(n)))
                remoteStatic = try Self.publicKey(plain[...])
            case .ee, .es, .se, .ss:
                try mixDH(token)
            }
        }
        if symmetric.cipher.hasKey && rest.count < NoiseLimits.tagLength {
            throw NoiseError.truncatedMessage(needed: NoiseLimits.tagLength, available: rest.count)
        }
        return try symmetric.decryptAndHash(Array(rest))
    }

    private static func publicKey(_ bytes: ArraySlice<UInt8>) throws -> X25519.PublicKey {
        do { return try X25519.PublicKey(rawRepresentation: Array(bytes)) } catch { throw NoiseError.invalidPublicKey() }
    }

    // MARK: shared steps

    /// ee, es, se, ss: MixKey(DH(…)). In "es" the initiator's ephemeral meets the responder's
    /// static, whichever side computes it (§7.1); likewise for "se".
    private mutating func mixDH(_ token: HandshakePattern.Token) throws {
        let initiator = role == .initiator
        let local: X25519.PrivateKey?
        let remote: X25519.PublicKey?
        switch token {
        case .ee: (local, remote) = (localEphemeral, remoteEphemeral)
        case .ss: (local, remote) = (localStatic, remoteStatic)
        case .es: (local, remote) = initiator ? (localEphemeral, remoteStatic) : (localStatic, remoteEphemeral)
        case .se: (local, remote) = initiator ? (localStatic, remoteEphemeral) : (localEphemeral, remoteStatic)
        case .e, .s: preconditionFailure("not a DH token")
        }
        // The pattern's token order guarantees both keys exist for valid patterns; a missing one
        // can only come from a malformed pattern, reported rather than trapped.
        guard let local, let remote else { throw NoiseError.missingKey("key for \(token)") }
        let shared: SecureBytes
        do { shared = try local.sharedSecret(with: remote) } catch { throw NoiseError.invalidPublicKey() }
        symmetric.mixKey(shared)
    }

    private mutating func advance(from index: Int) {
        let next = index + 1
        guard next == pattern.messages.count else {
            phase = .inProgress(messageIndex: next)
            return
        }
        let (c1, c2) = symmetric.split(nonceLimit: transportConfiguration.nonceLimit)
        let (send, receive) = role == .initiator ? (c1, c2) : (c2, c1)
        let transport = TransportCipher(sender: send, receiver: receive,
                                        allowsEmptyMessages: transportConfiguration.allowsEmptyMessages)
        phase = .complete(HandshakeResult(transport: transport, handshakeHash: symmetric.handshakeHash,
                                          remoteStaticKey: remoteStatic))
        localEphemeral = nil // forward secrecy: drop the ephemeral once it has served
    }
}
