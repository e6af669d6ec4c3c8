import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshNode

/// The spending policy as console JSON (amounts as decimal strings, peers as ids; null is no limit).
enum PolicyJSON {
    static let keys = ["max_per_payment", "max_total_per_peer", "max_total", "max_payments_per_minute", "allow", "deny"]

    static func json(_ p: SpendingPolicy) -> JSONValue {
        func amount(_ a: UInt128?) -> JSONValue { a.map { .string(String($0)) } ?? .null }
        func list(_ s: Set<EthereumAddress>?) -> JSONValue {
            guard let s else { return .null }
            return .array(s.sorted().map { .string($0.description) })
        }
        return [
            "max_per_payment": amount(p.maxPerPayment), "max_total_per_peer": amount(p.maxTotalPerPeer), "max_total": amount(p.maxTotal),
            "max_payments_per_minute": p.maxPaymentsPerMinute.map { JSONValue($0) } ?? .null,
            "allow": list(p.allowList), "deny": list(p.denyList.isEmpty ? [] : p.denyList),
        ]
    }

    /// `base` with every given key replaced (null clears a limit).
    static func apply(_ params: [String: JSONValue], to base: SpendingPolicy) throws(NodeError) -> SpendingPolicy {
        var p = base
        func amount(_ key: String) throws(NodeError) -> UInt128?? {
            guard let v = params[key] else { return .none }
            if v == .null { return .some(nil) }
            guard let text = v.stringValue, let a = try? Amount(decimal: text) else {
                throw .invalidParams("\(key) must be a decimal string of atomic units or null")
            }
            return .some(a.atomicUnits)
        }
        func addresses(_ key: String) throws(NodeError) -> Set<EthereumAddress>?? {
            guard let v = params[key] else { return .none }
            if v == .null { return .some(nil) }
            guard let list = v.arrayValue else { throw .invalidParams("\(key) must be an array of peer ids or null") }
            var set = Set<EthereumAddress>()
            for item in list {
                guard let text = item.stringValue, let id = EthereumAddress(string: text) else {
                    throw .invalidParams("\(key) holds something that is not a peer id")
                }
                set.insert(id)
            }
            return .some(set)
        }
        if let v = try amount("max_per_payment") { p.maxPerPayment = v }
        if let v = try amount("max_total_per_peer") { p.maxTotalPerPeer = v }
        if let v = try amount("max_total") { p.maxTotal = v }
        if let v = params["max_payments_per_minute"] {
            if v == .null { p.maxPaymentsPerMinute = nil } else {
                guard let n = v.intValue, n >= 0, n <= 100_000_000 else { throw .invalidParams("max_payments_per_minute must be 0…100000000 or null") }
                p.maxPaymentsPerMinute = Int(n)
            }
        }
        if let v = try addresses("allow") { p.allowList = v }
        if let v = try addresses("deny") { p.denyList = v ?? [] }
        return SpendingPolicy(maxPerPayment: p.maxPerPayment, maxTotalPerPeer: p.maxTotalPerPeer, maxTotal: p.maxTotal,
                              maxPaymentsPerMinute: p.maxPaymentsPerMinute, allowList: p.allowList, denyList: p.denyList)
    }
}
