import PaymeshChannels
import PaymeshNode

/// The spending policy (Specs/console.md §8): policy.get, policy.set.
extension PaymentsMethods {
    var policy: [ConsoleMethod] {
        let s = payments
        return [
            ConsoleMethod("policy.get", summary: "The spending policy and what has been spent under it, per asset.",
                                   result: "{policy: {max_per_payment, max_total_per_peer, max_total, max_payments_per_minute, allow, deny}, spent: [{asset, total}]}") { _ in
                let (policy, guards) = await s.spendingPolicy()
                return ["policy": PolicyJSON.json(policy),
                        "spent": .array(guards.keys.sorted().map { ["asset": .string($0), "total": .string(String(guards[$0]!.spentTotal))] })]
            },
            ConsoleMethod(
                "policy.set", summary: "Changes spending limits (checked before anything is signed); a key set to null removes that limit.",
                params: PolicyJSON.keys.map { ConsoleParam($0, .any, required: false, $0.hasPrefix("max_payments") ? "integer or null"
                                                            : ["allow", "deny"].contains($0) ? "array of peer ids or null" : "decimal string or null") },
                result: "{policy}"
            ) { call in
                let (current, _) = await s.spendingPolicy()
                let updated = try PolicyJSON.apply(call.params, to: current)
                try await s.setSpendingPolicy(updated)
                return ["policy": PolicyJSON.json(updated)]
            },
        ]
    }
}
