import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import Testing

@Suite("Payee voucher rules")
struct ReceiverRuleTests {
    /// A payee holding nonce 2 / amount 200 of a 1,000 deposit.
    static func payee() throws -> (PayeeChannel, ChannelTerms) {
        var pair = try Pair(deposit: 1_000)
        try pair.pay(100)
        try pair.pay(100)
        return (pair.payee!, pair.payer.terms)
    }

    static func rejection(_ v: PaymentUpdate) throws -> (PaymeshErrorCode?, PayeeChannel, [ChannelAction]) {
        var (payee, _) = try payee()
        let actions = payee.receive(.paymentUpdate(v), now: K.t0)
        #expect(actions.persisted.isEmpty, "a refused voucher is never persisted")
        #expect(actions.acks.count == 1 && actions.acks[0].status == .rejected && actions.acks[0].nonce == v.nonce)
        #expect(payee.receivedAmount == 200 && payee.latestVoucher?.nonce == 2)
        return (actions.acks[0].errorCode, payee, actions)
    }

    @Test func acceptsTheNextVoucherPersistingBeforeAcking() throws {
        var (payee, terms) = try Self.payee()
        let actions = payee.receive(.paymentUpdate(try voucher(terms, nonce: 3, amount: 250, task: "t-3")), now: K.t0)
        guard case .persist(let s) = actions[0], case .send(.paymentAck(let ack)) = actions[1] else {
            Issue.record("expected persist then ack, got \(actions)"); return
        }
        #expect(s.latestVoucher?.nonce == 3 && ack.status == .accepted && ack.nonce == 3)
        #expect(actions.notes == [.paymentReceived(terms.channelID, nonce: 3, increment: 50, cumulative: 250, taskID: "t-3")])
    }

    @Test func nonceMayJumpAhead() throws {
        var (payee, terms) = try Self.payee()
        #expect(payee.receive(.paymentUpdate(try voucher(terms, nonce: 50, amount: 201)), now: K.t0).acks[0].status == .accepted)
    }

    @Test func badSignature() throws {
        let (_, terms) = try Self.payee()
        var v = try voucher(terms, nonce: 3, amount: 300)
        v.amount = Amount(301) // signature no longer covers the fields
        #expect(try Self.rejection(v).0 == .invalidSignature)
    }

    @Test func wrongSigner() throws {
        let (_, terms) = try Self.payee()
        #expect(try Self.rejection(try voucher(terms, nonce: 3, amount: 300, key: K.outsider)).0 == .invalidSignature)
        #expect(try Self.rejection(try voucher(terms, nonce: 3, amount: 300, key: K.payee)).0 == .invalidSignature)
    }

    @Test func wrongDomainIsABadSignature() throws {
        let (_, terms) = try Self.payee()
        let v = try PaymentUpdate(channelID: terms.channelID, nonce: 3, amount: Amount(300), timestamp: K.t0, signature: .unsigned)
            .signed(with: K.payer, domain: SigningDomain(chainID: 1))
        #expect(try Self.rejection(v).0 == .invalidSignature)
    }

    @Test func nonceNotIncreasing() throws {
        let (_, terms) = try Self.payee()
        let (code, _, actions) = try Self.rejection(try voucher(terms, nonce: 1, amount: 300))
        #expect(code == .nonceTooOld)
        #expect(actions.updates.map(\.nonce) == [2], "the payee shows a lagging payer its latest voucher")
    }

    @Test func amountNotIncreasing() throws {
        let (_, terms) = try Self.payee()
        #expect(try Self.rejection(try voucher(terms, nonce: 3, amount: 200)).0 == .invalidAmount)
        #expect(try Self.rejection(try voucher(terms, nonce: 3, amount: 150)).0 == .invalidAmount)
    }

    @Test func amountOverDepositMinusLocked() throws {
        var (payee, terms) = try Self.payee()
        #expect(try Self.rejection(try voucher(terms, nonce: 3, amount: 1_001)).0 == .insufficientFunds)
        _ = try payee.setLockedAmount(300, now: K.t0)
        #expect(payee.receive(.paymentUpdate(try voucher(terms, nonce: 3, amount: 701)), now: K.t0).acks[0].errorCode == .insufficientFunds)
        #expect(payee.receive(.paymentUpdate(try voucher(terms, nonce: 3, amount: 700)), now: K.t0).acks[0].status == .accepted)
        #expect(throws: ChannelError.self) { try payee.setLockedAmount(301, now: K.t0) }
    }

    @Test func duplicateOfTheLatestIsAcknowledgedAgainWithoutPaying() throws {
        var (payee, terms) = try Self.payee()
        let v = try voucher(terms, nonce: 3, amount: 260)
        _ = payee.receive(.paymentUpdate(v), now: K.t0)
        for _ in 0..<3 {
            let again = payee.receive(.paymentUpdate(v), now: K.t0)
            #expect(again.count == 1 && again.acks.first?.status == .accepted && again.acks.first?.nonce == 3)
            #expect(again.notes.isEmpty && again.persisted.isEmpty)
        }
        #expect(payee.receivedAmount == 260)
    }

