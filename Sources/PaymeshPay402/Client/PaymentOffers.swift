public import PaymeshCrypto
import PaymeshMessages

/// What a 402 answer offers, read by the paying side (Specs/http402.md §11.2): the x402
/// requirements of the `PAYMENT-REQUIRED` header (v2) and of the JSON body (v1), and the L402
/// challenge of `WWW-Authenticate`. Sans-IO: status, headers and body in, offers out. Nothing here
/// is trusted: an entry that does not parse is dropped (with its reason kept for the error), and
/// whether anything is paid is `PaymentChoice`'s decision.
public struct PaymentOffers: Sendable, Hashable {
    /// One x402 requirement as offered, parsed strictly where it matters for paying.
    public struct Requirement: Sendable, Hashable {
        /// 1 (JSON body) or 2 (`PAYMENT-REQUIRED`).
        public var x402Version: Int
        public var scheme: String
        public var network: String
        /// The price in atomic units (`amount` in v2, `maxAmountRequired` in v1): canonical
        /// decimal ≤ 2^128 − 1, or the entry is dropped.
        public var amount: UInt128
        public var asset: String
        public var payTo: EthereumAddress
        public var resource: String
        /// The channel scheme's `extra`, when it parses as one (§4.1).
        public var extra: ChannelSchemeExtra?

        /// The requirement as the proof echoes it (v2 `accepted`, v1 `scheme`/`network`).
        public var paymentRequirements: PaymentRequirements? {
            guard let extra else { return nil }
            return PaymentRequirements(scheme: scheme, network: network, amount: amount, asset: asset, payTo: payTo,
                                       resource: resource, extra: extra)
        }
    }

    /// The L402 challenge (§6.1): the macaroon and the invoice, not yet checked against each other.
    public struct L402Offer: Sendable, Hashable {
        public var macaroon: Macaroon
        public var invoice: String
        /// The payment hash of the macaroon's L402 identifier (§6.4).
        public var paymentHash: [UInt8]
    }

    /// v2 entries first (a v2 client's view), then v1 entries not already listed.
    public var requirements: [Requirement]
    public var l402: L402Offer?
    /// The answer's `error` text (v2 header, else v1 body), for people.
    public var error: String?
    /// Why entries or parts were dropped (for the error when nothing is payable).
    public var dropped: [String]

    /// Reads a 402 answer. Throws 1480 FETCH_CHALLENGE_MALFORMED when it offers nothing readable:
    /// no requirement parses and no L402 challenge parses.
    public static func parse(headers: [HTTPHeaderField], body: [UInt8]) throws(Pay402Error) -> PaymentOffers {
        var offers = PaymentOffers(requirements: [], l402: nil, error: nil, dropped: [])
        let v2 = headers.values(named: Pay402Header.paymentRequired)
        if v2.count > 1 {
            offers.dropped.append("\(Pay402Header.paymentRequired) appears \(v2.count) times")
        } else if let value = v2.first {
            do {
                let wire = try JSONCodec.decodeHeader(OfferV2Wire.self, value, what: Pay402Header.paymentRequired)
                if wire.x402Version != 2 {
                    offers.dropped.append("\(Pay402Header.paymentRequired) carries x402Version \(wire.x402Version)")
                } else {
                    offers.error = wire.error
                    offers.take(wire.accepts ?? [], version: 2, resource: wire.resource?.url)
                }
            } catch { offers.dropped.append(error.detail) }
        }
        if !body.isEmpty {
            if body.count > PaymentOffers.maxBodyBytes {
                offers.dropped.append("the 402 body is longer than \(PaymentOffers.maxBodyBytes) bytes")
            } else if let wire = try? JSONCodec.decode(OfferV1Wire.self, from: body, what: "the 402 body") {
                if wire.x402Version == 1 {
                    if offers.error == nil { offers.error = wire.error }
                    offers.take(wire.accepts ?? [], version: 1, resource: nil)
                } else {
                    offers.dropped.append("the 402 body carries x402Version \(wire.x402Version)")
                }
            } else {
                offers.dropped.append("the 402 body is not x402 v1 JSON")
            }
        }
        for value in headers.values(named: Pay402Header.wwwAuthenticate) where offers.l402 == nil {
            do { offers.l402 = try L402Offer(wwwAuthenticate: value) } catch { offers.dropped.append(error.detail) }
        }
        guard !offers.requirements.isEmpty || offers.l402 != nil else {
            throw Pay402Error(.fetchChallengeMalformed, "the 402 answer offers no readable payment"
                              + (offers.dropped.isEmpty ? "" : ": " + offers.dropped.prefix(4).joined(separator: "; ")))
        }
        return offers
    }

    /// A 402 body longer than this is not read (the gateway's is ≈ 1 KB per requirement).
    public static let maxBodyBytes = 64 * 1_024

