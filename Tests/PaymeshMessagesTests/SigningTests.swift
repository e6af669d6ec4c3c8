import PaymeshCrypto
import PaymeshMessages
import PaymeshTestSupport
import Testing

@Suite("EIP-712 signing of channel messages")
struct SigningTests {
    static let payer = IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: 0x01, count: 32)))
    static let payee = IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: 0x02, count: 32)))
    static let outsider = IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: 0x03, count: 32)))
    static let channel = try! ChannelID((0..<32).map { UInt8($0) })
    static let domain = SigningDomain(chainID: 84532, verifyingContract: try! EthereumAddress([UInt8](repeating: 0x5f, count: 20)))
    static let t: UInt64 = 1_767_225_600_000

    static func randomBytes(_ n: Int, _ rng: inout SplitMix64) -> [UInt8] { (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) } }
    static func randomAmount(_ rng: inout SplitMix64) -> Amount {
        // Mix small, 64-bit-boundary and full 128-bit values.
        switch rng.next() % 4 {
        case 0: Amount(UInt128(rng.next() % 1000))
        case 1: Amount(UInt128(UInt64.max) + UInt128(rng.next() % 3))
        case 2: Amount(UInt128.max - UInt128(rng.next() % 3))
        default: Amount(UInt128(rng.next()) << 64 | UInt128(rng.next()))
        }
    }

    // MARK: Fast encoders equal PaymeshCrypto's generic EIP-712

    @Test func domainSeparatorEqualsGenericEncoder() throws {
        var rng = SplitMix64(seed: 1)
        for chain in [0, 1, 84532, UInt64.max] + (0..<20).map({ _ in rng.next() }) {
            let contract = try EthereumAddress(Self.randomBytes(20, &rng))
            for d in [SigningDomain(chainID: chain), SigningDomain(chainID: chain, verifyingContract: contract)] {
                #expect(try d.eip712Domain.separator() == d.separator)
                #expect(d.eip712Domain.structType.fields.map { $0.name } == ["name", "version", "chainId", "verifyingContract"])
            }
        }
        #expect(try SigningDomain.announcement.eip712Domain.separator() == SigningDomain.announcement.separator)
        #expect(SigningDomain.announcement.eip712Domain.structType.fields.map { $0.name } == ["name", "version"])
        #expect(SigningDomain(chainID: 1) != SigningDomain(chainID: 1, verifyingContract: try EthereumAddress([UInt8](repeating: 1, count: 20))))
        #expect(SigningDomain(chainID: 1).verifyingContract == .zero)
    }

    @Test func typeHashesEqualGenericStructTypes() throws {
        #expect(try PaymentOpen.eip712StructType.typeHash() == PaymentOpen.eip712TypeHash)
        #expect(try PaymentUpdate.eip712StructType.typeHash() == PaymentUpdate.eip712TypeHash)
        #expect(try PaymentClose.eip712StructType.typeHash() == PaymentClose.eip712TypeHash)
        #expect(try ChannelAnnounce.eip712StructType.typeHash() == ChannelAnnounce.eip712TypeHash)
        #expect(try PaymentUpdate.eip712StructType.encodeType() == PaymentUpdate.eip712EncodeType)
        #expect(try PaymentOpen.eip712StructType.encodeType() == PaymentOpen.eip712EncodeType)
        #expect(try PaymentClose.eip712StructType.encodeType() == PaymentClose.eip712EncodeType)
        #expect(try ChannelAnnounce.eip712StructType.encodeType() == ChannelAnnounce.eip712EncodeType)
    }

    @Test func voucherFastPathEqualsGenericEncoder() throws {
        var rng = SplitMix64(seed: 2)
        for i in 0..<300 {
            let task: String? = i % 3 == 0 ? nil : String(repeating: "é", count: 1 + Int(rng.next() % 64))
            let v = try PaymentUpdate(channelID: try ChannelID(Self.randomBytes(32, &rng)), nonce: max(1, rng.next()),
                                      amount: Self.randomAmount(&rng), timestamp: rng.next(), taskID: task,
                                      signature: .unsigned)
            let domain = SigningDomain(chainID: rng.next(), verifyingContract: try EthereumAddress(Self.randomBytes(20, &rng)))
            #expect(v.structHash() == (try PaymentUpdate.eip712StructType.hashStruct(v.eip712Message)))
            let typed = EIP712.TypedData(domain: domain.eip712Domain, primaryType: PaymentUpdate.eip712StructType,
                                         message: v.eip712Message)
            #expect(try v.signingDigest(domain: domain) == typed.digest())
        }
    }

    @Test func openCloseAnnounceFastPathsEqualGenericEncoder() throws {
        var rng = SplitMix64(seed: 3)
        for _ in 0..<100 {
            let asset = try Asset(id: String(repeating: "Ü", count: 1 + Int(rng.next() % 16)), decimals: UInt8(rng.next() % 37))
            let open = try PaymentOpen(
                channelID: try ChannelID(Self.randomBytes(32, &rng)), sender: try EthereumAddress(Self.randomBytes(20, &rng)),
                receiver: try EthereumAddress(Self.randomBytes(20, &rng)), asset: asset, totalDeposit: Self.randomAmount(&rng),
                challengePeriodSeconds: 1 + rng.next() % 31_536_000, settlement: "ledger-\(rng.next())",
                chainID: rng.next(), verifyingContract: try EthereumAddress(Self.randomBytes(20, &rng)), nonce: rng.next(),
                timestamp: rng.next(), signature: .unsigned)
            #expect(open.structHash() == (try PaymentOpen.eip712StructType.hashStruct(open.eip712Message)))
            #expect(try open.signingDigest() == EIP712.TypedData(
                domain: open.signingDomain.eip712Domain, primaryType: PaymentOpen.eip712StructType,
                message: open.eip712Message).digest())

            let close = try PaymentClose(channelID: open.channelID, finalNonce: rng.next(), finalAmount: Self.randomAmount(&rng),
                                         cooperative: rng.next() % 2 == 0, timestamp: rng.next(), signature: .unsigned)
            #expect(close.structHash() == (try PaymentClose.eip712StructType.hashStruct(close.eip712Message)))

            let (a, b) = (try EthereumAddress(Self.randomBytes(20, &rng)), try EthereumAddress(Self.randomBytes(20, &rng)))
            guard a != b else { continue }
            let announce = try ChannelAnnounce(
                channelID: open.channelID, peerA: min(a, b), peerB: max(a, b), capacity: Self.randomAmount(&rng),
                asset: asset, feeBase: Self.randomAmount(&rng), feePPM: rng.next() % 1_000_001,
                expiryDeltaMillis: 1 + rng.next() % 2_592_000_000, timestamp: rng.next(),
                signatureA: .unsigned, signatureB: .unsigned)
            #expect(try announce.structHash() == ChannelAnnounce.eip712StructType.hashStruct(announce.eip712Message))
            #expect(try announce.signingDigest() == EIP712.TypedData(
                domain: SigningDomain.announcement.eip712Domain, primaryType: ChannelAnnounce.eip712StructType,
                message: announce.eip712Message).digest())
        }
    }

    // MARK: taskIdHash (§5.3)

    @Test func taskIDHashIsKeccakOfUTF8OrZero() {
        #expect(PaymentUpdate.taskIDHash(nil) == [UInt8](repeating: 0, count: 32))
        #expect(PaymentUpdate.taskIDHash("abc") == Keccak256.hash(Array("abc".utf8)))
        #expect(PaymentUpdate.taskIDHash("") != PaymentUpdate.taskIDHash(nil))
        // Bytes as sent: precomposed and decomposed "é" are different task ids.
        #expect(PaymentUpdate.taskIDHash("\u{e9}") != PaymentUpdate.taskIDHash("e\u{301}"))
    }

    // MARK: Sign and verify

    @Test func voucherRoundTripsThroughSigningAndTheWire() throws {
        let payer = Self.payer.address
        for (nonce, task) in [(UInt64(1), String?.none), (2, "task-7"), (UInt64.max, String(repeating: "x", count: 128))] {
            let v = try PaymentUpdate(channelID: Self.channel, nonce: nonce, amount: Amount(UInt128.max), timestamp: Self.t,
                                      taskID: task, signature: .unsigned).signed(with: Self.payer, domain: Self.domain)
            try v.verify(expectedSigner: payer, domain: Self.domain)
            #expect(try v.recoverSigner(domain: Self.domain) == Self.payer.address)
            // Same signature as signing the generic typed data (RFC 6979 is deterministic).
            let typed = EIP712.TypedData(domain: Self.domain.eip712Domain, primaryType: PaymentUpdate.eip712StructType,
                                         message: v.eip712Message)
            #expect(v.signature.bytes == (try Self.payer.sign(typedData: typed)))
            let decoded = try decodeFrame(PaymentFrame.encode(.paymentUpdate(v))).get()
            guard case .paymentUpdate(let back) = decoded else { Issue.record("decoded \(decoded)"); continue }
            try back.verify(expectedSigner: payer, domain: Self.domain)
            expectMessageError("signed by someone else") {
                try v.signed(with: Self.outsider, domain: Self.domain).verify(expectedSigner: payer, domain: Self.domain)
            }
        }
    }

    @Test func unsignedPlaceholderVerifiesForNobody() throws {
        let v = try PaymentUpdate(channelID: Self.channel, nonce: 1, amount: Amount(1), timestamp: Self.t, signature: .unsigned)
        expectMessageError("placeholder") { try v.verify(expectedSigner: Self.payer.address, domain: Self.domain) }
        #expect(Signature65.unsigned.v == 27)
    }

    @Test func everySingleByteChangeOfASignatureFails() throws {
        let v = try PaymentUpdate(channelID: Self.channel, nonce: 5, amount: Amount(10), timestamp: Self.t, signature: .unsigned)
            .signed(with: Self.payer, domain: Self.domain)
        for i in 0..<Signature65.byteCount {
            var raw = v.signature.bytes
            raw[i] ^= i == 64 ? 0x03 : 0x01 // v 27↔24 / 28↔31: form errors; r and s: another signature
            guard let bad = try? Signature65(raw) else { continue } // refused by the wire form (1501)
            var t = v
            t.signature = bad
            expectMessageError("byte \(i)") { try t.verify(expectedSigner: Self.payer.address, domain: Self.domain) }
        }
        var flipped = v.signature.bytes
        flipped[64] = flipped[64] == 27 ? 28 : 27 // the other recovery id: a different key
        var t = v
        t.signature = try Signature65(flipped)
        expectMessageError("recovery id flipped") {
            try t.verify(expectedSigner: Self.payer.address, domain: Self.domain)
        }
    }

    @Test func openIsSignedBySenderInItsOwnDomain() throws {
        let open = try PaymentOpen(
            channelID: Self.channel, sender: Self.payer.address, receiver: Self.payee.address,
            asset: try Asset(id: "USDC", decimals: 6), totalDeposit: Amount(1_000_000), challengePeriodSeconds: 3600,
            settlement: "local-ledger", chainID: 84532, verifyingContract: Self.domain.verifyingContract!, nonce: 0,
            timestamp: Self.t, signature: .unsigned)
        #expect(open.signingDomain == Self.domain)
        let signed = try open.signed(with: Self.payer)
        try signed.verify()
        #expect(try signed.recoverSigner() == Self.payer.address)
        expectMessageError("payee signs the open", code: .internalError) { _ = try open.signed(with: Self.payee) }
        var forged = try open.signed(with: Self.payer)
        forged.signature = try open.signed(with: Self.payer).signature
        forged.sender = Self.outsider.address
        expectMessageError("sender replaced") { try forged.verify() }
    }

    @Test func cooperativeCloseIsSignedByBothParties() throws {
        let close = try PaymentClose(channelID: Self.channel, finalNonce: 9, finalAmount: Amount(500), cooperative: true,
                                     timestamp: Self.t, signature: .unsigned)
        // A (payee) proposes; B (payer) answers with its own signature and A's as counter-signature.
        let proposal = try close.signed(with: Self.payee, domain: Self.domain)
        try proposal.verify(closer: Self.payee.address, counterparty: Self.payer.address, domain: Self.domain)
        #expect(try proposal.recoverCounterSigner(domain: Self.domain) == nil)
        let answer = try proposal.countersigned(with: Self.payer, domain: Self.domain)
        #expect(answer.counterSignature == proposal.signature)
        try answer.verify(closer: Self.payer.address, counterparty: Self.payee.address, domain: Self.domain)
        #expect(try answer.recoverSigner(domain: Self.domain) == Self.payer.address)
        #expect(try answer.recoverCounterSigner(domain: Self.domain) == Self.payee.address)
        expectMessageError("counter-signer is not the counterparty") {
            try answer.verify(closer: Self.payer.address, counterparty: Self.outsider.address, domain: Self.domain)
        }
        expectMessageError("already counter-signed", code: .malformedMessage) {
            _ = try answer.countersigned(with: Self.payee, domain: Self.domain)
        }
        var unilateral = close
        unilateral.cooperative = false
        expectMessageError("non-cooperative", code: .malformedMessage) {
            _ = try unilateral.signed(with: Self.payee, domain: Self.domain).countersigned(with: Self.payer, domain: Self.domain)
        }
    }

    @Test func announcementNeedsBothPeers() throws {
        let (a, b) = Self.payer.address < Self.payee.address ? (Self.payer, Self.payee) : (Self.payee, Self.payer)
        var announce = try ChannelAnnounce(
            channelID: Self.channel, peerA: a.address, peerB: b.address, capacity: Amount(5_000_000),
            asset: try Asset(id: "USDC", decimals: 6), feeBase: Amount(1), feePPM: 100, expiryDeltaMillis: 600_000,
            timestamp: Self.t, signatureA: .unsigned, signatureB: .unsigned)
        #expect(announce.peer(of: a) == .a && announce.peer(of: b) == .b && announce.peer(of: Self.outsider) == nil)
        let onlyA = try announce.signed(with: a)
        #expect(onlyA.signatureB == .unsigned && onlyA.signatureA != .unsigned)
        expectMessageError("only peer_a signed") { try onlyA.verify() }
        let both = try onlyA.signed(with: b)
        try both.verify()
        expectMessageError("outsider signs", code: .internalError) { _ = try announce.signed(with: Self.outsider) }
        // A fee_ppm that cannot be a uint32 is refused, never truncated or trapped on.
        announce.feePPM = UInt64(UInt32.max) + 1
        expectMessageError("fee_ppm over uint32", code: .malformedMessage) { _ = try announce.signingDigest() }
        expectMessageError("fee_ppm over uint32", code: .malformedMessage) { try announce.verify() }
    }

    @Test func errorsCarryTheMessageType() throws {
        let v = try PaymentUpdate(channelID: Self.channel, nonce: 1, amount: Amount(1), timestamp: Self.t, signature: .unsigned)
        do {
            try v.verify(expectedSigner: Self.payer.address, domain: Self.domain)
            Issue.record("placeholder verified")
        } catch {
            #expect(error.code == .invalidSignature && error.refType == MessageType.paymentUpdate.rawValue)
            #expect(!error.closesStream)
        }
    }
}
