import Foundation
import PaymeshCrypto
import PaymeshMessages
import PaymeshRouting
import PaymeshStore

/// A payment journal entry as the store keeps it (`payments.record`, Specs/storage.md "Invoices
/// and payments"): UTF-8 JSON with the entry's every field; amounts as decimal strings, byte
/// values as `0x` hex, times unix ms.
struct PaymentRecord: Codable, Equatable {
    struct Hop: Codable, Equatable {
        var node: String
        var channel: String
        var amount: String
        var expiry: UInt64
        var fee: String
        var expiryDelta: UInt64

        var json: String {
            var o = ObjectWriter()
            o.string("amount", amount)
            o.string("channel", channel)
            o.number("expiry", expiry)
            o.number("expiryDelta", expiryDelta)
            o.string("fee", fee)
            o.string("node", node)
            return o.closed
        }
    }

    struct Attempt: Codable, Equatable {
        var source: String
        var cost: String
        var hops: [Hop]
        var startedAt: UInt64
        var finishedAt: UInt64?
        /// `in_flight`, `succeeded` or `failed`.
        var outcome: String
        var hopIndex: Int?
        var code: UInt16?
        var node: String?

        var json: String {
            var o = ObjectWriter()
            o.number("code", code)
            o.string("cost", cost)
            o.number("finishedAt", finishedAt)
            o.number("hopIndex", hopIndex)
            o.array("hops", hops.map(\.json))
            o.string("node", node)
            o.string("outcome", outcome)
            o.string("source", source)
            o.number("startedAt", startedAt)
            return o.closed
        }
    }

    var v: Int
    var id: String
    var paymentHash: String
    var payee: String
    var amount: String
    var createdAt: UInt64
    /// `pending`, `succeeded` or `failed`.
    var status: String
    var preimage: String?
    var reason: String?
    var finishedAt: UInt64?
    var attempts: [Attempt]

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    static func encode(_ p: PaymentJournal.Payment) throws -> StoredPayment {
        var status = "pending", preimage: String?, reason: String?
        switch p.status {
        case .pending: break
        case .succeeded(let x): status = "succeeded"; preimage = x.description
        case .failed(let why): status = "failed"; reason = why
        }
        let record = PaymentRecord(
            v: 1, id: p.id.description, paymentHash: p.paymentHash.description, payee: p.payee.description, amount: p.amount.description,
            createdAt: p.createdAt, status: status, preimage: preimage, reason: reason, finishedAt: p.finishedAt,
            attempts: p.attempts.map { a in
                var outcome = "in_flight", hopIndex: Int?, code: UInt16?, node: String?
                switch a.outcome {
                case .inFlight: break
                case .succeeded: outcome = "succeeded"
                case .failed(let h, let c, let n): outcome = "failed"; hopIndex = h; code = c.rawValue; node = n?.description
                }
                return Attempt(source: a.route.source.description, cost: a.route.cost.description,
                               hops: a.route.hops.map { Hop(node: $0.nodeID.description, channel: $0.channelID.description,
                                                            amount: $0.amount.description, expiry: $0.expiry, fee: $0.fee.description,
                                                            expiryDelta: $0.expiryDeltaMillis) },
                               startedAt: a.startedAt, finishedAt: a.finishedAt, outcome: outcome, hopIndex: hopIndex, code: code, node: node)
            })
        return StoredPayment(id: p.id.bytes, paymentHash: p.paymentHash, createdMillis: p.createdAt, record: Array(record.json.utf8))
    }

    /// The record as JSON, written directly: keys sorted, absent optionals left out — what
    /// `JSONEncoder` with `.sortedKeys` writes, except that "/" is not escaped. (`JSONEncoder` took
    /// ≈ 0.12 ms per entry, on the origin's path before its HTLC is sent; issue 10 latency.)
    var json: String {
        var o = ObjectWriter()
        o.string("amount", amount)
        o.array("attempts", attempts.map(\.json))
        o.number("createdAt", createdAt)
        o.number("finishedAt", finishedAt)
        o.string("id", id)
        o.string("payee", payee)
        o.string("paymentHash", paymentHash)
        o.string("preimage", preimage)
        o.string("reason", reason)
        o.string("status", status)
        o.number("v", v)
        return o.closed
    }

