import PaymeshCrypto
import PaymeshMessages
import PaymeshNode

/// Negotiations over the wire (Specs/console.md, "Negotiation"; Specs/negotiation.md):
/// negotiate.propose / counter / accept / reject / list and negotiate.agreements.
public struct NegotiationMethods: ConsoleMethodGroup {
    let negotiations: NegotiationService
    let market: ServiceMarket
    let payments: PaymentsService

    public init(negotiations: NegotiationService, market: ServiceMarket, payments: PaymentsService) {
        self.negotiations = negotiations
        self.market = market
        self.payments = payments
    }

    static let termParams = [
        ConsoleParam("latency_ms", .integer, required: false, "SLA: p99 latency the seller commits to, ms (0: none)"),
        ConsoleParam("error_rate_bps", .integer, required: false, "SLA: upstream error rate the seller commits to stay at or below, basis points (10000: none)"),
        ConsoleParam("term", .integer, required: false, "seconds the agreed terms hold after the accept (default 2592000, 30 days)"),
    ]

    public var methods: [ConsoleMethod] {
        let negotiations = self.negotiations, market = self.market, payments = self.payments
        return [ConsoleMethod(
            "negotiate.propose", summary: "Proposes terms for a service the peer sells (signed NEGOTIATE_PROPOSE); this node is the buyer.",
            params: [ConsoleParam("peer", .string, "the seller's id"),
                     ConsoleParam("service", .string, "the service's name on the seller"),
                     ConsoleParam("price", .string, "price of one unit offered (e.g. 0.001USDC or atomic units)"),
                     ConsoleParam("asset", .string, required: false, "asset id (or as a suffix of price)"),
                     ConsoleParam("decimals", .integer, required: false, "the asset's decimals when new to this node"),
                     ConsoleParam("unit", .string, required: false, "call (default), token, second or byte"),
                     ConsoleParam("deposit", .string, "deposit of the channel that will pay for the service"),
                     ConsoleParam("timeout", .integer, required: false, "seconds the proposal stands, 1–86400 (default 300)"),
                     ConsoleParam("max_price", .string, required: false, "accept by itself a counter at or below this price"),
                     ConsoleParam("max_deposit", .string, required: false, "… and at or below this deposit (default: deposit)"),
                     ConsoleParam("open", .boolean, required: false, "open a channel with the agreed deposit to the seller once agreed (default false)")]
                + Self.termParams,
            result: "the negotiation (see negotiate.list)"
        ) { call in
            let asset = try await PaymentParams.assetParam(call, amount: "price", payments: payments)
            var limits = BuyerLimits()
            if call.string("max_price") != nil { limits.maxPrice = try PaymentParams.amountParam(call, "max_price", asset: asset) }
            if call.string("max_deposit") != nil { limits.maxDeposit = try PaymentParams.amountParam(call, "max_deposit", asset: asset) }
            let unit = call.string("unit") ?? NegotiationLimits.defaultUnit
            _ = try GossipMethods.unit(unit)
            let p = NegotiationService.Proposal(
                peer: try ConsoleParams.peerID(call, "peer"), service: try call.requireString("service"),
                price: try PaymentParams.amountParam(call, "price", asset: asset), unit: unit, asset: asset,
                deposit: try PaymentParams.amountParam(call, "deposit", asset: asset),
                latencyP99Millis: try Self.uint32(call, "latency_ms", in: NegotiationLimits.latencyMillis) ?? 0,
                errorRateBasisPoints: UInt16(try Self.uint32(call, "error_rate_bps", in: NegotiationLimits.errorRateBasisPoints)
                                             ?? UInt32(NegotiationLimits.noErrorRateCommitment)),
                termSeconds: try Self.uint32(call, "term", in: NegotiationLimits.termSeconds) ?? NegotiationLimits.defaultTermSeconds,
                timeoutSeconds: UInt64(try Self.uint32(call, "timeout", in: MessageLimits.negotiationTimeoutSeconds) ?? 300),
                limits: limits, openChannel: call.bool("open") ?? false)
            return .object(Self.json(try await negotiations.propose(p), channel: nil))
        },

        ConsoleMethod(
            "negotiate.counter", summary: "Answers the offer on the table with other terms (signed NEGOTIATE_COUNTER); omitted terms stay.",
            params: [ConsoleParam("id", .string, "the negotiation id"),
                     ConsoleParam("price", .string, required: false, "price of one unit"),
                     ConsoleParam("deposit", .string, required: false, "channel deposit")] + Self.termParams,
            result: "the negotiation"
        ) { call in
            let id = try Self.id(call)
            let asset = await negotiations.negotiation(id)?.terms.asset
            let n = try await negotiations.counter(
                id, price: try (call.string("price") == nil ? nil : PaymentParams.amountParam(call, "price", asset: asset)),
                deposit: try (call.string("deposit") == nil ? nil : PaymentParams.amountParam(call, "deposit", asset: asset)),
                latencyP99Millis: try Self.uint32(call, "latency_ms", in: NegotiationLimits.latencyMillis),
                errorRateBasisPoints: try Self.uint32(call, "error_rate_bps", in: NegotiationLimits.errorRateBasisPoints).map { UInt16($0) },
                termSeconds: try Self.uint32(call, "term", in: NegotiationLimits.termSeconds))
            return .object(Self.json(n, channel: nil))
        },

        ConsoleMethod(
            "negotiate.accept", summary: "Accepts the offer on the table (stored, then a signed NEGOTIATE_ACCEPT is sent).",
            params: [ConsoleParam("id", .string, "the negotiation id")], result: "the negotiation and its agreement"
        ) { call in
            let n = try await negotiations.accept(try Self.id(call))
            var out = Self.json(n, channel: nil)
            if let a = await market.agreement(n.id) { out["agreement"] = Self.json(AgreementRecord(a)) }
            return .object(out)
        },

        ConsoleMethod(
            "negotiate.reject", summary: "Ends an open negotiation without agreement (signed NEGOTIATE_REJECT).",
            params: [ConsoleParam("id", .string, "the negotiation id"),
                     ConsoleParam("reason", .string, required: false, "0–256 bytes")],
            result: "the negotiation"
        ) { call in
            .object(Self.json(try await negotiations.reject(try Self.id(call), reason: call.string("reason") ?? ""), channel: nil))
        },

        ConsoleMethod(
            "negotiate.list", summary: "Open negotiations, then the finished ones still remembered; with id=, one negotiation and its agreement.",
            params: [ConsoleParam("id", .string, required: false, "one negotiation")],
            result: "{negotiations: [{id, role, peer, status, round, ourTurn, offerBy, service, price, unit, asset, decimals, deposit, latencyMs, errorRateBps, term, expiresAt, reason?, agreement?, channel?}]}"
        ) { call in
            let all: [Negotiation]
            if call.string("id") != nil {
                guard let n = await negotiations.negotiation(try Self.id(call)) else { throw NodeError.paymesh(.negotiationNotFound, "no such negotiation") }
                all = [n]
            } else {
                all = await negotiations.list()
            }
            let outcomes = await negotiations.channelOutcomes
            var out: [JSONValue] = []
            for n in all {
                var o = Self.json(n, channel: outcomes[n.id])
                if n.status == .accepted, let a = await market.agreement(n.id) { o["agreement"] = Self.json(AgreementRecord(a)) }
                out.append(.object(o))
            }
            return ["negotiations": .array(out)]
        },

        ConsoleMethod(
            "negotiate.agreements", summary: "Agreements stored on this node (as buyer or seller), each with both signatures.",
            params: [ConsoleParam("valid", .boolean, required: false, "only those in force now")],
            result: "{agreements: [agreement JSON, Specs/negotiation.md §3.2]}"
        ) { call in
            let list = await market.agreements(validOnly: call.bool("valid") ?? false)
            return ["agreements": .array(list.map { Self.json(AgreementRecord($0)) })]
        }]
    }