    @Test func reusedNonceWithAnotherAmountIsRejected() throws {
        let (payee, terms) = try Self.payee()
        #expect(payee.latestVoucher?.nonce == 2)
        let (code, _, actions) = try Self.rejection(try voucher(terms, nonce: 2, amount: 500))
        #expect(code == .duplicateNonce)
        #expect(actions.updates.map(\.nonce) == [2])
        // Same nonce and amount, different task id: a different voucher.
        #expect(try Self.rejection(try voucher(terms, nonce: 2, amount: 200, task: "x")).0 == .duplicateNonce)
    }

    @Test func vouchersAfterCloseAreRefused() throws {
        var (payee, terms) = try Self.payee()
        _ = try payee.closeUnilaterally(now: K.t0)
        #expect(payee.receive(.paymentUpdate(try voucher(terms, nonce: 3, amount: 300)), now: K.t0).acks[0].errorCode == .channelNotActive)
    }

    @Test func aDifferentOpenForTheSameChannelIsRefused() throws {
        var (payee, terms) = try Self.payee()
        #expect(payee.receive(.paymentOpen(terms.open), now: K.t0).acks.first?.status == .accepted)
        var other = terms.open
        other.totalDeposit = Amount(5)
        other = try other.signed(with: K.payer)
        #expect(payee.receive(.paymentOpen(other), now: K.t0).acks.first?.errorCode == .channelAlreadyExists)
    }
}

@Suite("Payee open checks")
struct OpenRuleTests {
    static func open(deposit: UInt128 = 100, payee: EthereumAddress = K.payeeAddress, at: UInt64 = K.t0,
                     settlement: String = "local-ledger", challenge: UInt64 = 3_600) throws -> PaymentOpen {
        try PaymentOpen(channelID: ChannelID([UInt8](repeating: 7, count: 32)), sender: K.payerAddress, receiver: payee,
                        asset: K.usdc, totalDeposit: Amount(deposit), challengePeriodSeconds: challenge, settlement: settlement,
                        chainID: 0, verifyingContract: .zero, nonce: 0, timestamp: at,
                        signature: .unsigned).signed(with: K.payer)
    }

    static func code(_ open: PaymentOpen, policy: PayeeOpenPolicy = .init(), peer: EthereumAddress? = K.payerAddress,
                     backing: UInt128? = nil) -> PaymeshErrorCode? {
        switch PayeeChannel.accept(open, key: K.payee, policy: policy, authenticatedPeer: peer, backing: backing, now: K.t0) {
        case .accepted(let channel, let actions):
            #expect(channel.state == .open && actions.persistsBeforeSending && actions.acks.first?.status == .accepted)
            return nil
        case .rejected(let error, let actions):
            #expect(actions.acks.first?.errorCode == error.code && actions.persisted.isEmpty)
            return error.code
        }
    }

    @Test func termsTable() throws {
        var forged = try Self.open()
        forged = try forged.signed(with: K.payer)
        forged.totalDeposit = Amount(101)
        let cases: [(PaymentOpen, PayeeOpenPolicy, EthereumAddress?, UInt128?, PaymeshErrorCode?)] = [
            (try Self.open(), .init(), K.payerAddress, nil, nil),
            (try Self.open(), .init(), K.payerAddress, 100, nil),
            (forged, .init(), K.payerAddress, nil, .invalidSignature),
            (try Self.open(payee: K.outsider.address), .init(), K.payerAddress, nil, .identityNotVerified),
            (try Self.open(), .init(), K.outsider.address, nil, .identityNotVerified),
            (try Self.open(deposit: 0), .init(), K.payerAddress, nil, .channelDepositInvalid),
            (try Self.open(deposit: 101), .init(maxDeposit: 100), K.payerAddress, nil, .channelDepositInvalid),
            (try Self.open(), .init(), K.payerAddress, 99, .channelDepositInvalid),
            (try Self.open(settlement: "eip155-escrow"), .init(), K.payerAddress, nil, .channelDepositInvalid),
            (try Self.open(challenge: 59), .init(), K.payerAddress, nil, .channelDepositInvalid),
            (try Self.open(), .init(assets: [try Asset(id: "USDC", decimals: 18)]), K.payerAddress, nil, .channelDepositInvalid),
            (try Self.open(), .init(chainIDs: [1]), K.payerAddress, nil, .channelDepositInvalid),
            (try Self.open(at: K.t0 - 300_001), .init(), K.payerAddress, nil, .expiredPayment),
            (try Self.open(at: K.t0 + 300_000), .init(), K.payerAddress, nil, nil),
        ]
        for (i, (open, policy, peer, backing, expected)) in cases.enumerated() {
            #expect(Self.code(open, policy: policy, peer: peer, backing: backing) == expected, "case \(i)")
        }
    }
}
