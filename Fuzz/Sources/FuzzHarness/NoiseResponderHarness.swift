// Symlinked into Tests/PaymeshNoiseTests/FuzzHarness/.
import NIOCore
import PaymeshCrypto
import PaymeshNoise

/// FuzzNoiseResponder: the responder side of the paymesh/1 handshake (`PaymeshHandshake`,
/// `NoiseFrameDecoder`, `TransportCipher`, Specs/transport.md) against hostile bytes.
///
/// Keys are the fixed ones of Specs/vectors/handshake.json (both ephemerals included), so every
/// run is deterministic and the vector's own messages 1 and 3 complete a handshake. Modes
/// (low two bits of the `FuzzInput` header):
/// - 0: the payload is the TCP byte stream from the initiator, in the input's chunks;
/// - 1: a real initiator's message 1, then the payload (bit 2 also sends its real message 3
///   first, so the payload lands on the established transport);
/// - 2: a real initiator whose message 3 carries the payload as its identity proof;
/// - 3: an established session: the payload's chunks are plaintexts sent in turn by each side
///   and decrypted by the other (bit 2 flips one ciphertext bit, which must be caught).
///
/// Invariants: every error is a `NoiseError`; the frame decoder yields 1…65535-byte messages
/// and repeats its error; after an error the handshake never completes; a completed handshake
/// authenticates exactly the initiator's identity and static key; transport decryption returns
/// what was encrypted and rejects any tampering.
public enum NoiseResponderHarness {
    public struct Outcome: Equatable {
        public var messages = 0
        public var established = false
        public var transportMessages = 0
        public var error: NoiseError?
    }

    // Specs/vectors/handshake.json.
    static let initiatorKeys = (identity: "c1ddf99b5cdeccb445de289cc80b03e2fc3be1e8709ce6feb5d15d6cfbc2caf6",
                                noiseStatic: "7b9c1c4976bf3cc086ab2d3516c4107b35a3997591f0512c17bd4445806693f5",
                                ephemeral: "5553fd2c7e6d3dda4d3b0bb58797c22017b0bbcd25f082dd747b821b689613e0",
                                features: ["payments/1"])
    static let responderKeys = (identity: "503865c3726141bedcadd5cbe54f232fbada3a7de6e8691ff39794322d76e74e",
                                noiseStatic: "e50b02fa596a536c74d3c2940c031d01fcafdfd4c387c82740b3ee9f01987553",
                                ephemeral: "c164cf22003455ca2e3b84d814ce7dba415a893cfea5eaf46186301c8528d262",
                                features: ["payments/1", "gossip/1"])

    /// Everything that does not depend on the input, computed once.
    struct Fixture: Sendable {
        let initiator: LocalIdentity
        let responder: LocalIdentity
        let responderEphemeral: X25519.PrivateKey
        let message1: [UInt8]
        let message3: [UInt8]
        /// Raw Noise initiator that has read message 2: writes message 3 with any payload.
        let initiatorBeforeMessage3: HandshakeState
        /// The responder after message 1, waiting for message 3.
        let responderAfterMessage1: PaymeshHandshake
        /// Both ends of an established session (initiator, responder).
        let transports: (TransportCipher, TransportCipher)

        init() throws {
            func key(_ hex: String) -> [UInt8] { [UInt8](hex: hex)! }
            initiator = try LocalIdentity(
                identity: IdentityKey(privateKey: Secp256k1.PrivateKey(rawRepresentation: key(initiatorKeys.identity))),
                staticKey: X25519.PrivateKey(rawRepresentation: key(initiatorKeys.noiseStatic)),
                features: initiatorKeys.features)
            responder = try LocalIdentity(
                identity: IdentityKey(privateKey: Secp256k1.PrivateKey(rawRepresentation: key(responderKeys.identity))),
                staticKey: X25519.PrivateKey(rawRepresentation: key(responderKeys.noiseStatic)),
                features: responderKeys.features)
            responderEphemeral = try X25519.PrivateKey(rawRepresentation: key(responderKeys.ephemeral))
            let initiatorEphemeral = try X25519.PrivateKey(rawRepresentation: key(initiatorKeys.ephemeral))

            var dialer = try PaymeshHandshake(role: .initiator, local: initiator, ephemeral: initiatorEphemeral)
            message1 = try dialer.start()!
            var listener = try PaymeshHandshake(role: .responder, local: responder, ephemeral: responderEphemeral)
            let message2 = try listener.receive(message1).reply!
            responderAfterMessage1 = listener
            let out = try dialer.receive(message2)
            message3 = out.reply!
            let done = try listener.receive(message3)
            transports = (out.established!.transport, done.established!.transport)

            var raw = try HandshakeState(pattern: .xx, role: .initiator, prologue: PaymeshHandshake.prologue,
                                         localStatic: initiator.staticKey, localEphemeral: initiatorEphemeral)
            _ = try raw.writeMessage([UInt8]())
            _ = try raw.readMessage(message2)
            initiatorBeforeMessage3 = raw
        }
    }

