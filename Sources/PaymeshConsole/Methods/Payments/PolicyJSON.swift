import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshNode

/// The spending policy as console JSON (amounts as decimal strings, peers as ids; null is no limit).
enum PolicyJSON {
    static let keys = ["max_per_payment", "max_total_per_peer", "max_total", "max_payments_per_minute", "allow", "deny", "auto_open"]
    /// Assets `auto_open` may name.
    static let maxAutoOpenAssets = 16

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
            "auto_open": p.autoOpen.isEmpty ? .null : .object(p.autoOpen.mapValues { t in
                ["deposit": .string(String(t.deposit)), "max_per_peer": amount(t.maxPerPeer), "max_total": amount(t.maxTotal)]
            }),
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
        if let v = params["auto_open"] { p.autoOpen = try autoOpen(v) }
        var out = SpendingPolicy(maxPerPayment: p.maxPerPayment, maxTotalPerPeer: p.maxTotalPerPeer, maxTotal: p.maxTotal,
                                 maxPaymentsPerMinute: p.maxPaymentsPerMinute, allowList: p.allowList, denyList: p.denyList)
        out.autoOpen = p.autoOpen
        return out
    }

    /// `auto_open`: null (off) or `{<asset>: {deposit, max_per_peer?, max_total?}}` (Specs/channels.md §9.1).
    static func autoOpen(_ v: JSONValue) throws(NodeError) -> [String: AutoOpenTerms] {
        if v == .null { return [:] }
        guard let object = v.objectValue, object.count <= maxAutoOpenAssets else {
            throw .invalidParams("auto_open must be null or {asset: {deposit, max_per_peer, max_total}} for at most \(maxAutoOpenAssets) assets")
        }
        var out: [String: AutoOpenTerms] = [:]
        for (given, terms) in object {
            let asset = Asset.normalizedID(given)
            guard Asset.idBytes.contains(asset.utf8.count) else { throw .invalidParams("auto_open: \(given.prefix(64)) is not an asset id") }
            func amount(_ key: String) throws(NodeError) -> UInt128? {
                guard let value = terms[key], value != .null else { return nil }
                guard let text = value.stringValue, let a = try? Amount(decimal: text) else {
                    throw .invalidParams("auto_open.\(asset).\(key) must be a decimal string of atomic units or null")
                }
                return a.atomicUnits
            }
            guard terms.objectValue != nil, Set(terms.objectValue!.keys).isSubset(of: ["deposit", "max_per_peer", "max_total"]) else {
                throw .invalidParams("auto_open.\(asset) is {deposit, max_per_peer, max_total}")
            }
            guard let deposit = try amount("deposit"), deposit > 0 else { throw .invalidParams("auto_open.\(asset).deposit must be above zero") }
            out[asset] = AutoOpenTerms(deposit: deposit, maxPerPeer: try amount("max_per_peer"), maxTotal: try amount("max_total"))
        }
        return out
    }
}
