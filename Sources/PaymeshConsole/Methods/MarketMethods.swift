import Foundation
import PaymeshCrypto
import PaymeshMessages
import PaymeshNode

/// Prices and SLA of the services this node sells (Specs/console.md, "Market"; Specs/negotiation.md
/// §6–§7): service.policy, service.quote, sla.status, sla.violations, sla.verify.
public struct MarketMethods: ConsoleMethodGroup {
    let market: ServiceMarket
    let catalog: ServiceCatalog

    public init(market: ServiceMarket, catalog: ServiceCatalog) {
        self.market = market
        self.catalog = catalog
    }

    public var methods: [ConsoleMethod] {
        let market = self.market, catalog = self.catalog
        return [ConsoleMethod(
            "service.policy", summary: "Sets the bounds the price of a service moves in and what negotiations accept by themselves (durable); without min_price, shows them.",
            params: [ConsoleParam("name", .string, "the service's name"),
                     ConsoleParam("min_price", .string, required: false, "lowest price (atomic units): the quote and agreements never go below"),
                     ConsoleParam("max_price", .string, required: false, "highest price (atomic units), reached at full load"),
                     ConsoleParam("in_flight_target", .integer, required: false, "requests in flight at full load (default 64)"),
                     ConsoleParam("rate_target", .integer, required: false, "paid requests per second at full load (default 100)"),
                     ConsoleParam("reputation_discount_bps", .integer, required: false, "discount for a client with full reputation, 0–10000 (default 0)"),
                     ConsoleParam("auto", .boolean, required: false, "answer negotiations by itself (default true)"),
                     ConsoleParam("min_deposit", .string, required: false, "lowest channel deposit agreed (atomic units, default 0)"),
                     ConsoleParam("min_latency_ms", .integer, required: false, "tightest p99 latency committed to, ms (default 0: any)"),
                     ConsoleParam("min_error_rate_bps", .integer, required: false, "tightest error rate committed to, bps (default 0: any)"),
                     ConsoleParam("max_term", .integer, required: false, "longest term agreed, s (default 2592000)"),
                     ConsoleParam("remove", .boolean, required: false, "drop the bounds (the listed price, fixed)")],
            result: "{name, policy: {minPrice, maxPrice, …} | null}"
        ) { call in
            let name = try call.requireString("name")
            guard let service = await catalog.service(named: name) else { throw NodeError.invalidParams("this node does not sell \(name)") }
            if call.bool("remove") == true {
                try await market.setPolicy(nil, for: name)
            } else if call.string("min_price") != nil {
                let asset = service.asset
                let minPrice = try PaymentParams.amountParam(call, "min_price", asset: asset)
                let maxPrice = try (call.string("max_price") == nil ? minPrice : PaymentParams.amountParam(call, "max_price", asset: asset))
                let policy = try ServicePolicy(
                    minPrice: minPrice, maxPrice: maxPrice,
                    inFlightTarget: try Self.uint32(call, "in_flight_target") ?? 64, rateTarget: try Self.uint32(call, "rate_target") ?? 100,
                    reputationDiscountBps: UInt16(clamping: try Self.uint32(call, "reputation_discount_bps") ?? 0),
                    autoNegotiate: call.bool("auto") ?? true,
                    minDeposit: try (call.string("min_deposit") == nil ? 0 : PaymentParams.amountParam(call, "min_deposit", asset: asset)),
                    minLatencyP99Millis: try Self.uint32(call, "min_latency_ms") ?? 0,
                    minErrorRateBps: UInt16(clamping: try Self.uint32(call, "min_error_rate_bps") ?? 0),
                    maxTermSeconds: try Self.uint32(call, "max_term") ?? NegotiationLimits.defaultTermSeconds)
                try await market.setPolicy(policy, for: name)
            }
            return ["name": .string(name), "policy": await market.policy(of: name).map(Self.policyJSON) ?? .null]
        },

        ConsoleMethod(
            "service.quote", summary: "The price of one unit of a service now (load and, with client=, that client's reputation or agreement).",
            params: [ConsoleParam("name", .string, "the service's name"),
                     ConsoleParam("client", .string, required: false, "a client's id")],
            result: "{name, price, unit, asset, decimals, listed, inFlight, perSecond, agreement?}"
        ) { call in
            let name = try call.requireString("name")
            guard let s = await catalog.service(named: name) else { throw NodeError.invalidParams("this node does not sell \(name)") }
            let client = call.string("client") == nil ? nil : try ConsoleParams.peerID(call, "client")
            let (price, agreement) = await market.price(of: s, client: client)
            let load = await market.load(of: name)
            var out: [String: JSONValue] = [
                "name": .string(name), "price": .string(String(price)), "unit": .string(s.unit.rawValue), "asset": .string(s.asset.id),
                "decimals": JSONValue(s.asset.decimals), "listed": .string(String(s.price)), "inFlight": JSONValue(load.inFlight),
                "perSecond": JSONValue(load.perSecond)]
            if let agreement { out["agreement"] = .string(agreement.terms.negotiationID.description) }
            return .object(out)
        },

        ConsoleMethod(
            "sla.status", summary: "The gateway's measurements per client and service (bounded table) against agreed SLA terms.",
            result: "{rows: [{client, service, requests, errors, paid, windowSamples, lastP99Ms, lastErrorRateBps, maxLatencyMs, violations, agreement, agreedLatencyP99Ms, agreedErrorRateBps}]}"
        ) { _ in
            let rows = await market.slaStatus().map { r -> JSONValue in
                ["client": JSONValue(r.client?.description), "service": .string(r.service), "requests": JSONValue(r.requests),
                 "errors": JSONValue(r.errors), "paid": JSONValue(r.paid), "windowSamples": JSONValue(r.windowSamples),
                 "lastP99Ms": r.lastP99Millis.map { JSONValue($0) } ?? .null, "lastErrorRateBps": r.lastErrorRateBps.map { JSONValue($0) } ?? .null,
                 "maxLatencyMs": JSONValue(r.maxLatencyMillis), "violations": JSONValue(r.violations),
                 "agreement": JSONValue(r.agreement?.description), "agreedLatencyP99Ms": r.agreedLatencyP99Millis.map { JSONValue($0) } ?? .null,
                 "agreedErrorRateBps": r.agreedErrorRateBps.map { JSONValue($0) } ?? .null]
            }
            return ["rows": .array(rows)]
        },

        ConsoleMethod(
            "sla.violations", summary: "Recorded violations of agreed SLA terms, each signed by this node with the agreement it breaks (evidence, Specs/negotiation.md §7).",
            params: [ConsoleParam("client", .string, required: false, "only this client's")],
            result: "{violations: [violation record]}"
        ) { call in
            let client = call.string("client") == nil ? nil : try ConsoleParams.peerID(call, "client").description
            let records = await market.violationRecords().filter { client == nil || $0.client == client }
            return ["violations": .array(try records.map { try Self.recordJSON($0) })]
        },

        ConsoleMethod(
            "sla.verify", summary: "Checks a violation record as a third party would: both signatures of the agreement, the seller's signature of the statement, the breach.",
            params: [ConsoleParam("record", .object, "a record as sla.violations returns it")],
            result: "{valid: true, seller, buyer, metric} or error 1447"
        ) { call in
            guard let record = call.params["record"] else { throw NodeError.invalidParams("record is required") }
            let r: SLAViolationRecord
            do { r = try JSONDecoder().decode(SLAViolationRecord.self, from: Data(record.description.utf8)) } catch {
                throw NodeError.paymesh(.slaEvidenceInvalid, "the record does not parse: \(error)")
            }
            try r.verify()
            return ["valid": true, "seller": .string(r.agreement.seller), "buyer": .string(r.agreement.buyer), "metric": .string(r.metric)]
        }]
    }

    static func uint32(_ call: ConsoleCall, _ name: String) throws(NodeError) -> UInt32? {
        guard let v = call.int(name) else { return nil }
        guard v >= 0, v <= Int64(UInt32.max) else { throw .invalidParams("\(name) must be 0…\(UInt32.max)") }
        return UInt32(v)
    }

    static func policyJSON(_ p: ServicePolicy) -> JSONValue {
        ["minPrice": .string(String(p.minPrice)), "maxPrice": .string(String(p.maxPrice)), "inFlightTarget": JSONValue(p.inFlightTarget),
         "rateTarget": JSONValue(p.rateTarget), "reputationDiscountBps": JSONValue(p.reputationDiscountBps), "auto": .bool(p.autoNegotiate),
         "minDeposit": .string(String(p.minDeposit)), "minLatencyMs": JSONValue(p.minLatencyP99Millis), "minErrorRateBps": JSONValue(p.minErrorRateBps),
         "maxTerm": JSONValue(p.maxTermSeconds)]
    }

    /// The record exactly as its Codable form (what sla.verify and third parties parse back).
    static func recordJSON(_ r: SLAViolationRecord) throws -> JSONValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try JSONValue.parse(Array(try encoder.encode(r)))
    }
}
