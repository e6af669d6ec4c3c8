import PaymeshCrypto
import PaymeshMessages
import Testing

/// Specs/vectors/signatures.json: eth-account's digests and RFC 6979 signatures, byte for byte.
@Suite("Specs/vectors/signatures.json")
struct SigningVectorTests {
    let file: SignatureVectorFile

    init() throws { file = try SignatureVectorFile.load() }

    @Test func coversEveryStructAndDomainVariant() throws {
        #expect(Set(file.vectors.map(\.struct)) == ["ChannelOpen", "Voucher", "ChannelClose", "ChannelAnnouncement"])
        let chains = Set(file.vectors.compactMap(\.domain.chainId))
        #expect(chains.isSuperset(of: [0, 1, 84532]))
        let contracts = Set(file.vectors.compactMap(\.domain.verifyingContract))
        #expect(contracts.contains(String(repeating: "0", count: 40)) && contracts.count >= 2)
        let vouchers = file.vectors.filter { $0.struct == "Voucher" }
        #expect(vouchers.contains { $0.fields["task_id"] == nil } && vouchers.contains { $0.fields["task_id"] != nil })
        #expect(file.vectors.contains { $0.signatures.contains { $0.role == "counter_signature" } })
    }

    @Test func domainSeparatorsMatchAndEqualTheGenericEncoder() throws {
        for v in file.vectors {
            let domain = try v.signingDomain()
            #expect(try domain.separator == hexBytes(v.domain_separator), "\(v.description)")
            #expect(try domain.eip712Domain.separator() == domain.separator, "\(v.description)")
            #expect(v.domain.name == SigningDomain.name && v.domain.version == SigningDomain.version)
        }
    }

    @Test func typeHashesStructHashesAndDigestsMatch() throws {
        for v in file.vectors {
            let domain = try v.signingDomain()
            let (typeHash, structType, message, structHash, digest) = try Self.hashes(of: try v.signedMessage(), domain)
            #expect(try typeHash == hexBytes(v.type_hash), "\(v.description)")
            #expect(try structType.typeHash() == typeHash, "\(v.description)")
            #expect(structType.name == v.struct)
            #expect(try structHash == hexBytes(v.struct_hash), "\(v.description)")
            #expect(try structType.hashStruct(message) == structHash, "generic encoder: \(v.description)")
            #expect(try digest == hexBytes(v.digest), "\(v.description)")
            let typed = EIP712.TypedData(domain: domain.eip712Domain, primaryType: structType, message: message)
            #expect(try typed.digest() == digest, "generic digest: \(v.description)")
        }
    }

    /// Signing the unsigned message with the vector's keys reproduces the whole signed message.
    @Test func signingReproducesEthAccountSignatures() throws {
        for v in file.vectors {
            let domain = try v.signingDomain()
            let expected = try v.signedMessage()
            let produced: Message
            switch expected {
            case .paymentOpen(let m):
                var unsigned = m
                unsigned.signature = .unsigned
                #expect(unsigned.signingDomain == domain)
                produced = .paymentOpen(try unsigned.signed(with: try v.key("signature")))
            case .paymentUpdate(let m):
                var unsigned = m
                unsigned.signature = .unsigned
                produced = .paymentUpdate(try unsigned.signed(with: try v.key("signature"), domain: domain))
            case .paymentClose(let m):
                var unsigned = m
                unsigned.signature = .unsigned
                unsigned.counterSignature = nil
                if m.counterSignature != nil {
                    // The cooperative flow of §4.3: the counterparty signs first, the closer answers.
                    let first = try unsigned.signed(with: try v.key("counter_signature"), domain: domain)
                    produced = .paymentClose(try first.countersigned(with: try v.key("signature"), domain: domain))
                } else {
                    produced = .paymentClose(try unsigned.signed(with: try v.key("signature"), domain: domain))
                }
            case .channelAnnounce(let m):
                var unsigned = m
                unsigned.signatureA = .unsigned
                unsigned.signatureB = .unsigned
                produced = .channelAnnounce(try unsigned.signed(with: try v.key("signature_b"))
                    .signed(with: try v.key("signature_a")))
            default:
                Issue.record("unexpected message in \(v.description)")
                continue
            }
            #expect(produced == expected, "\(v.description)")
        }
    }

