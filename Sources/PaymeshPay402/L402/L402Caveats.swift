import PaymeshCrypto

/// L402 first-party caveats and their verification (Specs/http402.md §6.4–§6.5).
public enum L402Caveats {
    public static let services = "services"
    public static let capabilitiesSuffix = "_capabilities"
    public static let validUntilSuffix = "_valid_until"
}

/// Verifies an L402 credential for one request (§6.5). Pure: the root key and the time are passed in.
public enum L402Verifier {
    /// In order: the identifier is v0 (1320); the macaroon's chain verifies under `rootKey` (1303);
    /// SHA-256(preimage) is the identifier's payment hash (1303); every caveat holds for `service`
    /// at `now` (1324 expired, 1325 service or capability not granted, 1303 a caveat not understood).
    /// Returns the identifier (the payment hash and token id the request is served under).
    public static func verify(_ credential: L402Credential, rootKey: [UInt8], service: String, capability: String? = nil,
                              nowUnixSeconds now: UInt64) throws(Pay402Error) -> L402Identifier {
        let identifier = try L402Identifier(bytes: credential.macaroon.identifier)
        try credential.macaroon.verifySignature(rootKey: rootKey)
        guard ConstantTime.equals(SHA256.hash(credential.preimage), identifier.paymentHash) else {
            throw .invalidProof("the preimage does not hash to the token's payment hash")
        }
        var sawServices = false
        for caveat in credential.macaroon.caveats {
            guard let predicate = caveat.predicate, let eq = predicate.firstIndex(of: "=") else {
                throw .invalidProof("a caveat is not condition=value")
            }
            let condition = predicate[..<eq]
            let value = predicate[predicate.index(after: eq)...]
            if condition == L402Caveats.services {
                sawServices = true
                let names = value.split(separator: ",").map { $0.split(separator: ":", maxSplits: 1).first.map(String.init) ?? "" }
                guard names.contains(service) else { throw .notAuthorized("the token does not grant service \(service)") }
            } else if condition == service + L402Caveats.capabilitiesSuffix {
                if let capability {
                    guard value.split(separator: ",").contains(where: { $0 == capability }) else {
                        throw .notAuthorized("the token does not grant capability \(capability)")
                    }
                }
            } else if condition == service + L402Caveats.validUntilSuffix {
                guard value.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }), let until = UInt64(value) else {
                    throw .invalidProof("valid_until is not a decimal number")
                }
                guard now <= until else { throw .expired("the token expired at \(until)") }
            } else if condition.hasSuffix(L402Caveats.capabilitiesSuffix) || condition.hasSuffix(L402Caveats.validUntilSuffix) {
                continue // another service's restriction (§6.5)
            } else {
                throw .invalidProof("caveat condition not understood")
            }
        }
        guard sawServices else { throw .notAuthorized("the token names no services") }
        return identifier
    }
}
