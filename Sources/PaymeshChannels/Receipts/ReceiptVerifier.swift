public import PaymeshCrypto
public import PaymeshMessages

/// Checks a receipt bundle offline (`paymesh receipts verify`, Specs/channels.md §10.4).
public enum ReceiptVerifier {
    public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
        /// Index in `receipts` of the first bad receipt (nil: the bundle itself).
        public let index: Int?
        public let reason: String
        public var description: String { index.map { "receipt \($0): \(reason)" } ?? reason }
    }

    /// Throws the first failure: wrong payee, wrong channel, seq not 1, 2, 3, …, a broken link, a
    /// stored hash that is not the hash of the fields, a signature not by the payee, nonce or
    /// amount going backwards. Returns the number of receipts checked.
    @discardableResult
    public static func verify(_ bundle: ReceiptBundle, expectedPayee: EthereumAddress? = nil) throws(Failure) -> Int {
        if let expectedPayee, expectedPayee != bundle.payee {
            throw Failure(index: nil, reason: "bundle payee \(bundle.payee) is not the expected \(expectedPayee)")
        }
        let domain = bundle.domain
        var previous: Receipt?
        for (i, r) in bundle.receipts.enumerated() {
            func fail(_ reason: String) -> Failure { Failure(index: i, reason: reason) }
            guard r.channelID == bundle.channelID else { throw fail("channel id differs from the bundle's") }
            guard r.seq == UInt64(i) + 1 else { throw fail("seq \(r.seq), expected \(i + 1)") }
            guard r.prevHash == (previous?.hash ?? Receipt.zeroHash) else { throw fail("prev_hash does not link to the previous receipt") }
            guard r.hash == r.computeHash() else { throw fail("hash is not the hash of the receipt's fields") }
            guard r.recoverSigner(domain: domain) == bundle.payee else { throw fail("signature is not by the payee") }
            if let previous {
                guard r.nonce >= previous.nonce else { throw fail("nonce goes backwards") }
                guard r.amount >= previous.amount else { throw fail("amount goes backwards") }
            }
            previous = r
        }
        return bundle.receipts.count
    }
}
