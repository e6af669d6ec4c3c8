import PaymeshCrypto
import PaymeshMessages
public import PaymeshPay402

/// L402 for the HTTP 402 gateway (Specs/http402.md §10.1): mints the macaroon and the invoice of an
/// unpaid request's `WWW-Authenticate` challenge, and authorizes `Authorization: L402` credentials.
/// A thin driver: the invoice comes from the routing layer's invoice store (`RoutedPayments.createInvoice`,
/// durable before it is returned, as console `invoice.create`), which invoice is handed out is
/// `L402OfferBook`'s decision, and the verification is `L402Verifier`'s. Time is the node's
/// injected clock; the token id is the node's injected randomness.
///
/// A credential proves payment because the preimage of one of this node's invoices is released only
/// when an HTLC paying that invoice in full reaches this node (Specs/routing.md): whoever knows it
/// (or got it from the payer) paid this node.
public actor L402Issuer {
    public struct Limits: Sendable {
        /// A token's `<service>_valid_until` is this long after it was minted (one hour).
        public var tokenLifetimeSeconds: UInt64 = 3_600
        /// The invoice of an L402 challenge expires after this long (ten minutes).
        public var invoiceExpiryMillis: UInt64 = 600_000
        /// An unpaid offer is handed out again for this long (§10.1: a GET loop mints nothing).
        public var reuseMillis: UInt64 = 30_000
        public init() {}
    }

    /// HMAC message of the root key's derivation from the node's identity secret (§10.1).
    public static let rootKeyLabel = "paymesh/l402/root-key/v1"

    let routed: RoutedPayments
    let payments: PaymentsService
    public let limits: Limits
    /// 32 bytes; never logged, never leaves this actor.
    private let rootKey: [UInt8]
    private var book: L402OfferBook
    /// Requests waiting for the service's offer being minted (at most one mint per service at once).
    private var minting: [String: [CheckedContinuation<Result<L402Challenge, NodeError>, Never>]] = [:]

    public init(routed: RoutedPayments, payments: PaymentsService, limits: Limits = Limits()) {
        self.routed = routed
        self.payments = payments
        self.limits = limits
        rootKey = Self.rootKey(of: payments.key)
        book = L402OfferBook(reuseMillis: limits.reuseMillis, capacity: ServiceCatalog.maxServices)
    }

    /// rootKey = HMAC-SHA256(key: the node's 32-byte identity secret, message: `rootKeyLabel`): a
    /// secret as durable and as protected as the identity file (0600) it derives from.
    static func rootKey(of key: IdentityKey) -> [UInt8] {
        key.privateKey.withUnsafeRawRepresentation { HMACSHA256.authenticationCode(for: Array(rootKeyLabel.utf8), key: $0) }
    }

    /// The L402 challenge for an unpaid request to `service`: the service's current offer while it
    /// is young and its invoice open, else a new invoice and macaroon. Throws when no invoice can be
    /// made (the invoice store full or failing); the gateway then answers without L402.
    public func challenge(for service: SoldService) async throws(NodeError) -> L402Challenge {
        let now = payments.now()
        if case .reuse(let offer) = book.decide(service: service.name, now: now) {
            if let hash = try? Hash32(offer.paymentHash), await payments.isInvoiceOpen(hash) { return offer.challenge }
            book.retire(paymentHash: offer.paymentHash)
        }
        if minting[service.name] != nil {
            let result = await withCheckedContinuation { (c: CheckedContinuation<Result<L402Challenge, NodeError>, Never>) in
                minting[service.name, default: []].append(c)
            }
            return try result.get()
        }
        minting[service.name] = []
        let result: Result<L402Challenge, NodeError>
        do throws(NodeError) { result = .success(try await mint(service, now: now)) } catch { result = .failure(error) }
        for waiter in minting.removeValue(forKey: service.name) ?? [] { waiter.resume(returning: result) }
        return try result.get()
    }

    /// Checks a credential for `service` (§6.5) at the node's now, for a request whose capability
    /// is `capability` (the gateway passes the HTTP method, §10.1: a `<service>_capabilities=`
    /// caveat a holder added must list it); the offer it paid is retired so the next unpaid
    /// request gets a fresh invoice. Returns the token's identifier.
    public func authorize(_ credential: L402Credential, service: String, capability: String? = nil) throws(Pay402Error) -> L402Identifier {
        let identifier = try L402Verifier.verify(credential, rootKey: rootKey, service: service, capability: capability,
                                                 nowUnixSeconds: payments.now() / 1_000)
        book.retire(paymentHash: identifier.paymentHash)
        return identifier
    }

    private func mint(_ service: SoldService, now: UInt64) async throws(NodeError) -> L402Challenge {
        let record = try await routed.createInvoice(amount: Amount(service.price), asset: service.asset, memo: "L402 \(service.name)",
                                                    expiryMillis: limits.invoiceExpiryMillis)
        let challenge = L402Challenge.mint(rootKey: rootKey, paymentHash: record.paymentHash.bytes, tokenID: payments.random.bytes(32),
                                           service: service.name, capabilities: service.capabilities,
                                           validUntil: now / 1_000 + limits.tokenLifetimeSeconds,
                                           invoice: record.invoice)
        book.record(.init(challenge: challenge, paymentHash: record.paymentHash.bytes, mintedAt: now), service: service.name)
        return challenge
    }
}