    /// One JSON object, its members written in the order given (the caller sorts the keys).
    struct ObjectWriter {
        private var out = "{"

        mutating func string(_ key: String, _ value: String?) {
            guard let value else { return }
            member(key)
            JSONStringLiteral.write(value, to: &out)
        }

        mutating func number(_ key: String, _ value: (some BinaryInteger)?) {
            guard let value else { return }
            member(key)
            out += String(value)
        }

        mutating func array(_ key: String, _ items: [String]) {
            member(key)
            out += "[" + items.joined(separator: ",") + "]"
        }

        private mutating func member(_ key: String) {
            if out.utf8.count > 1 { out += "," }
            JSONStringLiteral.write(key, to: &out)
            out += ":"
        }

        var closed: String { out + "}" }
    }

    static func decode(_ stored: StoredPayment) throws -> PaymentJournal.Payment {
        let r = try JSONDecoder().decode(PaymentRecord.self, from: Data(stored.record))
        guard r.v == 1 else { throw Malformed(description: "payment record version \(r.v)") }
        func address(_ s: String) throws -> EthereumAddress {
            guard let a = EthereumAddress(string: s) else { throw Malformed(description: "address \(s)") }
            return a
        }
        func hash(_ s: String) throws -> Hash32 {
            guard let h = try? Hash32(hex: s) else { throw Malformed(description: "hash \(s)") }
            return h
        }
        func amount(_ s: String) throws -> Amount {
            guard let v = UInt128(s) else { throw Malformed(description: "amount \(s)") }
            return Amount(v)
        }
        let status: PaymentJournal.Status
        switch r.status {
        case "pending": status = .pending
        case "succeeded": status = .succeeded(preimage: try hash(r.preimage ?? ""))
        case "failed": status = .failed(reason: r.reason ?? "")
        default: throw Malformed(description: "status \(r.status)")
        }
        let attempts = try r.attempts.map { a throws -> PaymentJournal.Attempt in
            let hops = try a.hops.map { h throws -> Route.Hop in
                guard let channel = try? ChannelID(hex: h.channel) else { throw Malformed(description: "channel \(h.channel)") }
                return Route.Hop(nodeID: try address(h.node), channelID: channel, amount: try amount(h.amount), expiry: h.expiry,
                                 fee: try amount(h.fee), expiryDeltaMillis: h.expiryDelta)
            }
            guard !hops.isEmpty, let cost = UInt128(a.cost) else { throw Malformed(description: "attempt route") }
            let outcome: PaymentJournal.Attempt.Outcome
            switch a.outcome {
            case "in_flight": outcome = .inFlight
            case "succeeded": outcome = .succeeded
            case "failed": outcome = .failed(hopIndex: a.hopIndex, code: PaymeshErrorCode(rawValue: a.code ?? 1502),
                                             node: try a.node.map(address))
            default: throw Malformed(description: "outcome \(a.outcome)")
            }
            return PaymentJournal.Attempt(route: Route(source: try address(a.source), hops: hops, cost: cost), startedAt: a.startedAt,
                                          finishedAt: a.finishedAt, outcome: outcome)
        }
        let id: PaymentJournal.PaymentID
        do { id = try PaymentJournal.PaymentID(stored.id) } catch { throw Malformed(description: "id") }
        return PaymentJournal.Payment(id: id, paymentHash: try hash(r.paymentHash), payee: try address(r.payee), amount: try amount(r.amount),
                                      createdAt: r.createdAt, status: status, attempts: attempts, finishedAt: r.finishedAt)
    }
}