    @Test func signaturesRecoverAndVerify() throws {
        for v in file.vectors {
            let domain = try v.signingDomain()
            let address = { (role: String) throws -> EthereumAddress in try v.key(role).address }
            switch try v.signedMessage() {
            case .paymentOpen(let m):
                #expect(try m.recoverSigner() == (try address("signature")))
                try m.verify()
            case .paymentUpdate(let m):
                #expect(try m.recoverSigner(domain: domain) == (try address("signature")))
                try m.verify(expectedSigner: try address("signature"), domain: domain)
            case .paymentClose(let m):
                let closer = try address("signature")
                #expect(try m.recoverSigner(domain: domain) == closer)
                let counter = m.counterSignature == nil ? nil : try address("counter_signature")
                #expect(try m.recoverCounterSigner(domain: domain) == counter)
                try m.verify(closer: closer, counterparty: counter ?? EthereumAddress.zero, domain: domain)
            case .channelAnnounce(let m):
                let signers = try m.recoverSigners()
                #expect(try signers.a == address("signature_a") && signers.b == (try address("signature_b")))
                try m.verify()
            default:
                Issue.record("unexpected message in \(v.description)")
            }
        }
    }

    /// Changing any one signed field, or the domain, makes verification fail with 1101.
    @Test func tamperingAnySignedFieldFailsWith1101() throws {
        let otherChannel = try ChannelID([UInt8](repeating: 0xee, count: 32))
        let otherAddress = try EthereumAddress([UInt8](repeating: 0x77, count: 20))
        for v in file.vectors {
            let domain = try v.signingDomain()
            let vectorDomain = domain
            let d = v.description
            switch try v.signedMessage() {
            case .paymentOpen(let m):
                func check(_ what: String, _ change: (inout PaymentOpen) throws -> Void) throws {
                    var t = m
                    try change(&t)
                    expectMessageError("open \(what): \(d)") { try t.verify() }
                }
                try check("channel id") { $0.channelID = otherChannel }
                try check("receiver") { $0.receiver = otherAddress }
                try check("sender") { $0.sender = otherAddress }
                try check("asset") { $0.asset = try Asset(id: "USDT", decimals: $0.asset.decimals) }
                try check("decimals") { $0.asset = try Asset(id: $0.asset.id, decimals: $0.asset.decimals == 0 ? 1 : $0.asset.decimals - 1) }
                try check("deposit") { $0.totalDeposit = Amount($0.totalDeposit.atomicUnits ^ 1) }
                try check("challenge period") { $0.challengePeriodSeconds ^= 1 }
                try check("settlement") { $0.settlement += "x" }
                try check("chain id") { $0.chainID ^= 1 }
                try check("verifying contract") { $0.verifyingContract = otherAddress }
                try check("nonce") { $0.nonce ^= 1 }
                try check("timestamp") { $0.timestamp ^= 1 }
            case .paymentUpdate(let m):
                let payer = try v.key("signature").address
                func check(_ what: String, domain: SigningDomain? = nil, _ change: (inout PaymentUpdate) -> Void) {
                    var t = m
                    change(&t)
                    expectMessageError("voucher \(what): \(d)") { try t.verify(expectedSigner: payer, domain: domain ?? vectorDomain) }
                }
                check("channel id") { $0.channelID = otherChannel }
                check("nonce") { $0.nonce ^= 1 }
                check("amount") { $0.amount = Amount($0.amount.atomicUnits ^ 1) }
                check("amount high bit") { $0.amount = Amount($0.amount.atomicUnits ^ (1 << 127)) }
                check("timestamp") { $0.timestamp ^= 1 }
                check("task id") { $0.taskID = $0.taskID == nil ? "task" : nil }
                check("task id text") { $0.taskID = ($0.taskID ?? "") + "!" }
                check("chain id", domain: SigningDomain(chainID: domain.chainID! ^ 1, verifyingContract: domain.verifyingContract!)) { _ in }
                check("chain id 84532↔1", domain: SigningDomain(chainID: domain.chainID == 1 ? 84532 : 1,
                                                               verifyingContract: domain.verifyingContract!)) { _ in }
                check("verifying contract", domain: SigningDomain(chainID: domain.chainID!, verifyingContract: otherAddress)) { _ in }
                check("announcement domain", domain: .announcement) { _ in }
                expectMessageError("wrong expected signer: \(d)") { try m.verify(expectedSigner: otherAddress, domain: domain) }
            case .paymentClose(let m):
                let closer = try v.key("signature").address
                let counter = try m.counterSignature == nil ? otherAddress : v.key("counter_signature").address
                func check(_ what: String, domain: SigningDomain? = nil, _ change: (inout PaymentClose) -> Void) {
                    var t = m
                    change(&t)
                    expectMessageError("close \(what): \(d)") {
                        try t.verify(closer: closer, counterparty: counter, domain: domain ?? vectorDomain)
                    }
                }
                check("channel id") { $0.channelID = otherChannel }
                check("final nonce") { $0.finalNonce ^= 1 }
                check("final amount") { $0.finalAmount = Amount($0.finalAmount.atomicUnits ^ 1) }
                check("cooperative") { $0.cooperative.toggle() }
                check("timestamp") { $0.timestamp ^= 1 }
                check("chain id", domain: SigningDomain(chainID: domain.chainID! ^ 1, verifyingContract: domain.verifyingContract!)) { _ in }
                if let cs = m.counterSignature {
                    // Roles swapped: the closer's signature is not the counterparty's.
                    expectMessageError("roles swapped: \(d)") { try m.verify(closer: counter, counterparty: closer, domain: domain) }
                    check("counter-signature replaced") { $0.counterSignature = $0.signature }
                    check("signature replaced") { $0.signature = cs }
                }
            case .channelAnnounce(let m):
                func check(_ what: String, _ change: (inout ChannelAnnounce) throws -> Void) throws {
                    var t = m
                    try change(&t)
                    expectMessageError("announce \(what): \(d)") { try t.verify() }
                }
                try check("channel id") { $0.channelID = otherChannel }
                try check("capacity") { $0.capacity = Amount($0.capacity.atomicUnits ^ 1) }
                try check("asset") { $0.asset = try Asset(id: $0.asset.id + "x", decimals: $0.asset.decimals) }
                try check("fee base") { $0.feeBase = Amount($0.feeBase.atomicUnits ^ 1) }
                try check("fee ppm") { $0.feePPM ^= 1 }
                try check("expiry delta") { $0.expiryDeltaMillis ^= 1 }
                try check("timestamp") { $0.timestamp ^= 1 }
                try check("peer a") { $0.peerA = try EthereumAddress([UInt8](repeating: 0, count: 20)) }
                try check("signatures swapped") { swap(&$0.signatureA, &$0.signatureB) }
            default:
                Issue.record("unexpected message in \(d)")
            }
        }
    }

    private static func hashes(of message: Message, _ domain: SigningDomain) throws
        -> (typeHash: [UInt8], structType: EIP712.StructType, message: [String: EIP712.Value], structHash: [UInt8], digest: [UInt8])
    {
        switch message {
        case .paymentOpen(let m):
            return (PaymentOpen.eip712TypeHash, PaymentOpen.eip712StructType, m.eip712Message, m.structHash(), try m.signingDigest())
        case .paymentUpdate(let m):
            return (PaymentUpdate.eip712TypeHash, PaymentUpdate.eip712StructType, m.eip712Message, m.structHash(),
                    try m.signingDigest(domain: domain))
        case .paymentClose(let m):
            return (PaymentClose.eip712TypeHash, PaymentClose.eip712StructType, m.eip712Message, m.structHash(),
                    try m.signingDigest(domain: domain))
        case .channelAnnounce(let m):
            return (ChannelAnnounce.eip712TypeHash, ChannelAnnounce.eip712StructType, m.eip712Message, try m.structHash(),
                    try m.signingDigest())
        default:
            throw VectorError.unsupportedJSON("not a signed message")
        }
    }
}
