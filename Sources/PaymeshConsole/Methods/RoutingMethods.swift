import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import PaymeshNode
import PaymeshRouting

/// Routing methods (Specs/console.md, "Routing"): `route.find` (a dry run of path search over the
/// gossip graph: nothing is locked or sent) and `invoice.decode`. Both read the graph and clock of
/// `GossipService`; with the node's `RoutedPayments`, routes are priced with its reputation tracker.
public struct RoutingMethods: ConsoleMethodGroup {
    let gossip: GossipService
    /// Resolves `asset` through the node's asset registry when given (as `GossipMethods`).
    let payments: PaymentsService?
    /// The node's routed payments (its reputation prices `route.find`); nil: no history.
    let routed: RoutedPayments?

    /// Bounds of `route.find` (`maxHops` as the onion's 20 hops, `count` as issue 10's k).
    static let maxHopsLimit = 20
    static let maxRoutesLimit = 10

    public init(gossip: GossipService, payments: PaymentsService? = nil, routed: RoutedPayments? = nil) {
        self.gossip = gossip
        self.payments = payments
        self.routed = routed
    }

    public var methods: [ConsoleMethod] {
        let g = gossip, payments = payments, routed = routed
        return [ConsoleMethod(
            "route.find", summary: "Dry run of path search from this node over the gossip graph: up to count candidate routes, cheapest first, with per-hop amounts, fees and expiries. Nothing is locked or sent.",
            params: [ConsoleParam("to", .string, "the payee's node id"),
                     ConsoleParam("amount", .string, "what the payee receives, atomic units (decimal string) or 1.5USDC"),
                     ConsoleParam("asset", .string, required: false, "asset id (or named by amount)"),
                     ConsoleParam("decimals", .integer, required: false, "the asset's decimals when the node has no asset registry"),
                     ConsoleParam("maxHops", .integer, required: false, "1–\(Self.maxHopsLimit), default 10"),
                     ConsoleParam("count", .integer, required: false, "1–\(Self.maxRoutesLimit), default 1")],
            result: "{routes: [{amount, totalAmount, totalFees, expiry, cost, hops: [{node, channel, amount, fee, expiry, expiryDeltaMs}]}]}"
        ) { call in
            let target = try ConsoleParams.peerID(call, "to")
            let asset = try await GossipMethods.asset(call, payments: payments)
            let amount = try PaymentParams.amountParam(call, "amount", asset: asset)
            var parameters = RoutingParameters()
            if let hops = call.int("maxHops") {
                guard (1...Int64(Self.maxHopsLimit)).contains(hops) else { throw NodeError.invalidParams("maxHops must be 1–\(Self.maxHopsLimit)") }
                parameters.maxHops = Int(hops)
            }
            let count = call.int("count") ?? 1
            guard (1...Int64(Self.maxRoutesLimit)).contains(count) else { throw NodeError.invalidParams("count must be 1–\(Self.maxRoutesLimit)") }
            let routes: [Route]
            if let routed {
                do throws(RoutingError) {
                    routes = try await routed.findRoutes(to: target, amount: Amount(amount), asset: asset, count: Int(count), parameters: parameters)
                } catch { throw Self.nodeError(error) }
            } else {
                let (network, now) = await g.graphSnapshot()
                let graph = RoutingGraph(network, asset: asset)
                let query = RouteQuery(source: g.id, target: target, amount: Amount(amount), now: now)
                do throws(RoutingError) { routes = try graph.findRoutes(query, count: Int(count), parameters: parameters) } catch { throw Self.nodeError(error) }
            }
            return ["routes": .array(routes.map(Self.json))]
        },

        ConsoleMethod(
            "invoice.decode", summary: "Decodes and checks a pminv1 invoice (payee signature, expiry against the node's clock).",
            params: [ConsoleParam("invoice", .string, "the pminv1… string")],
            result: "{payee, paymentHash, amount, asset, decimals, memo, created, expiryMs, expiresAt, minFinalExpiryMs, routeHints: [{node, channel, feeBase, feePpm, expiryDeltaMs, htlcMin, htlcMax}]}"
        ) { call in
            let text = try call.requireString("invoice")
            let (_, now) = await g.graphSnapshot()
            let invoice: Invoice
            do throws(RoutingError) { invoice = try Invoice.decode(text, now: now) } catch { throw Self.nodeError(error) }
            return Self.json(invoice)
        }]
    }

    /// No route is NO_ROUTE_FOUND (1400); a bad query or invoice is the caller's INVALID_PARAMS.
    static func nodeError(_ error: RoutingError) -> NodeError {
        error.wireCode == .noRouteFound ? .paymesh(.noRouteFound, error.description) : .invalidParams(error.description)
    }

    static func json(_ route: Route) -> JSONValue {
        ["amount": .string(route.amount.description), "totalAmount": .string(route.totalAmount.description),
         "totalFees": .string(route.totalFees.description), "expiry": JSONValue(route.expiry), "cost": .string(route.cost.description),
         "hops": .array(route.hops.map { h in
             ["node": .string(h.nodeID.description), "channel": .string(h.channelID.description), "amount": .string(h.amount.description),
              "fee": .string(h.fee.description), "expiry": JSONValue(h.expiry), "expiryDeltaMs": JSONValue(h.expiryDeltaMillis)]
         })]
    }

    static func json(_ invoice: Invoice) -> JSONValue {
        ["payee": .string(invoice.payee.description), "paymentHash": .string(invoice.paymentHash.description),
         "amount": invoice.amount.map { .string($0.description) } ?? .null, "asset": .string(invoice.asset.id),
         "decimals": JSONValue(Int64(invoice.asset.decimals)), "memo": .string(invoice.memo), "created": JSONValue(invoice.created),
         "expiryMs": JSONValue(invoice.expiryMillis), "expiresAt": JSONValue(invoice.expiresAt),
         "minFinalExpiryMs": JSONValue(invoice.minFinalExpiryMillis),
         "routeHints": .array(invoice.routeHints.map { h in
             ["node": .string(h.nodeID.description), "channel": .string(h.channelID.description), "feeBase": .string(h.feeBase.description),
              "feePpm": JSONValue(h.feePPM), "expiryDeltaMs": JSONValue(h.expiryDeltaMillis), "htlcMin": .string(h.htlcMinimum.description),
              "htlcMax": .string(h.htlcMaximum.description)]
         })]
    }
}
