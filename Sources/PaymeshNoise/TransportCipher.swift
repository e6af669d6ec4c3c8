public import Foundation
public import NIOCore
import PaymeshCrypto

/// The two CipherStates after `Split()`: one to send, one to receive. Enforces the transport
/// limits: plaintext ≤ 65519 bytes and message ≤ 65535 (rev 34 §3), the nonce limit, and (in
/// paymesh/1) no empty plaintexts. Transport messages have empty associated data (rev 34 §5).
public struct TransportCipher: Sendable {
    /// Transport rules a handshake hands on to its cipher pair.
    public struct Configuration: Hashable, Sendable {
        /// Counters at or above this are refused (`NoiseError.nonceExhausted`).
        public var nonceLimit: UInt64
        /// paymesh/1 forbids zero-length transport plaintexts; plain Noise allows them.
        public var allowsEmptyMessages: Bool

        public init(nonceLimit: UInt64 = NoiseLimits.transportNonceLimit, allowsEmptyMessages: Bool = false) {
            precondition(nonceLimit <= NoiseLimits.reservedNonce)
            self.nonceLimit = nonceLimit
            self.allowsEmptyMessages = allowsEmptyMessages
        }

        /// paymesh/1: limit 2^62, no empty messages.
        public static let paymesh = Configuration()
        /// Noise rev 34 as written: every nonce but 2^64 − 1, empty messages allowed.
        public static let noise = Configuration(nonceLimit: NoiseLimits.reservedNonce, allowsEmptyMessages: true)
    }

    public private(set) var sender: CipherState
    public private(set) var receiver: CipherState
    public let allowsEmptyMessages: Bool

    public init(sender: CipherState, receiver: CipherState, allowsEmptyMessages: Bool) {
        precondition(sender.hasKey && receiver.hasKey, "transport ciphers need keys")
        self.sender = sender
        self.receiver = receiver
        self.allowsEmptyMessages = allowsEmptyMessages
    }

    /// Messages sent so far (the next send nonce).
    public var sendNonce: UInt64 { sender.nonce }
    public var receiveNonce: UInt64 { receiver.nonce }
    /// True when nothing more can be sent: the node must close the connection.
    public var isSendExhausted: Bool { sender.isExhausted }

    @inline(__always)
    private func checkPlaintext(_ count: Int) throws {
        if count == 0 && !allowsEmptyMessages { throw NoiseError.emptyMessage() }
        if count > NoiseLimits.maxPlaintextLength {
            throw NoiseError.messageTooLarge(length: count, maximum: NoiseLimits.maxPlaintextLength)
        }
    }

    @inline(__always)
    private func checkMessage(_ count: Int) throws {
        if count > NoiseLimits.maxMessageLength {
            throw NoiseError.messageTooLarge(length: count, maximum: NoiseLimits.maxMessageLength)
        }
        if count < NoiseLimits.tagLength {
            throw NoiseError.truncatedMessage(needed: NoiseLimits.tagLength, available: count)
        }
        if count == NoiseLimits.tagLength && !allowsEmptyMessages { throw NoiseError.emptyMessage() }
    }

    @inline(__always) private static var noAD: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: nil, count: 0) }

    // MARK: zero-allocation

    /// Encrypts `plaintext` into `output` (may alias; needs `plaintext.count + 16` bytes).
    @inline(__always)
    public mutating func encrypt(_ plaintext: UnsafeRawBufferPointer,
                                 into output: UnsafeMutableRawBufferPointer) throws -> Int {
        try checkPlaintext(plaintext.count)
        return try sender.encrypt(plaintext, into: output, ad: Self.noAD)
    }

    /// Verifies and decrypts one Noise message into `output` (may alias). Returns plaintext length.
    @inline(__always)
    public mutating func decrypt(_ message: UnsafeRawBufferPointer,
                                 into output: UnsafeMutableRawBufferPointer) throws -> Int {
        try checkMessage(message.count)
        return try receiver.decrypt(message, into: output, ad: Self.noAD)
    }

    /// Appends the wire form `u16 BE length ‖ ciphertext ‖ tag` of `plaintext` to `buffer`.
    /// Nothing is written when it throws.
    public mutating func encryptFrame(_ plaintext: UnsafeRawBufferPointer, appendingTo buffer: inout ByteBuffer) throws {
        try checkPlaintext(plaintext.count)
        let messageLength = plaintext.count + NoiseLimits.tagLength
        let frameLength = NoiseFraming.lengthPrefixSize + messageLength
        _ = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: frameLength) { out in
            _ = try sender.encrypt(plaintext,
                                   into: UnsafeMutableRawBufferPointer(rebasing: out[NoiseFraming.lengthPrefixSize...]),
                                   ad: Self.noAD)
            out.storeBytes(of: UInt16(messageLength).bigEndian, as: UInt16.self)
            return frameLength
        }
    }

    /// `encryptFrame` for the readable bytes of a ByteBuffer.
    public mutating func encryptFrame(_ plaintext: ByteBuffer, appendingTo buffer: inout ByteBuffer) throws {
        try plaintext.withUnsafeReadableBytes { try encryptFrame($0, appendingTo: &buffer) }
    }

    /// Decrypts one Noise message (e.g. from `NoiseFrameDecoder`) and appends the plaintext to
    /// `output`. Returns the plaintext length; nothing is appended when it throws.
    @discardableResult
    public mutating func decrypt(_ message: ByteBuffer, appendingTo output: inout ByteBuffer) throws -> Int {
        try message.withUnsafeReadableBytes { m in
            try checkMessage(m.count)
            return try output.writeWithUnsafeMutableBytes(minimumWritableBytes: m.count - NoiseLimits.tagLength) { out in
                try receiver.decrypt(m, into: out, ad: Self.noAD)
            }
        }
    }

    // MARK: arrays (tests, vectors)

    public mutating func encrypt(_ plaintext: some ContiguousBytes) throws -> [UInt8] {
        try plaintext.withUnsafeBytes { p in
            try checkPlaintext(p.count)
            var out = [UInt8](repeating: 0, count: p.count + NoiseLimits.tagLength)
            _ = try out.withUnsafeMutableBytes { try sender.encrypt(p, into: $0, ad: Self.noAD) }
            return out
        }
    }

    public mutating func decrypt(_ message: some ContiguousBytes) throws -> [UInt8] {
        try message.withUnsafeBytes { m in
            try checkMessage(m.count)
            var out = [UInt8](repeating: 0, count: m.count - NoiseLimits.tagLength)
            _ = try out.withUnsafeMutableBytes { try receiver.decrypt(m, into: $0, ad: Self.noAD) }
            return out
        }
    }
}
