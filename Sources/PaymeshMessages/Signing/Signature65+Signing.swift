import PaymeshCrypto

extension Signature65 {
    /// A well-formed placeholder (r = s = 1, v = 27) for a message that is about to be signed with
    /// `signed(with:…)`. It verifies for no known key; never send it.
    public static let unsigned: Signature65 = {
        var raw = [UInt8](repeating: 0, count: byteCount)
        raw[31] = 1
        raw[63] = 1
        raw[64] = 27
        do { return try Signature65(raw) } catch { preconditionFailure("placeholder signature is well-formed") }
    }()

    /// Signs a 32-byte digest with `key` (RFC 6979, low s, v ∈ {27, 28}).
    static func sign(digest: [UInt8], with key: IdentityKey, type: MessageType) throws(MessageError) -> Signature65 {
        let raw: [UInt8]
        do { raw = try key.sign(digest32: digest) } catch {
            throw MessageError(code: .internalError, detail: "\(type.name): signing failed", refType: type.rawValue)
        }
        return try Signature65(raw)
    }

    /// The address whose key made this signature of `digest`; 1101 when none does.
    func recoverSigner(digest: [UInt8], type: MessageType, field: String) throws(MessageError) -> EthereumAddress {
        do { return try EthereumAddress.recover(digest32: digest, signature65: bytes) } catch {
            throw .invalidSignature("\(type.name): \(field) recovers no public key", type: type)
        }
    }

    /// Throws 1101 unless this signature of `digest` was made by `expected`.
    func verify(digest: [UInt8], expected: EthereumAddress, type: MessageType, field: String, role: String) throws(MessageError) {
        let signer = try recoverSigner(digest: digest, type: type, field: field)
        guard expected == signer else {
            throw .invalidSignature("\(type.name): \(field) is not by the \(role)", type: type)
        }
    }
}
