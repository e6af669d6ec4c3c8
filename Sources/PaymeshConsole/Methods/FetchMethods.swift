import Foundation
import PaymeshMessages
import PaymeshNode

/// Buying over HTTP (Specs/console.md "HTTP fetch", Specs/http402.md §11): `http.fetch` over
/// `HTTPFetcher` — the request, the 402 answer read and paid within `max_price`, the proof
/// presented, the answer returned; one idempotency key per request.
public struct FetchMethods: ConsoleMethodGroup {
    let fetcher: HTTPFetcher

    public init(fetcher: HTTPFetcher) { self.fetcher = fetcher }

    public var methods: [ConsoleMethod] {
        let fetcher = self.fetcher
        return [ConsoleMethod(
            "http.fetch", summary: "Makes an HTTP request from this node (loopback URLs only); on 402 pays the cheapest offer it can within max_price and presents the proof.",
            params: [ConsoleParam("url", .string, "http://<loopback host>:<port>/…"),
                     ConsoleParam("method", .string, required: false, "GET (default), HEAD, POST, PUT, PATCH or DELETE"),
                     ConsoleParam("headers", .any, required: false, "{name: value} or [\"Name: value\", …]; X-PAYMENT, PAYMENT-SIGNATURE and framing headers are the node's"),
                     ConsoleParam("body", .string, required: false, "the request body, UTF-8"),
                     ConsoleParam("body_base64", .string, required: false, "the request body, base64 (instead of body)"),
                     ConsoleParam("max_price", .string, required: false, "the most this request may cost: atomic units (250) or a decimal with its asset (0.00025USDC); without it nothing is paid"),
                     ConsoleParam("idempotency_key", .string, required: false, "1–48 bytes of A-Z a-z 0-9 . _ - :; a retry with the same key never pays twice (default: a fresh key)")],
            result: "{status, headers: [[name, value]], body | body_base64, idempotency_key, paid, asset, scheme, channel, nonce, receipt, reused; metered answers also unit, units, units_total, partial; per-second answers: units = seconds bought, units_total null, served_ms}"
        ) { call in
            var body: [UInt8]?
            if let text = call.string("body") { body = Array(text.utf8) }
            if let b64 = call.string("body_base64") {
                guard body == nil else { throw NodeError.invalidParams("give body or body_base64, not both") }
                guard let data = Data(base64Encoded: b64) else { throw NodeError.invalidParams("body_base64 is not base64") }
                body = Array(data)
            }
            var maxPrice: AmountInput?
            if let text = call.string("max_price") {
                do throws(MessageError) { maxPrice = try AmountInput(parsing: text) } catch { throw NodeError.invalidParams("max_price: \(error.detail)") }
            }
            let request = FetchRequest(url: try call.requireString("url"), method: call.string("method") ?? "GET",
                                       headers: try Self.headers(call.params["headers"]), body: body, maxPrice: maxPrice,
                                       idempotencyKey: call.string("idempotency_key"))
            return Self.json(try await fetcher.fetch(request))
        }]
    }

    static func headers(_ value: JSONValue?) throws(NodeError) -> [(String, String)] {
        switch value {
        case nil, .null?: return []
        case .object(let o)?:
            return try o.sorted { $0.key < $1.key }.map { pair throws(NodeError) in
                guard let s = pair.value.stringValue else { throw .invalidParams("headers: the value of \(pair.key) is not a string") }
                return try checked(pair.key, s)
            }
        case .array(let items)?:
            return try items.map { item throws(NodeError) in
                guard let line = item.stringValue, let colon = line.firstIndex(of: ":") else {
                    throw .invalidParams("headers: each item is \"Name: value\"")
                }
                return try checked(String(line[..<colon]), String(line[line.index(after: colon)...].drop { $0 == " " }))
            }
        default: throw .invalidParams("headers is {name: value} or [\"Name: value\", …]")
        }
    }

    /// A header name is an RFC 9110 token; a value has no CR, LF or NUL.
    private static func checked(_ name: String, _ value: String) throws(NodeError) -> (String, String) {
        let token = !name.isEmpty && name.utf8.count <= 256 && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains($0) }
        guard token, value.utf8.count <= 8_192, !value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) else {
            throw .invalidParams("headers: \(name.prefix(64)) is not a valid header")
        }
        return (name, value)
    }

    static func json(_ r: FetchResult) -> JSONValue {
        var out: [String: JSONValue] = [
            "status": .int(Int64(r.status)),
            "headers": .array(r.headers.map { .array([.string($0.0), .string($0.1)]) }),
            "idempotency_key": .string(r.key),
            "paid": .string(String(r.paid)),
            "asset": JSONValue(r.asset),
            "scheme": JSONValue(r.scheme),
            "channel": JSONValue(r.channel?.description),
            "nonce": r.nonce.map { .string(String($0)) } ?? .null,
            "receipt": JSONValue(r.receipt),
            "reused": .bool(r.reused),
            "opened": JSONValue(r.opened?.description),
        ]
        if let unit = r.unit, let units = r.units {  // a metered answer (Specs/http402.md §12.4, §12.6)
            out["unit"] = .string(unit)
            out["units"] = .string(String(units))
            out["units_total"] = r.unitsTotal.map { .string(String($0)) } ?? .null
            if let from = r.unitsFrom { out["units_from"] = .string(String(from)) }
            if let served = r.servedMillis { out["served_ms"] = .string(String(served)) }
            out["partial"] = JSONValue(r.partial)
        }
        if let text = String(validating: r.body, as: UTF8.self) { out["body"] = .string(text) } else {
            out["body_base64"] = .string(Data(r.body).base64EncodedString())
        }
        return .object(out)
    }
}
