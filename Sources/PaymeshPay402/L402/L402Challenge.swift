import PaymeshCrypto

/// The L402 part of a 402 answer (Specs/http402.md §6.1):
/// `WWW-Authenticate: L402 macaroon="<base64>", invoice="<invoice>"`.
public struct L402Challenge: Sendable, Hashable {
    public var macaroon: Macaroon
    /// The invoice of the routing layer whose payment hash is in the macaroon's identifier.
    public var invoice: String

    public init(macaroon: Macaroon, invoice: String) {
        self.macaroon = macaroon
        self.invoice = invoice
    }

    public var headerValue: String { "L402 macaroon=\"\(macaroon.base64)\", invoice=\"\(invoice)\"" }

    /// Mints the token for `service` (§6.4): identifier v0 ‖ paymentHash ‖ tokenID, then the caveats
    /// `services=<service>:<tier>`, `<service>_capabilities=<a,b>` (when any) and
    /// `<service>_valid_until=<unix seconds>`.
    public static func mint(rootKey: [UInt8], paymentHash: [UInt8], tokenID: [UInt8], service: String, tier: UInt32 = 0,
                            capabilities: [String] = [], validUntil: UInt64, location: String? = "paymesh",
                            invoice: String) -> L402Challenge {
        var macaroon = Macaroon(rootKey: rootKey, identifier: L402Identifier(paymentHash: paymentHash, tokenID: tokenID).bytes,
                                location: location)
        macaroon.addFirstPartyCaveat("\(L402Caveats.services)=\(service):\(tier)")
        if !capabilities.isEmpty {
            macaroon.addFirstPartyCaveat("\(service)\(L402Caveats.capabilitiesSuffix)=\(capabilities.joined(separator: ","))")
        }
        macaroon.addFirstPartyCaveat("\(service)\(L402Caveats.validUntilSuffix)=\(validUntil)")
        return L402Challenge(macaroon: macaroon, invoice: invoice)
    }
}

/// `Authorization: L402 <base64 macaroon>:<64 hex preimage>` (also `LSAT`, the former name).
public struct L402Credential: Sendable, Hashable {
    public var macaroon: Macaroon
    public var preimage: [UInt8]

    public init(macaroon: Macaroon, preimage: [UInt8]) {
        self.macaroon = macaroon
        self.preimage = preimage
    }

    /// nil when the value is another authorization scheme; 1320 when it is L402 but malformed.
    public init?(authorization value: String) throws(Pay402Error) {
        guard value.utf8.count <= Pay402Limits.maxProofHeaderBytes else {
            throw .malformed("Authorization is longer than \(Pay402Limits.maxProofHeaderBytes) bytes")
        }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count >= 1, ["l402", "lsat"].contains(parts[0].lowercased()) else { return nil }
        guard parts.count == 2 else { throw .malformed("L402 credential is empty") }
        let token = parts[1].trimmingSpaces
        guard let colon = token.lastIndex(of: ":") else { throw .malformed("L402 credential must be <macaroon>:<preimage>") }
        let preimageHex = token[token.index(after: colon)...]
        guard preimageHex.utf8.count == 64, let preimage = [UInt8](hex: String(preimageHex)) else {
            throw .malformed("L402 preimage must be 64 hex digits")
        }
        guard !token[..<colon].contains(",") else { throw .malformed("only one macaroon per L402 credential") }
        self.init(macaroon: try Macaroon(base64: token[..<colon]), preimage: preimage)
    }

    public var authorizationValue: String { "L402 \(macaroon.base64):\(preimage.hexString)" }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
