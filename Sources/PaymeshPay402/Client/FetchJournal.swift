public import PaymeshChannels
public import PaymeshCrypto
public import PaymeshMessages

/// One paid HTTP request of the buying side, as it is kept durably (Specs/http402.md §11.4): the
/// idempotency key, the request it names, what was chosen and signed, and how it ended. Every
/// field is JSON-ready (amounts decimal strings, bytes `0x` hex, times unix ms): the node stores
/// the entry as the record of its payment-journal row.
public struct FetchEntry: Codable, Sendable, Hashable {
    public enum Status: String, Codable, Sendable, Hashable {
        /// A channel to `payTo` is being opened for the request (§11.3): `channel` is its id, fixed
        /// by `openSalt` before anything is sent; `deposit` its deposit. It may or may not exist.
        case opening
        /// Chosen, about to be signed: the voucher at `nonce` may or may not exist.
        case signing
        /// Signed and durable; presented (or about to be) to the gateway; outcome unknown.
        case signed
        /// The gateway served the request for this proof.
        case paid
        /// The gateway refused the proof (`code`, `reason`).
        case refused
        /// The gateway answered that it already holds this voucher (1323): paid once, not served again.
        case taken
    }

    public var v = 1
    public var key: String
    public var method: String
    public var url: String
    /// `paymesh-channel` (or `l402`).
    public var scheme: String
    public var x402Version: Int
    public var network: String
    public var asset: String
    public var payTo: String
    /// The price paid, atomic units.
    public var price: String
    public var resource: String
    public var extra: ChannelSchemeExtra?
    /// `0x` + 64 hex: the payer channel.
    public var channel: String
    /// The voucher's nonce (decimal).
    public var nonce: String
    /// The proof header, once signed.
    public var proofHeader: String?
    public var proofValue: String?
    public var status: Status
    public var code: Int?
    public var reason: String?
    /// The gateway's `X-PAYMENT-RESPONSE` / `PAYMENT-RESPONSE` value.
    public var receipt: String?
    public var httpStatus: Int?
    /// Metered answers (§12.4): units received, and the total paid over every step (`price` is the first step's).
    public var units: String?
    public var paidTotal: String?
    /// *A metered purchase that may go on* (§12.4): the next step's continuation token, number n
    /// (its voucher's task id is `<key>#<n>`), price, voucher nonce and, once signed, proof; the
    /// cap of the whole answer and the gateway's total. Written before the step's voucher is
    /// signed; cleared once the purchase ends.
    public var continueToken: String?
    public var step: Int?
    public var stepPrice: String?
    public var stepNonce: String?
    public var stepProofHeader: String?
    public var stepProofValue: String?
    public var cap: String?
    public var unitsTotal: String?
    /// *A channel opened for the request* (§11.3): its salt (`0x` + 64 hex) and deposit (decimal).
    public var openSalt: String?
    public var deposit: String?
    public var createdAt: UInt64
    public var updatedAt: UInt64

    public init(key: String, method: String, url: String, requirement: PaymentOffers.Requirement, requirements: PaymentRequirements,
                channel: String, nonce: UInt64, now: UInt64) {
        self.key = key
        self.method = method
        self.url = url
        scheme = requirement.scheme
        x402Version = requirement.x402Version
        network = requirement.network
        asset = requirement.asset
        payTo = requirement.payTo.description
        price = String(requirement.amount)
        resource = requirement.resource
        extra = requirements.extra
        self.channel = channel
        self.nonce = String(nonce)
        status = .signing
        createdAt = now
        updatedAt = now
    }

    public var isFinal: Bool { (status == .paid && continueToken == nil) || status == .refused || status == .taken }

    /// Ends the metered steps: nothing is left to resume.
    public mutating func endSteps() {
        continueToken = nil
        stepPrice = nil
        stepNonce = nil
        stepProofHeader = nil
        stepProofValue = nil
    }

    /// The salt of a channel opened for this request, when the entry records one.
    public var openSaltBytes: [UInt8]? {
        guard let text = openSalt, text.hasPrefix("0x"), text.utf8.count == 66, let bytes = [UInt8](hex: String(text.dropFirst(2))) else { return nil }
        return bytes
    }

    /// The requirement the entry pays, rebuilt (to present its voucher again).
    public var requirements: PaymentRequirements? {
        guard let extra, let amount = UInt128(price), let payee = EthereumAddress(string: payTo) else { return nil }
        return PaymentRequirements(scheme: scheme, network: network, amount: amount, asset: asset, payTo: payee, resource: resource, extra: extra)
    }