    static let fixture: Fixture = {
        do { return try Fixture() } catch { fatalError("NoiseResponderHarness fixture: \(error)") }
    }()

    public static func run(_ data: [UInt8]) throws(FuzzViolation) -> Outcome {
        let input = FuzzInput(data)
        let f = fixture
        switch input.mode & 3 {
        case 0:
            return try stream(input.chunks, input: input)
        case 1:
            var prefix = frame(f.message1)
            if input.mode & 4 != 0 { prefix += frame(f.message3) }
            return try stream([prefix[...]] + input.chunks, input: input)
        case 2:
            return try proof(input.payload)
        default:
            return try transport(input)
        }
    }

    static func frame(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xff)] + message
    }

    /// A fresh responder with the fixed keys.
    static func responder() throws(FuzzViolation) -> PaymeshHandshake {
        do {
            return try PaymeshHandshake(role: .responder, local: fixture.responder, ephemeral: fixture.responderEphemeral)
        } catch {
            throw FuzzViolation("responder init: \(error)")
        }
    }

    /// Modes 0 and 1: bytes → NoiseFrameDecoder → handshake, then transport decryption.
    static func stream(_ chunks: [ArraySlice<UInt8>], input: FuzzInput) throws(FuzzViolation) -> Outcome {
        var decoder = NoiseFrameDecoder()
        var handshake = try responder()
        var session: EstablishedSession?
        var outcome = Outcome()
        for chunk in chunks {
            decoder.append(contentsOf: chunk)
            while true {
                let message: ByteBuffer
                do {
                    guard let m = try decoder.nextMessage() else { break }
                    message = m
                } catch {
                    let e = try noiseError(error, "frame decoder")
                    try fuzzRequire(e.isBadFrameLength || e.isMessageTooLarge, "frame decoder threw \(e)")
                    do {
                        _ = try decoder.nextMessage()
                        throw FuzzViolation("frame decoder recovered after \(e)")
                    } catch {
                        try fuzzRequire(try noiseError(error, "frame decoder") == e, "frame decoder did not repeat \(e): \(error)")
                    }
                    outcome.error = e
                    return outcome
                }
                try fuzzRequire((1...NoiseLimits.maxMessageLength).contains(message.readableBytes),
                                "frame decoder yielded \(message.readableBytes) bytes")
                outcome.messages += 1
                if var established = session {
                    var plaintext = ByteBuffer()
                    do {
                        let n = try established.transport.decrypt(message, appendingTo: &plaintext)
                        try fuzzRequire(n == message.readableBytes - NoiseLimits.tagLength && n == plaintext.readableBytes && n > 0,
                                        "decrypted \(n) bytes from \(message.readableBytes)")
                        outcome.transportMessages += 1
                        session = established
                    } catch let violation as FuzzViolation {
                        throw violation
                    } catch {
                        outcome.error = try noiseError(error, "transport decrypt")
                        return outcome
                    }
                    continue
                }
                do {
                    let out = try handshake.receive(message)
                    if let established = out.established {
                        try checkPeer(established.peer)
                        try fuzzRequire(out.reply == nil, "the responder replies to message 3")
                        session = established
                        outcome.established = true
                    } else {
                        try fuzzRequire(out.reply != nil, "the responder neither replied nor completed")
                    }
                } catch let violation as FuzzViolation {
                    throw violation
                } catch {
                    outcome.error = try noiseError(error, "handshake")
                    try checkDead(&handshake)
                    return outcome
                }
            }
        }
        return outcome
    }

    /// Mode 2: a genuine initiator sends `payload` as its identity proof in message 3.
    static func proof(_ payload: [UInt8]) throws(FuzzViolation) -> Outcome {
        var initiator = fixture.initiatorBeforeMessage3
        var handshake = fixture.responderAfterMessage1
        var outcome = Outcome(messages: 1)
        let message3: [UInt8]
        do {
            message3 = try initiator.writeMessage(Array(payload.prefix(NoiseLimits.maxMessageLength - 80)))
        } catch {
            throw FuzzViolation("initiator could not write message 3: \(error)")
        }
        do {
            let out = try handshake.receive(message3)
            outcome.messages += 1
            guard let established = out.established else { throw FuzzViolation("message 3 accepted without completing") }
            try checkPeer(established.peer)
            outcome.established = true
        } catch let violation as FuzzViolation {
            throw violation
        } catch {
            let e = try noiseError(error, "proof")
            try fuzzRequire(e.isInvalidIdentityProof, "a bad proof gave \(e), not invalidIdentityProof")
            outcome.error = e
            try checkDead(&handshake)
        }
        return outcome
    }

    /// Mode 3: plaintexts over an established session, alternating directions.
    static func transport(_ input: FuzzInput) throws(FuzzViolation) -> Outcome {
        var (initiator, responder) = fixture.transports
        var outcome = Outcome(messages: 3, established: true)
        let tamper = input.mode & 4 != 0
        for (i, chunk) in input.chunks.enumerated() {
            let plaintext = Array(chunk)
            let fromInitiator = i % 2 == 0
            if plaintext.count > NoiseLimits.maxPlaintextLength {
                do {
                    _ = try initiator.encrypt(plaintext)
                    throw FuzzViolation("encrypted a plaintext of \(plaintext.count) bytes")
                } catch {
                    let e = try noiseError(error, "encrypt")
                    try fuzzRequire(e.isMessageTooLarge, "oversized plaintext: \(e)")
                }
                continue
            }
            var ciphertext: [UInt8]
            do {
                ciphertext = fromInitiator ? try initiator.encrypt(plaintext) : try responder.encrypt(plaintext)
            } catch {
                throw FuzzViolation("encrypting \(plaintext.count) bytes failed: \(error)")
            }
            try fuzzRequire(ciphertext.count == plaintext.count + NoiseLimits.tagLength, "ciphertext of \(ciphertext.count) bytes")
            if tamper {
                let bit = Int(plaintext[0]) * 131 % (ciphertext.count * 8)
                ciphertext[bit / 8] ^= UInt8(1 << (bit % 8))
            }
            var output = ByteBuffer()
            do {
                let message = ByteBuffer(bytes: ciphertext)
                if fromInitiator {
                    try responder.decrypt(message, appendingTo: &output)
                } else {
                    try initiator.decrypt(message, appendingTo: &output)
                }
            } catch {
                let e = try noiseError(error, "transport")
                try fuzzRequire(tamper && e.isDecryptFailure, "decrypt threw \(e)")
                outcome.error = e
                return outcome
            }
            try fuzzRequire(!tamper, "a flipped ciphertext bit went unnoticed")
            try fuzzRequire(output.readableBytesView.elementsEqual(plaintext), "decrypt returned other bytes")
            outcome.transportMessages += 1
        }
        // Zero-length plaintexts are refused on both sides (transport.md).
        do {
            _ = try initiator.encrypt([UInt8]())
            throw FuzzViolation("an empty plaintext was encrypted")
        } catch let violation as FuzzViolation {
            throw violation
        } catch {
            try fuzzRequire((error as? NoiseError) == .emptyMessage(), "empty plaintext: \(error)")
        }
        return outcome
    }

    /// Every error out of PaymeshNoise must be a NoiseError.
    static func noiseError(_ error: any Error, _ what: String) throws(FuzzViolation) -> NoiseError {
        if let violation = error as? FuzzViolation { throw violation }
        guard let e = error as? NoiseError else { throw FuzzViolation("\(what) threw a \(type(of: error)): \(error)") }
        return e
    }

    /// After an error the handshake never accepts anything again.
    static func checkDead(_ handshake: inout PaymeshHandshake) throws(FuzzViolation) {
        for message in [fixture.message1, fixture.message3] {
            do {
                _ = try handshake.receive(message)
                throw FuzzViolation("the handshake accepted a message after failing")
            } catch let violation as FuzzViolation {
                throw violation
            } catch {
                _ = try noiseError(error, "failed handshake")
            }
        }
    }

    /// Only the initiator's genuine identity can complete a handshake.
    static func checkPeer(_ peer: AuthenticatedPeer) throws(FuzzViolation) {
        try fuzzRequire(peer.address == fixture.initiator.address, "authenticated \(peer.address), not the initiator")
        try fuzzRequire(peer.noiseStaticKey == fixture.initiator.staticKey.publicKey, "authenticated another static key")
        try fuzzRequire(peer.features.count <= IdentityProof.maxFeatures, "\(peer.features.count) features")
    }
}
