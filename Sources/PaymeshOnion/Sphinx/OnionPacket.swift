public import PaymeshCrypto

/// A Sphinx onion packet (Specs/onion.md §2, BOLT 4 "Packet Structure"):
/// version(1) ‖ ephemeral public key(33) ‖ hop payloads(1300) ‖ HMAC(32) = 1366 bytes.
public struct OnionPacket: Sendable, Hashable {
    public let version: UInt8
    public let ephemeralKey: Secp256k1.PublicKey
    /// Exactly `OnionLimits.hopPayloadsLength` bytes of ciphertext.
    public let hopPayloads: [UInt8]
    /// Exactly `OnionLimits.hmacLength` bytes.
    public let hmac: [UInt8]

    init(ephemeralKey: Secp256k1.PublicKey, hopPayloads: [UInt8], hmac: [UInt8]) {
        precondition(hopPayloads.count == OnionLimits.hopPayloadsLength && hmac.count == OnionLimits.hmacLength)
        self.version = OnionLimits.version
        self.ephemeralKey = ephemeralKey
        self.hopPayloads = hopPayloads
        self.hmac = hmac
    }

    /// Parses the 1366 bytes: wrong length, unknown version or an ephemeral key that is not a
    /// point on the curve throw (checked in that order; the HMAC is checked by `peel`).
    public init(bytes: some Collection<UInt8>) throws(OnionError) {
        let raw = Array(bytes)
        guard raw.count == OnionLimits.packetLength else { throw .wrongPacketLength(raw.count) }
        guard raw[0] == OnionLimits.version else { throw .unknownVersion(raw[0]) }
        let keyEnd = 1 + OnionLimits.ephemeralKeyLength
        let payloadsEnd = keyEnd + OnionLimits.hopPayloadsLength
        let key = raw[1..<keyEnd]
        guard key.first == 0x02 || key.first == 0x03,
              let point = try? Secp256k1.PublicKey(serialized: Array(key)) else { throw .invalidEphemeralKey() }
        self.init(ephemeralKey: point, hopPayloads: Array(raw[keyEnd..<payloadsEnd]), hmac: Array(raw[payloadsEnd...]))
    }

    /// The 1366-byte wire form.
    public var bytes: [UInt8] { [version] + ephemeralKey.compressedRepresentation + hopPayloads + hmac }
}
