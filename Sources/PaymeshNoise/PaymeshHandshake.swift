public import NIOCore
public import PaymeshCrypto

/// Who the peer proved to be during the handshake.
public struct AuthenticatedPeer: Hashable, Sendable {
    /// The peer id: the Ethereum address of its identity key.
    public let address: EthereumAddress
    /// Its Noise static key, bound to `address` by the identity proof.
    public let noiseStaticKey: X25519.PublicKey
    /// Features it advertised.
    public let features: [String]

    /// A peer authenticated by other means than this handshake (an in-memory test transport).
    public init(address: EthereumAddress, noiseStaticKey: X25519.PublicKey, features: [String]) {
        self.address = address
        self.noiseStaticKey = noiseStaticKey
        self.features = features
    }
}

/// The result of a completed handshake: the peer and the transport cipher pair.
public struct EstablishedSession: Sendable {
    public let peer: AuthenticatedPeer
    public var transport: TransportCipher
    public let handshakeHash: [UInt8]
}

/// This node's side of every handshake: the identity, the Noise static key and the proof that
/// binds them, signed once and reused for every connection.
public struct LocalIdentity: Sendable {
    public let address: EthereumAddress
    public let staticKey: X25519.PrivateKey
    public let proof: IdentityProof
    let encodedProof: [UInt8]

    public init(identity: IdentityKey, staticKey: X25519.PrivateKey = X25519.PrivateKey(), features: [String]) throws {
        self.address = identity.address
        self.staticKey = staticKey
        self.proof = try IdentityProof.make(identity: identity, noiseStatic: staticKey.publicKey, features: features)
        self.encodedProof = try proof.encoded()
    }
}

/// The Paymesh handshake (Specs/transport.md): Noise_XX_25519_ChaChaPoly_SHA256, prologue
/// `paymesh/1`, an empty first message and an identity proof in messages 2 and 3. Sans-IO:
/// feed it whole Noise messages (the 2-byte length prefix is removed by `NoiseFrameDecoder`),
/// send what it returns.
public struct PaymeshHandshake: Sendable {
    /// transport.md §3: the prologue is the 9 ASCII bytes `paymesh/1`.
    public static let prologue: [UInt8] = Array("paymesh/1".utf8)

    /// What to do after a message: send `reply` (if any); the session is `established` (if any).
    public struct Output: Sendable {
        public var reply: [UInt8]?
        public var established: EstablishedSession?
    }

    public let role: NoiseRole
    private var state: HandshakeState
    private let local: LocalIdentity
    private let expectedPeer: EthereumAddress?
    private var started = false

    /// - Parameter expectedPeer: for a dialer that knows whom it dials; any other identity fails.
    public init(role: NoiseRole, local: LocalIdentity, expectedPeer: EthereumAddress? = nil,
                ephemeral: X25519.PrivateKey? = nil) throws {
        self.role = role
        self.local = local
        self.expectedPeer = expectedPeer
        self.state = try HandshakeState(pattern: .xx, role: role, prologue: Self.prologue,
                                        localStatic: local.staticKey, localEphemeral: ephemeral)
    }

    /// transport.md §6: the largest message the peer may send next (message 1 is exactly 32
    /// bytes; message 2 at most 32 + 48 + 1024 + 16; message 3 at most 48 + 1024 + 16). A frame
    /// decoder set to this rejects oversize handshake messages from the length prefix alone.
    public var maximumIncomingMessageLength: Int {
        let proof = IdentityProof.maxEncodedLength, tag = NoiseLimits.tagLength, dh = NoiseLimits.dhLength
        switch (role, started) {
        case (.responder, false): return dh
        case (.initiator, _): return dh + (dh + tag) + proof + tag
        case (.responder, true): return (dh + tag) + proof + tag
        }
    }

    /// The initiator's first message (→ e, empty payload); nil for the responder.
    public mutating func start() throws -> [UInt8]? {
        guard !started else { throw NoiseError.unexpectedMessage("handshake already started") }
        started = true
        guard role == .initiator else { return nil }
        return try state.writeMessage([UInt8]())
    }

    /// Processes the peer's next handshake message.
    public mutating func receive(_ message: ByteBuffer) throws -> Output {
        try receive(Array(message.readableBytesView))
    }

    public mutating func receive(_ message: [UInt8]) throws -> Output {
        if !started {
            // The responder starts by reading; the initiator must have written message 1.
            guard role == .responder else { throw NoiseError.unexpectedMessage("initiator has not sent message 1") }
            started = true
        }
        let payload = try state.readMessage(message)
        switch (role, state.isComplete) {
        case (.responder, false):
            // Message 1: transport.md §4 says its payload is empty.
            guard payload.isEmpty else { throw NoiseError.unexpectedMessage("message 1 carries a payload") }
            return Output(reply: try state.writeMessage(local.encodedProof), established: nil)
        case (.initiator, false):
            // Message 2: the responder's proof; answer with message 3 and finish.
            let peer = try authenticate(payload)
            let reply = try state.writeMessage(local.encodedProof)
            return Output(reply: reply, established: try established(peer))
        case (.responder, true):
            // Message 3: the initiator's proof.
            let peer = try authenticate(payload)
            return Output(reply: nil, established: try established(peer))
        case (.initiator, true):
            throw NoiseError.handshakeAlreadyComplete()
        }
    }

    private func authenticate(_ payload: [UInt8]) throws -> AuthenticatedPeer {
        guard let remoteStatic = state.remoteStaticKey else { throw NoiseError.missingKey("remote static") }
        let proof = try IdentityProof(decoding: payload)
        try proof.verify(noiseStatic: remoteStatic)
        if proof.address == local.address { throw NoiseError.selfConnection() }
        if let expectedPeer, expectedPeer != proof.address {
            throw NoiseError.unexpectedPeer(expected: expectedPeer.description, actual: proof.address.description)
        }
        return AuthenticatedPeer(address: proof.address, noiseStaticKey: remoteStatic, features: proof.features)
    }

    private func established(_ peer: AuthenticatedPeer) throws -> EstablishedSession {
        let result = try state.result()
        return EstablishedSession(peer: peer, transport: result.transport, handshakeHash: result.handshakeHash)
    }
}
