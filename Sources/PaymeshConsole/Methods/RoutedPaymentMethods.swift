import PaymeshCrypto
import PaymeshMessages
import PaymeshNode
import PaymeshRouting
import PaymeshStore

/// Routed payments (Specs/console.md §12): invoices (`invoice.create`, `invoice.list`), the
/// payment journal (`payment.status`, `payments.list`) and the node's reputation (`reputation`),
/// over `RoutedPayments`. `pay request=…` and `pay to=…` are `pay`'s routed forms
/// (`PaymentsMethods+Pay` calls `RoutedPaymentMethods.pay`).
public struct RoutedPaymentMethods: ConsoleMethodGroup {
    let routed: RoutedPayments
    let payments: PaymentsService

    public init(routed: RoutedPayments, payments: PaymentsService) {
        self.routed = routed
        self.payments = payments
    }

    public var methods: [ConsoleMethod] {
        let r = routed, payments = payments
        return [
            ConsoleMethod(
                "invoice.create", summary: "Makes a signed pminv1 invoice for this node; its preimage (from the node's randomness) is stored durably before the invoice is returned.",
                params: [ConsoleParam("amount", .string, required: false, "what the payer pays: atomic units or 1.5USDC (absent: the payer chooses)"),
                         ConsoleParam("asset", .string, required: false, "asset id (or named by amount)"),
                         ConsoleParam("decimals", .integer, required: false, "the asset's decimals on its first use"),
                         ConsoleParam("memo", .string, required: false, "0–256 bytes, shown to the payer"),
                         ConsoleParam("expiry", .integer, required: false, "ms it may be paid for, 1–2592000000 (default 3600000)")],
                result: "invoice entry {invoice, paymentHash, amount, asset, decimals, memo, created, expiresAt, status, paidAmount, paidAt, paidChannel}"
            ) { call in
                let asset = try await PaymentParams.assetParam(call, amount: "amount", payments: payments)
                let amount = call.params["amount"] == nil ? nil : try PaymentParams.amountParam(call, "amount", asset: asset)
                if amount == 0 { throw NodeError.invalidParams("amount must be > 0") }
                let expiry = try PaymentParams.nonNegative(call, "expiry").map { UInt64($0) }
                let record = try await r.createInvoice(amount: amount.map { Amount($0) }, asset: asset, memo: call.string("memo") ?? "",
                                                       expiryMillis: expiry)
                return Self.json(record, now: r.now())
            },
            ConsoleMethod(
                "invoice.list", summary: "Every invoice this node made, newest first, with its status (open, paid, expired).",
                params: [], result: "{invoices: [invoice entry]}"
            ) { _ in
                let now = r.now()
                return ["invoices": .array(try await r.invoices().map { Self.json($0, now: now) })]
            },
            ConsoleMethod(
                "payment.status", summary: "One outgoing payment of the journal: status, attempts, routes tried, fees paid, failure reasons.",
                params: [ConsoleParam("id", .string, "the payment id (as given to pay, or the payment hash, 0x hex)")],
                result: "payment {id, paymentHash, payee, amount, status, preimage, reason, feesPaid, createdAt, finishedAt, attempts: [...]}"
            ) { call in
                let id = try Self.paymentID(try call.requireString("id"))
                guard let p = await r.payment(id) else { throw NodeError.invalidParams("no payment with id \(id)") }
                return Self.json(p)
            },
            ConsoleMethod(
                "payments.list", summary: "Every outgoing payment of the journal, newest first.",
                params: [], result: "{payments: [payment]}"
            ) { _ in
                ["payments": .array(await r.paymentList().map(Self.json))]
            },
            ConsoleMethod(
                "reputation", summary: "This node's own history per node and channel (routing.md §5.3): successes and failures decayed to now, latency, success rate.",
                params: [], result: "{now, nodes: [{node, successes, failures, latencyMs, successRatePpm}], channels: [{channel, …}]}"
            ) { _ in
                let s = await r.reputationSnapshot()
                func score(_ v: ReputationScore) -> [String: JSONValue] {
                    ["successes": JSONValue(v.successes), "failures": JSONValue(v.failures),
                     "latencyMs": v.latencyMillis.map { JSONValue($0) } ?? .null, "successRatePpm": JSONValue(v.successRatePPM)]
                }
                return ["now": JSONValue(s.now),
                        "nodes": .array(s.nodes.map { n, v in .object(score(v).merging(["node": .string(n.description)]) { a, _ in a }) }),
                        "channels": .array(s.channels.map { c, v in .object(score(v).merging(["channel": .string(c.description)]) { a, _ in a }) })]
            },
        ]
    }

