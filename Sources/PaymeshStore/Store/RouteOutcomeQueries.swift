import PaymeshCrypto
import PaymeshMessages

/// Writing and reading `route_outcomes` (schema v8, Specs/storage.md "Route outcomes").
enum RouteOutcomeQueries {
    /// Records (or replaces: the hash was paid again after a failure) one origin outcome.
    static func save(_ o: RouteOutcome, _ db: SQLiteConnection) throws(StoreError) {
        try db.run("""
            INSERT OR REPLACE INTO route_outcomes (payment_hash, preimage, code, hop_index, node, at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            """) { s throws(StoreError) in
            try s.bind(1, o.paymentHash.bytes)
            try s.bind(2, o.preimage?.bytes)
            try s.bind(3, o.code.map { Int64($0.rawValue) })
            try s.bind(4, o.hopIndex.map { Int64(clamping: $0) })
            try s.bind(5, o.node.map { $0.bytes })
            try s.bind(6, try IntegerEncoding.int64(o.atMillis, "route_outcomes.at"))
        }
    }

    static func delete(_ hashes: [Hash32], _ db: SQLiteConnection) throws(StoreError) {
        for h in hashes {
            try db.run("DELETE FROM route_outcomes WHERE payment_hash = ?1") { s throws(StoreError) in try s.bind(1, h.bytes) }
        }
    }

    static func all(_ db: SQLiteConnection) throws(StoreError) -> [RouteOutcome] {
        let s = try db.statement("SELECT payment_hash, preimage, code, hop_index, node, at FROM route_outcomes ORDER BY at, payment_hash")
        var out: [RouteOutcome] = []
        while try s.step() {
            let preimage = try BytesDecoding.decodeOptional(Hash32.self, s.blob(1), "route_outcomes.preimage")
            let code: PaymeshErrorCode? = s.isNull(2) ? nil : PaymeshErrorCode(rawValue: UInt16(clamping: s.int64(2)))
            guard (preimage == nil) != (code == nil) else { throw .corrupt("route_outcomes: exactly one of preimage and code") }
            out.append(RouteOutcome(paymentHash: try BytesDecoding.decode(Hash32.self, s.blob(0), "route_outcomes.payment_hash"),
                                    preimage: preimage, code: code, hopIndex: s.isNull(3) ? nil : Int(s.int64(3)),
                                    node: try BytesDecoding.decodeOptional(EthereumAddress.self, s.blob(4), "route_outcomes.node"),
                                    atMillis: try IntegerEncoding.uint64(s.int64(5), "route_outcomes.at")))
        }
        return out
    }
}
