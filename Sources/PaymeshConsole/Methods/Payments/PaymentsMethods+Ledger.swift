import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshNode

/// The local ledger (Specs/console.md §8): balance, ledger.fund (off-chain).
extension PaymentsMethods {
    var ledger: [ConsoleMethod] {
        let s = payments
        return [
            ConsoleMethod(
                "balance", summary: "Balances on the local ledger (off-chain): this node's wallets, every account in its books, channel escrows.",
                params: [ConsoleParam("asset", .string, required: false, "only this asset id")],
                result: "{backend: \"local-ledger\", offChain: true, owner, wallets: [{asset, decimals, amount}], accounts: [{owner, asset, decimals, amount}], escrows: [{channel, asset, decimals, amount}]} (amounts in atomic units)"
            ) { call in
                let only = call.string("asset").map(Asset.normalizedID)
                let registry = await s.registeredAssets
                func decimals(_ id: String) -> JSONValue { registry[Asset.normalizedID(id)].map { JSONValue($0) } ?? .null }
                let me = await s.nodeAddress
                let all = try await s.balances().filter { only == nil || $0.assetID == only }
                var escrows: [JSONValue] = []
                for v in await s.views() where only == nil || v.snapshot.terms.asset.id == only {
                    if let e = await s.escrow(v.snapshot.channelID), e > 0 {
                        escrows.append(["channel": .string(v.snapshot.channelID.description), "asset": .string(v.snapshot.terms.asset.id),
                                        "decimals": JSONValue(v.snapshot.terms.asset.decimals), "amount": .string(String(e))])
                    }
                }
                return [
                    "backend": .string(LedgerRules.localLedgerID), "offChain": true, "owner": .string(me.description),
                    "wallets": .array(all.filter { $0.owner == me }.map {
                        ["asset": .string($0.assetID), "decimals": decimals($0.assetID), "amount": .string($0.amount.description)]
                    }),
                    "accounts": .array(all.map {
                        ["owner": .string($0.owner.description), "asset": .string($0.assetID), "decimals": decimals($0.assetID), "amount": .string($0.amount.description)]
                    }),
                    "escrows": .array(escrows),
                ]
            },
            ConsoleMethod(
                "ledger.fund", summary: "Credits off-chain funds to this node's wallet on its local ledger (a faucet for tests and meshes).",
                params: [ConsoleParam("asset", .string, required: false, "asset id (normalised: usdc is USDC); or name it in amount"),
                         ConsoleParam("decimals", .integer, required: false, "asset decimals 0–36; needed the first time an asset is used, else must match"),
                         ConsoleParam("amount", .string, "atomic units (1000000) or a decimal value of the asset (1.5, 1.5USDC)")],
                result: "{asset, decimals, amount, balance, offChain: true} (amounts in atomic units)"
            ) { call in
                let asset = try await PaymentParams.assetParam(call, amount: "amount", payments: s)
                let amount = try PaymentParams.amountParam(call, "amount", asset: asset)
                try await s.fund(asset: asset, amount: amount)
                let me = await s.nodeAddress
                let balance = try await s.balances().first { $0.owner == me && $0.assetID == asset.id }?.amount.description ?? "0"
                return ["asset": .string(asset.id), "decimals": JSONValue(asset.decimals), "amount": .string(String(amount)),
                        "balance": .string(balance), "offChain": true]
            },
        ]
    }
}