    /// `pay request=<pminv1…>` or `pay to=<node id> amount=…` (console.md §12).
    static func pay(_ call: ConsoleCall, routed r: RoutedPayments, payments: PaymentsService) async throws -> JSONValue {
        for name in ["channel", "channels", "task_id", "count", "rate"] where call.params[name] != nil {
            throw NodeError.invalidParams("\(name) is for channel payments; a routed pay takes request or to")
        }
        let id = try call.string("id").map(Self.paymentID)
        if let request = call.string("request") {
            guard call.string("to") == nil else { throw NodeError.invalidParams("give request or to, not both") }
            let invoice: Invoice
            do { invoice = try Invoice.decodeSigned(request).0 } catch { throw NodeError.invalidParams("\(error)") }
            let amount = call.params["amount"] == nil ? nil : Amount(try PaymentParams.amountParam(call, "amount", asset: invoice.asset))
            let maxFee = call.params["max_fee"] == nil ? nil : Amount(try PaymentParams.amountParam(call, "max_fee", asset: invoice.asset))
            return json(try await r.pay(invoice: request, amount: amount, id: id, maxFee: maxFee))
        }
        let to = try ConsoleParams.peerID(call, "to")
        let asset = try await PaymentParams.assetParam(call, amount: "amount", payments: payments)
        let amount = try PaymentParams.amountParam(call, "amount", asset: asset)
        let maxFee = call.params["max_fee"] == nil ? nil : Amount(try PaymentParams.amountParam(call, "max_fee", asset: asset))
        return json(try await r.pay(to: to, amount: Amount(amount), asset: asset, id: id, maxFee: maxFee))
    }

    /// A payment id: `0x` + hex (a payment hash or any 1–64 bytes), or any other text of 1–64 UTF-8 bytes.
    static func paymentID(_ text: String) throws(NodeError) -> PaymentJournal.PaymentID {
        let bytes = text.hasPrefix("0x") ? ([UInt8](hex: text) ?? Array(text.utf8)) : Array(text.utf8)
        // "http-fetch:…" rows are the HTTP fetch journal's (Specs/http402.md §11.4).
        guard !bytes.starts(with: Array("http-fetch:".utf8)) else { throw .invalidParams("ids beginning with http-fetch: are reserved") }
        do { return try PaymentJournal.PaymentID(bytes) } catch { throw .invalidParams("id must be 1–64 bytes") }
    }

    static func json(_ r: InvoiceRecord, now: UInt64) -> JSONValue {
        let status = r.paid != nil ? "paid" : now < r.expiresAtMillis ? "open" : "expired"
        return ["invoice": .string(r.invoice), "paymentHash": .string(r.paymentHash.description),
                "amount": r.amount.map { .string($0.description) } ?? .null, "asset": .string(r.asset.id),
                "decimals": JSONValue(r.asset.decimals), "memo": .string(r.memo), "created": JSONValue(r.createdMillis),
                "expiresAt": JSONValue(r.expiresAtMillis), "status": .string(status),
                "paidAmount": r.paid.map { .string($0.amount.description) } ?? .null,
                "paidAt": r.paid.map { JSONValue($0.atMillis) } ?? .null,
                "paidChannel": r.paid.map { .string($0.channelID.description) } ?? .null]
    }

    static func json(_ p: PaymentJournal.Payment) -> JSONValue {
        var status = "pending", preimage = JSONValue.null, reason = JSONValue.null
        switch p.status {
        case .pending: break
        case .succeeded(let x): status = "succeeded"; preimage = .string(x.description)
        case .failed(let why): status = "failed"; reason = .string(why)
        }
        let attempts: [JSONValue] = p.attempts.map { a in
            var outcome = "inFlight", hop = JSONValue.null, code = JSONValue.null, name = JSONValue.null, node = JSONValue.null
            switch a.outcome {
            case .inFlight: break
            case .succeeded: outcome = "succeeded"
            case .failed(let h, let c, let n):
                outcome = "failed"
                hop = h.map { JSONValue($0) } ?? .null
                code = JSONValue(c.rawValue)
                name = .string(c.name ?? "UNKNOWN_ERROR")
                node = n.map { .string($0.description) } ?? .null
            }
            return ["route": RoutingMethods.json(a.route), "fees": .string(a.fees.description), "startedAt": JSONValue(a.startedAt),
                    "finishedAt": a.finishedAt.map { JSONValue($0) } ?? .null, "outcome": .string(outcome), "hop": hop, "code": code,
                    "name": name, "node": node]
        }
        let succeeded = p.attempts.first { $0.outcome == .succeeded }
        return ["id": .string(p.id.description), "paymentHash": .string(p.paymentHash.description), "payee": .string(p.payee.description),
                "amount": .string(p.amount.description), "status": .string(status), "preimage": preimage, "reason": reason,
                "feesPaid": .string(p.feesPaid.description), "route": succeeded.map { RoutingMethods.json($0.route) } ?? .null,
                "createdAt": JSONValue(p.createdAt), "finishedAt": p.finishedAt.map { JSONValue($0) } ?? .null,
                "attempts": .array(attempts)]
    }
}
