import PaymeshCrypto
import PaymeshMessages
import PaymeshTestSupport
import Testing

/// Specs/vectors/htlc.json (made by eth-account, scripts/vectors/gen_htlc_vectors.py): the
/// `ConditionalVoucher` struct of messages.md §5.7 and the claim rule of §5.8.
@Suite("Specs/vectors/htlc.json")
struct ConditionalVoucherTests {
    struct File: Decodable { let vectors: [Vector] }
    struct Vector: Decodable {
        struct Domain: Decodable { let chainId: UInt64; let verifyingContract: String }
        struct Lock: Decodable { let htlc_id: String; let payment_hash: String; let amount: String; let expiry: UInt64 }
        struct Voucher: Decodable { let channel_id: String; let nonce: UInt64; let amount: String; let timestamp: UInt64; let locks: [Lock] }
        struct Signer: Decodable { let private_key: String; let address: String }
        struct Claim: Decodable { let description: String; let preimages: [String?]; let at: UInt64; let claimable: String }
        let description: String
        let domain: Domain
        let voucher: Voucher
        let type_hash, lock_type_hash, struct_hash, digest: String
        let signer: Signer
        let signature: String
        let claims: [Claim]
    }

    static func amount(_ s: String) throws -> Amount { Amount(try #require(UInt128(s))) }

    @Test func structHashDigestSignatureAndClaimsMatchEthAccount() throws {
        let file = try TestVectors.load(File.self, spec: "htlc.json")
        #expect(file.vectors.count >= 2)
        for v in file.vectors {
            let locks = try v.voucher.locks.map {
                HTLCLock(htlcID: try HTLCID(hex: $0.htlc_id), paymentHash: try Hash32(hex: $0.payment_hash),
                         amount: try Self.amount($0.amount), expiry: $0.expiry)
            }
            let voucher = ConditionalVoucher(channelID: try ChannelID(hex: v.voucher.channel_id), nonce: v.voucher.nonce,
                                             amount: try Self.amount(v.voucher.amount), timestamp: v.voucher.timestamp, locks: locks)
            let domain = SigningDomain(chainID: v.domain.chainId, verifyingContract: try EthereumAddress(try hexBytes(v.domain.verifyingContract)))
            #expect(ConditionalVoucher.eip712TypeHash.hexString == v.type_hash, "\(v.description)")
            #expect(HTLCLock.eip712TypeHash.hexString == v.lock_type_hash, "\(v.description)")
            #expect(voucher.structHash().hexString == v.struct_hash, "\(v.description)")
            #expect(voucher.signingDigest(domain: domain).hexString == v.digest, "\(v.description)")
            let key = IdentityKey(privateKey: try Secp256k1.PrivateKey(rawRepresentation: try hexBytes(v.signer.private_key)))
            #expect(key.address == (try EthereumAddress(try hexBytes(v.signer.address))))
            let signature = try voucher.sign(with: key, domain: domain, type: .htlcPropose)
            #expect(signature.bytes.hexString == v.signature, "\(v.description)")
            try voucher.verify(signature, payer: key.address, domain: domain, type: .htlcPropose)
            // Another domain, or a changed lock, no longer verifies (1101).
            var tampered = voucher
            tampered.locks[0].expiry += 1
            #expect(throws: MessageError.self) { try tampered.verify(signature, payer: key.address, domain: domain, type: .htlcPropose) }
            for c in v.claims {
                let preimages = try c.preimages.map { try $0.map { try Hash32(hex: $0) } }
                #expect(voucher.claimable(preimages: preimages, at: c.at) == UInt128(c.claimable)!, "\(v.description): \(c.description)")
            }
        }
    }

    @Test func locksAboveTheAmountClaimNothing() throws {
        let lock = HTLCLock(htlcID: try HTLCID(Array(repeating: 1, count: 16)), paymentHash: try Hash32(Array(repeating: 2, count: 32)),
                            amount: Amount(10), expiry: 5)
        let v = ConditionalVoucher(channelID: try ChannelID(Array(repeating: 3, count: 32)), nonce: 1, amount: Amount(9), timestamp: 0, locks: [lock])
        #expect(v.unconditionalAmount == nil)
        #expect(v.claimable(preimages: [nil], at: 0) == nil)
    }
}
