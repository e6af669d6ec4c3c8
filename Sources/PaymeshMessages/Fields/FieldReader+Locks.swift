import PaymeshMsgpack

extension FieldReader {
    /// An array of distinct HTLC ids, each bin(16), with a count in `count` (HTLC_PROPOSE.locks,
    /// PAYMENT_UPDATE.locks, §4.2 and §4.5); nil when the key is absent.
    func optionalHTLCIDs(_ key: String, count: ClosedRange<Int>) throws(MessageError) -> [HTLCID]? {
        guard let value = try optional(key) else { return nil }
        guard let items = value.arrayValue else { throw fail(key, "expected array") }
        guard count.contains(items.count) else {
            throw fail(key, "\(items.count) entries outside \(count.lowerBound)…\(count.upperBound)")
        }
        var ids: [HTLCID] = []
        ids.reserveCapacity(items.count)
        var seen: Set<HTLCID> = []
        for (i, item) in items.enumerated() {
            guard let raw = item.binaryValue, raw.count == HTLCID.byteCount, let id = try? HTLCID(raw) else {
                throw fail(key, "entry \(i) is not bin(16)")
            }
            guard seen.insert(id).inserted else { throw fail(key, "entry \(i) repeats an htlc_id") }
            ids.append(id)
        }
        return ids
    }
}

extension FieldWriter {
    mutating func htlcIDs(_ key: String, _ ids: [HTLCID]) { array(key, ids.map { .binary($0.bytes) }) }
}