    private mutating func take(_ entries: [Lenient<RequirementWire>], version: Int, resource: String?) {
        for (i, entry) in entries.prefix(Pay402Limits.maxRequirements).enumerated() {
            guard let w = entry.value else { dropped.append("v\(version) accepts[\(i)] is not a requirement"); continue }
            guard let text = version == 2 ? w.amount : w.maxAmountRequired,
                  let amount = try? Amount(decimal: text) else {
                dropped.append("v\(version) accepts[\(i)]: the amount is not a decimal of at most 2^128 - 1")
                continue
            }
            guard let payTo = EthereumAddress(string: w.payTo) else {
                dropped.append("v\(version) accepts[\(i)]: payTo is not an address")
                continue
            }
            let r = Requirement(x402Version: version, scheme: w.scheme, network: w.network, amount: amount.atomicUnits, asset: w.asset,
                                payTo: payTo, resource: w.resource ?? resource ?? "", extra: w.extra?.value)
            let same = requirements.contains {
                $0.scheme == r.scheme && $0.network == r.network && $0.amount == r.amount && $0.asset == r.asset && $0.payTo == r.payTo
            }
            if !same { requirements.append(r) }
        }
        if entries.count > Pay402Limits.maxRequirements {
            dropped.append("v\(version) offers \(entries.count) requirements; the first \(Pay402Limits.maxRequirements) are read")
        }
    }
}

extension PaymentOffers.L402Offer {
    /// Parses `L402 macaroon="<base64>", invoice="<invoice>"` (also `LSAT`); the parameters in
    /// any order, values quoted or not. Throws 1480 for an L402 challenge that does not parse;
    /// a challenge of another scheme (`Basic …`) is 1480 too (the caller skips it).
    public init(wwwAuthenticate value: String) throws(Pay402Error) {
        guard value.utf8.count <= Pay402Limits.maxProofHeaderBytes else {
            throw Pay402Error(.fetchChallengeMalformed, "WWW-Authenticate is longer than \(Pay402Limits.maxProofHeaderBytes) bytes")
        }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, ["l402", "lsat"].contains(parts[0].lowercased()) else {
            throw Pay402Error(.fetchChallengeMalformed, "WWW-Authenticate is not an L402 challenge")
        }
        var params: [String: Substring] = [:]
        for item in parts[1].split(separator: ",") {
            let pair = item.trimmingSpaces
            guard let eq = pair.firstIndex(of: "=") else { continue }
            var v = pair[pair.index(after: eq)...].trimmingSpaces
            if v.count >= 2, v.first == "\"", v.last == "\"" { v = v.dropFirst().dropLast() }
            params[pair[..<eq].trimmingSpaces.lowercased()] = v
        }
        guard let mac = params["macaroon"], let invoice = params["invoice"], !invoice.isEmpty else {
            throw Pay402Error(.fetchChallengeMalformed, "the L402 challenge lacks macaroon= or invoice=")
        }
        let macaroon: Macaroon
        let identifier: L402Identifier
        do {
            macaroon = try Macaroon(base64: mac)
            identifier = try L402Identifier(bytes: macaroon.identifier)
        } catch {
            throw Pay402Error(.fetchChallengeMalformed, "the L402 macaroon does not parse: \(error.detail)")
        }
        self.init(macaroon: macaroon, invoice: String(invoice), paymentHash: identifier.paymentHash)
    }

    /// The `<service>_valid_until` of the macaroon's caveats (the earliest, when several), unix seconds.
    public var validUntil: UInt64? {
        macaroon.caveats.compactMap { c -> UInt64? in
            guard let p = c.predicate, let eq = p.firstIndex(of: "="), p[..<eq].hasSuffix(L402Caveats.validUntilSuffix) else { return nil }
            return UInt64(p[p.index(after: eq)...])
        }.min()
    }
}

/// Decodes a value, or nil when it is not of that shape (one bad entry does not spoil the list).
struct Lenient<T: Decodable>: Decodable {
    let value: T?
    init(from decoder: any Decoder) throws { value = try? T(from: decoder) }
}

private struct RequirementWire: Decodable {
    var scheme: String
    var network: String
    var amount: String?
    var maxAmountRequired: String?
    var asset: String
    var payTo: String
    var resource: String?
    var extra: Lenient<ChannelSchemeExtra>?
}

private struct OfferV2Wire: Decodable {
    struct Resource: Decodable { var url: String? }
    var x402Version: Int
    var error: String?
    var resource: Resource?
    var accepts: [Lenient<RequirementWire>]?
}

private struct OfferV1Wire: Decodable {
    var x402Version: Int
    var error: String?
    var accepts: [Lenient<RequirementWire>]?
}
