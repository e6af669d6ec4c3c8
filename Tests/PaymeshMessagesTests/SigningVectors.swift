import PaymeshCrypto
import PaymeshMessages
import PaymeshTestSupport
import Testing

/// Specs/vectors/signatures.json (made by scripts/vectors/gen_signature_vectors.py with eth-account).
struct SignatureVectorFile: Decodable {
    struct Domain: Decodable {
        let name: String
        let version: String
        let chainId: UInt64?
        let verifyingContract: String?
    }
    struct Signer: Decodable {
        let role: String
        let private_key: String
        let address: String
        let signature: String
    }
    struct Vector: Decodable {
        let description: String
        let `struct`: String
        let domain: Domain
        let fields: [String: JSONValue]
        let type_hash: String
        let domain_separator: String
        let struct_hash: String
        let digest: String
        let signatures: [Signer]
    }
    let vectors: [Vector]

    static func load() throws -> SignatureVectorFile {
        try TestVectors.load(SignatureVectorFile.self, spec: "signatures.json")
    }
}

extension SignatureVectorFile.Vector {
    var messageType: MessageType? {
        switch self.struct {
        case "ChannelOpen": .paymentOpen
        case "Voucher": .paymentUpdate
        case "ChannelClose": .paymentClose
        case "ChannelAnnouncement": .channelAnnounce
        default: nil
        }
    }

    func signingDomain() throws -> SigningDomain {
        guard let chainID = domain.chainId else {
            #expect(domain.verifyingContract == nil)
            return .announcement
        }
        let contract = try EthereumAddress(hex: try #require(domain.verifyingContract))
        return SigningDomain(chainID: chainID, verifyingContract: contract)
    }

    /// The message with the vector's signatures in their wire fields.
    func signedMessage() throws -> Message {
        var fields = fields
        for s in signatures { fields[s.role] = .string(s.signature) }
        return try Message(type: try #require(messageType), fields: try msgpackFields(fields))
    }

    func key(_ role: String) throws -> IdentityKey {
        let signer = try #require(signatures.first { $0.role == role }, "no signer \(role)")
        let key = IdentityKey(privateKey: try Secp256k1.PrivateKey(rawRepresentation: try hexBytes(signer.private_key)))
        #expect(try key.address.rawRepresentation == hexBytes(signer.address), "\(description)")
        return key
    }
}

/// Runs `body` and expects it to throw MessageError with `code` (1101 unless told).
func expectMessageError(_ what: @autoclosure () -> String, code: PaymeshErrorCode = .invalidSignature,
                        sourceLocation: SourceLocation = #_sourceLocation,
                        _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected \(code), nothing thrown: \(what())", sourceLocation: sourceLocation)
    } catch let error as MessageError {
        #expect(error.code == code, "\(what()): \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected MessageError \(code), got \(error): \(what())", sourceLocation: sourceLocation)
    }
}
