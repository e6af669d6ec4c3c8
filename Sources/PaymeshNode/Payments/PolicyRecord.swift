import Foundation
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages

/// The spending policy as stored in the channel store's `metadata` under `payments/policy`
/// (Specs/storage.md): a JSON object, amounts as decimal strings, peer lists as EIP-55 ids; a
/// missing or null key is no limit.
enum PolicyRecord {
    static let metadataKey = "payments/policy"

    private struct Stored: Codable {
        var max_per_payment: String?
        var max_total_per_peer: String?
        var max_total: String?
        var max_payments_per_minute: Int?
        var allow: [String]?
        var deny: [String]?
        var auto_open: [String: StoredAutoOpen]?
    }

    private struct StoredAutoOpen: Codable {
        var deposit: String
        var max_per_peer: String?
        var max_total: String?
    }

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    static func encode(_ p: SpendingPolicy) throws -> [UInt8] {
        let stored = Stored(
            max_per_payment: p.maxPerPayment.map { String($0) }, max_total_per_peer: p.maxTotalPerPeer.map { String($0) },
            max_total: p.maxTotal.map { String($0) }, max_payments_per_minute: p.maxPaymentsPerMinute,
            allow: p.allowList.map { $0.sorted().map(\.description) },
            deny: p.denyList.sorted().map(\.description),
            auto_open: p.autoOpen.isEmpty ? nil : p.autoOpen.mapValues {
                StoredAutoOpen(deposit: String($0.deposit), max_per_peer: $0.maxPerPeer.map { String($0) }, max_total: $0.maxTotal.map { String($0) })
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(stored))
    }

    /// The stored policy; throws on anything that is not a valid policy (the node then starts
    /// with no limits, as before).
    static func decode(_ bytes: [UInt8]) throws -> SpendingPolicy {
        let s = try JSONDecoder().decode(Stored.self, from: Data(bytes))
        func amount(_ text: String?, _ key: String) throws -> UInt128? {
            guard let text else { return nil }
            guard let a = try? Amount(decimal: text) else { throw Invalid(description: "\(key) is not a decimal amount") }
            return a.atomicUnits
        }
        func addresses(_ list: [String]?, _ key: String) throws -> Set<EthereumAddress>? {
            guard let list else { return nil }
            var set = Set<EthereumAddress>()
            for text in list {
                guard let id = EthereumAddress(string: text) else { throw Invalid(description: "\(key) holds something that is not a peer id") }
                set.insert(id)
            }
            return set
        }
        if let n = s.max_payments_per_minute, n < 0 || n > 100_000_000 {
            throw Invalid(description: "max_payments_per_minute must be 0…100000000")
        }
        var policy = SpendingPolicy(maxPerPayment: try amount(s.max_per_payment, "max_per_payment"),
                                    maxTotalPerPeer: try amount(s.max_total_per_peer, "max_total_per_peer"),
                                    maxTotal: try amount(s.max_total, "max_total"), maxPaymentsPerMinute: s.max_payments_per_minute,
                                    allowList: try addresses(s.allow, "allow"), denyList: try addresses(s.deny, "deny") ?? [])
        for (asset, terms) in s.auto_open ?? [:] {
            guard let deposit = try amount(terms.deposit, "auto_open.deposit"), deposit > 0 else {
                throw Invalid(description: "auto_open.\(asset).deposit must be above zero")
            }
            policy.autoOpen[asset] = AutoOpenTerms(deposit: deposit, maxPerPeer: try amount(terms.max_per_peer, "auto_open.max_per_peer"),
                                                   maxTotal: try amount(terms.max_total, "auto_open.max_total"))
        }
        return policy
    }
}
