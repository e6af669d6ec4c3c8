import PaymeshGossip
import PaymeshMessages
import PaymeshNode

/// The services this node sells through its HTTP 402 gateway (Specs/console.md, "Services";
/// Specs/http402.md §10): service.add, service.list, service.remove over `ServiceCatalog`.
public struct ServiceMethods: ConsoleMethodGroup {
    let catalog: ServiceCatalog
    /// Checks the asset against the node's asset registry when given.
    let payments: PaymentsService?

    public init(catalog: ServiceCatalog, payments: PaymentsService? = nil) {
        self.catalog = catalog
        self.payments = payments
    }

    public var methods: [ConsoleMethod] {
        let catalog = self.catalog, payments = self.payments
        return [ConsoleMethod(
            "service.add", summary: "Sells a service through the HTTP 402 gateway (stored durably, advertised over gossip); returns its URL on the gateway.",
            params: [ConsoleParam("name", .string, "1–64 bytes of A-Z a-z 0-9 . _ -: the path /<name>/… on the gateway"),
                     ConsoleParam("upstream", .string, "http://127.0.0.1:PORT[/path] (loopback only): where paid requests go"),
                     ConsoleParam("price", .string, "price of one unit, atomic units (decimal string)"),
                     ConsoleParam("unit", .string, "call, token, second or byte"),
                     ConsoleParam("asset", .string, "asset id, 1–32 bytes"),
                     ConsoleParam("decimals", .integer, "the asset's decimals, 0–36"),
                     ConsoleParam("description", .string, required: false, "0–512 bytes"),
                     ConsoleParam("capabilities", .string, required: false,
                                  "the HTTP methods served, e.g. GET,HEAD (of GET HEAD POST PUT PATCH DELETE); default every method")],
            result: "{name, url, advertised}"
        ) { call in
            let asset = try await GossipMethods.asset(call, payments: payments)
            let service = try SoldService(checking: try call.requireString("name"), upstream: try call.requireString("upstream"),
                                          price: try PaymentParams.amountParam(call, "price", asset: asset),
                                          unit: try GossipMethods.unit(try call.requireString("unit")), asset: asset,
                                          description: call.string("description") ?? "",
                                          capabilities: try call.string("capabilities").map { text throws(NodeError) in
                                              try SoldService.capabilities(parsing: text)
                                          } ?? [])
            let advertised = try await catalog.add(service)
            return ["name": .string(service.name), "url": JSONValue(await catalog.url(of: service.name)), "advertised": .bool(advertised)]
        },

        ConsoleMethod(
            "service.list", summary: "The services this node sells through its gateway.",
            result: "{services: [{name, url, upstream, price, unit, asset, decimals, description, capabilities}]}"
        ) { _ in
            var out: [JSONValue] = []
            for s in await catalog.list() {
                out.append(["name": .string(s.name), "url": JSONValue(await catalog.url(of: s.name)), "upstream": .string(s.upstream),
                            "price": .string(String(s.price)), "unit": .string(s.unit.rawValue), "asset": .string(s.asset.id),
                            "decimals": JSONValue(Int64(s.asset.decimals)), "description": .string(s.description),
                            // null: every method of the gateway (none declared).
                            "capabilities": s.capabilities.isEmpty ? .null : .array(s.capabilities.map { .string($0) })])
            }
            return ["services": .array(out)]
        },

        ConsoleMethod(
            "service.remove", summary: "Stops selling a service (durably) and withdraws its advertisement.",
            params: [ConsoleParam("name", .string, "the service's name")],
            result: "{name, removed}"
        ) { call in
            let name = try call.requireString("name")
            return ["name": .string(name), "removed": .bool(try await catalog.remove(name))]
        }]
    }
}