    static func id(_ call: ConsoleCall) throws(NodeError) -> NegotiationID {
        do { return try NegotiationID(hex: try call.requireString("id")) } catch { throw .invalidParams("id is 16 bytes of hex") }
    }

    static func uint32(_ call: ConsoleCall, _ name: String, in range: ClosedRange<UInt64>) throws(NodeError) -> UInt32? {
        guard let v = call.int(name) else { return nil }
        guard v >= 0, range.contains(UInt64(v)) else { throw .invalidParams("\(name) must be \(range.lowerBound)…\(range.upperBound)") }
        return UInt32(v)
    }

    static func json(_ n: Negotiation, channel: Result<ChannelID, NodeError>?) -> [String: JSONValue] {
        let t = n.terms
        var o: [String: JSONValue] = [
            "id": .string(n.id.description), "role": .string(n.role.rawValue), "peer": .string(n.counterpart.description),
            "status": .string(n.status.rawValue), "round": JSONValue(n.round), "ourTurn": .bool(n.ourTurn),
            "offerBy": .string(n.offerIsOurs ? "us" : "peer"), "service": .string(t.service), "price": .string(t.price.description),
            "unit": .string(t.unit), "asset": .string(t.asset.id), "decimals": JSONValue(t.asset.decimals),
            "deposit": .string(t.deposit.description), "latencyMs": JSONValue(t.latencyP99Millis), "errorRateBps": JSONValue(t.errorRateBasisPoints),
            "term": JSONValue(t.termSeconds), "expiresAt": JSONValue(t.expiresAt)]
        if let reason = n.reason { o["reason"] = .string(reason) }
        switch channel {
        case .success(let id): o["channel"] = .string(id.description)
        case .failure(let error): o["channelError"] = .string(error.detail)
        case nil: break
        }
        return o
    }

    static func json(_ r: AgreementRecord) -> JSONValue {
        ["negotiationId": .string(r.negotiationId), "buyer": .string(r.buyer), "seller": .string(r.seller), "service": .string(r.service),
         "price": .string(r.price), "unit": .string(r.unit), "asset": .string(r.asset), "decimals": JSONValue(r.decimals),
         "deposit": .string(r.deposit), "latencyP99Ms": JSONValue(r.latencyP99Ms), "errorRateBps": JSONValue(r.errorRateBps),
         "term": JSONValue(r.term), "expiresAt": JSONValue(r.expiresAt), "round": JSONValue(r.round), "offerStep": JSONValue(r.offerStep),
         "offerTimestamp": JSONValue(r.offerTimestamp), "offerSignature": .string(r.offerSignature), "offeredBy": .string(r.offeredBy),
         "acceptTimestamp": JSONValue(r.acceptTimestamp), "acceptSignature": .string(r.acceptSignature), "acceptedBy": .string(r.acceptedBy)]
    }
}