    /// The proof header for `voucher` in the entry's x402 version (v2 `PAYMENT-SIGNATURE`, v1 `X-PAYMENT`).
    public static func proof(_ voucher: PaymentUpdate, paying requirements: PaymentRequirements, x402Version: Int) -> HTTPHeaderField {
        x402Version == 2 ? ChannelSchemeProof.paymentSignature(voucher, paying: requirements)
                         : ChannelSchemeProof.xPayment(voucher, paying: requirements)
    }

    /// What a retry does with an `opening` entry (§11.4), given the state of the channel `channel`
    /// in this node's book (nil: it has no such channel). Never a second channel: the salt fixes
    /// the id, so opening again proposes the same channel.
    public enum OpeningStep: Sendable, Hashable {
        /// Nothing was opened (the proposal was not durable): propose the channel again with `openSalt`.
        case open
        /// Proposed, no answer yet: reach the payee (the proposal is sent again on reconnection) and wait.
        case awaitAnswer
        /// The payee accepted: sign the voucher through it (the entry becomes `signing`).
        case pay
        /// The payee refused it or it was closed: nothing was paid through it.
        case refused
    }

    public static func openingStep(channel state: ChannelState?) -> OpeningStep {
        switch state {
        case nil: .open
        case .proposed?: .awaitAnswer
        case .open?, .active?: .pay
        case .closing?, .disputed?, .settled?: .refused
        }
    }

    /// The stored form: compact JSON, keys sorted.
    public func encoded() -> [UInt8] { JSONCodec.encode(self) }

    public static func decode(_ bytes: [UInt8]) throws(Pay402Error) -> FetchEntry {
        let entry = try JSONCodec.decode(FetchEntry.self, from: bytes, what: "a fetch journal record")
        guard entry.v == 1 else { throw .malformed("fetch journal record version \(entry.v)") }
        return entry
    }
}

/// The buying side's idempotency keys (Specs/http402.md §11.4), sans-IO: one entry per key,
/// bounded; the node persists every change before it acts on it.
public struct FetchJournal: Sendable, Hashable {
    /// An idempotency key: 1–48 bytes of A-Z a-z 0-9 . _ - : (it travels as the voucher's task id
    /// and, prefixed, as the payment-journal row id of at most 64 bytes).
    public static let maxKeyBytes = 48
    /// Entries kept; beyond it the oldest final entries are forgotten (unfinished ones never are).
    public static let maxEntries = 10_000
    /// The payment-journal row id of key k is this prefix followed by k.
    public static let rowPrefix = Array("http-fetch:".utf8)

    public private(set) var entries: [String: FetchEntry] = [:]

    public init() {}

    public static func checkKey(_ key: String) throws(Pay402Error) {
        let ok = (1...maxKeyBytes).contains(key.utf8.count) && key.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D || $0 == 0x3A
        }
        guard ok else { throw Pay402Error(.fetchKeyConflict, "an idempotency key is 1-\(maxKeyBytes) bytes of A-Z a-z 0-9 . _ - :") }
    }

    /// The entry under `key`, checked against the request: the same key for another method or URL is 1485.
    public func entry(_ key: String, method: String, url: String) throws(Pay402Error) -> FetchEntry? {
        guard let e = entries[key] else { return nil }
        guard e.method == method, e.url == url else {
            throw Pay402Error(.fetchKeyConflict, "idempotency key \(key) was used for \(e.method) \(e.url)")
        }
        return e
    }

    /// Records (a new or changed) entry; makes room by forgetting the oldest final entry. Throws
    /// 1504 when every kept entry is unfinished.
    public mutating func put(_ entry: FetchEntry) throws(Pay402Error) {
        if entries[entry.key] == nil, entries.count >= Self.maxEntries {
            guard let oldest = entries.values.filter(\.isFinal).min(by: { ($0.updatedAt, $0.key) < ($1.updatedAt, $1.key) }) else {
                throw Pay402Error(.rateLimited, "\(Self.maxEntries) paid requests are unfinished")
            }
            entries[oldest.key] = nil
        }
        entries[entry.key] = entry
    }

    /// Puts back an entry read from storage.
    public mutating func restore(_ entry: FetchEntry) { entries[entry.key] = entry }
}
