import ArgumentParser
import Foundation
import PaymeshConsole
import PaymeshMessages
import PaymeshNode

/// `paymesh mesh pay`: opens a payment channel across every connected pair of mesh nodes (the
/// lower index pays the higher), runs payment rounds on all of them at once, and prints what each
/// channel's payee acknowledged. Channels are reused across runs; `--close` settles them.
struct MeshPay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pay",
        abstract: "Opens channels between connected mesh neighbours and runs payment rounds on them.",
        discussion: """
        Amounts are atomic units (decimal strings on the console). Each payer is funded on its own local \
        ledger (off-chain) before it opens a channel. On a terminal a progress line (payments acked, rate, \
        ETA) runs during each round; nothing extra when the output is piped. Exit status 1 when a payment \
        round is incomplete.
        """)

    @OptionGroup var dir: MeshDirOption
    @Option(help: "Rounds of payments.") var rounds = 3
    @Option(help: "Payments per channel per round.") var count = 1_000
    @Option(help: "Atomic units per payment.") var amount = "1"
    @Option(help: "Deposit of each new channel, atomic units.") var deposit = "1000000000"
    @Option(help: "Asset id.") var asset = "USDC"
    @Option(help: "Asset decimals.") var decimals = 6
    @Flag(help: "Close every channel cooperatively at the end and show the settled balances.") var close = false
    @Flag(help: "Routed: pay invoices of node --to from node --from over routes the payer finds (no direct channel needed); --count payments per round.")
    var routed = false
    @Option(help: "Routed: the paying node's index.") var from = 0
    @Option(help: "Routed: the payee's index (default: the last node).") var to: Int?

    struct Lane: Sendable {
        var payer: MeshState.Node
        var payee: MeshState.Node
        var channel: String
    }

    func run() async throws {
        let state: MeshState
        do { state = try dir.load() } catch {
            printError("paymesh mesh: \(error)")
            throw ExitCode(1)
        }
        guard !amount.isEmpty, amount.allSatisfy(\.isASCII), amount.allSatisfy(\.isNumber), !deposit.isEmpty, deposit.allSatisfy(\.isASCII), deposit.allSatisfy(\.isNumber) else {
            printError("paymesh mesh pay: --amount and --deposit are atomic units (digits only)")
            throw ExitCode(2)
        }
        let lanes: [Lane]
        do { lanes = try await openLanes(state) } catch {
            printError("paymesh mesh pay: \(error)")
            throw ExitCode(1)
        }
        guard !lanes.isEmpty else {
            printError("paymesh mesh pay: no connected pair of nodes (see `paymesh mesh status`)")
            throw ExitCode(1)
        }
        printLine("\(lanes.count) channels: " + lanes.map { "node-\($0.payer.index)→node-\($0.payee.index)" }.joined(separator: " "))
        if routed { return try await runRouted(state) }
        var incomplete = false
        for round in 1...max(1, rounds) {
            let started = ContinuousClock.now
            // On a terminal, one progress line for all lanes (nothing when piped).
            let display = ProgressDisplay(noun: "payments acked")
            let results = await withTaskGroup(of: (Int, Result<JSONValue, any Error>).self) { group in
                for (i, lane) in lanes.enumerated() {
                    group.addTask {
                        do {
                            let params: [String: JSONValue] = ["channel": .string(lane.channel), "amount": .string(amount), "count": .int(Int64(count)),
                                                               "timeout_ms": 120_000, "progress": true]
                            let r = try await ConsoleClient.withConnection(socketPath: lane.payer.console) { client in
                                try await PayProgressView.call(client, "pay", params) { display.update(String(i), pay: $0, showAmount: false) }
                            }
                            return (i, r.mapError { $0 as any Error })
                        } catch { return (i, .failure(error)) }
                    }
                }
                var all: [Int: Result<JSONValue, any Error>] = [:]
                for await (i, r) in group { all[i] = r }
                return all
            }
            display.finish()
            let elapsed = secondsValue(ContinuousClock.now - started)
            printLine(String(format: "round %d: %d payments on %d channels in %.2f s (%.0f payments/s overall)",
                             round, count * lanes.count, lanes.count, elapsed, Double(count * lanes.count) / max(elapsed, 1e-9)))
            for (i, lane) in lanes.enumerated() {
                switch results[i] {
                case .success(let r):
                    let ok = r["complete"]?.boolValue == true
                    incomplete = incomplete || !ok
                    printLine("  node-\(lane.payer.index)→node-\(lane.payee.index)  acked nonce \(r["ackedNonce"]?.intValue ?? 0)  paid \(human(r["ackedAmount"]?.stringValue))"
                              + "  p50 \(r["latencyMs"]?["p50"]?.doubleValue.map { String(format: "%.2f ms", $0) } ?? "-")"
                              + (ok ? "" : "  INCOMPLETE: \(r["error"]?["message"]?.stringValue ?? "")"))
                case .failure(let e):
                    incomplete = true
                    printLine("  node-\(lane.payer.index)→node-\(lane.payee.index)  failed: \(e)")
                case .none:
                    incomplete = true
                }
            }
        }
        if close {
            for lane in lanes {
                do {
                    let c = try await call(lane.payer, "channel.close", ["channel": .string(lane.channel), "timeout_ms": 60_000])
                    printLine("closed node-\(lane.payer.index)→node-\(lane.payee.index): \(c["state"]?.stringValue ?? "?"), payee got \(human(c["close"]?["finalAmount"]?.stringValue)) (off-chain, local ledger)")
                } catch {
                    incomplete = true
                    printLine("close node-\(lane.payer.index)→node-\(lane.payee.index) failed: \(error)")
                }
            }
            for node in state.nodes {
                if let b = try? await call(node, "balance", ["asset": .string(asset)]) {
                    printLine("node-\(node.index) wallet: \(human(b["wallets"]?.arrayValue?.first?["amount"]?.stringValue ?? "0")) (off-chain)")
                }
            }
        }
        if incomplete { throw ExitCode(1) }
    }

    /// Atomic units of the mesh's asset for people ("99,999.988 USDC").
    func human(_ atomic: String?) -> String {
        guard let atomic, let a = try? Amount(decimal: atomic), let d = UInt8(exactly: decimals),
              let asset = try? Asset(id: Asset.normalizedID(self.asset), decimals: d) else { return "\(atomic ?? "?") atomic units of \(asset)" }
        return a.formatted(asset)
    }

    /// One channel per connected pair (lower index pays); an open channel from an earlier run is reused.
    private func openLanes(_ state: MeshState) async throws -> [Lane] {
        let byID = Dictionary(state.nodes.map { ($0.id.lowercased(), $0) }, uniquingKeysWith: { a, _ in a })
        var lanes: [Lane] = []
        for payer in state.nodes {
            let peers = try await call(payer, "peers")["peers"]?.arrayValue ?? []
            let payees = peers.filter { $0["state"] == "connected" }.compactMap { $0["id"]?.stringValue.flatMap { byID[$0.lowercased()] } }
                .filter { $0.index > payer.index }.sorted { $0.index < $1.index }
            guard !payees.isEmpty else { continue }
            let existing = try await call(payer, "channel.list")["channels"]?.arrayValue ?? []
            var funded = false
            for payee in payees {
                if let reuse = existing.first(where: {
                    $0["role"] == "payer" && $0["peer"]?.stringValue?.lowercased() == payee.id.lowercased()
                        && ($0["state"] == "OPEN" || $0["state"] == "ACTIVE")
                }), let id = reuse["channel"]?.stringValue {
                    lanes.append(Lane(payer: payer, payee: payee, channel: id))
                    continue
                }
                if !funded {
                    _ = try await call(payer, "ledger.fund", ["asset": .string(asset), "decimals": .int(Int64(decimals)),
                                                              "amount": .string(deposit + String(repeating: "0", count: 2))])
                    funded = true
                }
                let open = try await call(payer, "channel.open", ["peer": .string(payee.id), "asset": .string(asset),
                                                                  "decimals": .int(Int64(decimals)), "deposit": .string(deposit)])
                guard let id = open["channel"]?.stringValue else { throw MeshError("open node-\(payer.index)→node-\(payee.index) failed: \(open)") }
                lanes.append(Lane(payer: payer, payee: payee, channel: id))
            }
        }
        return lanes
    }
}

func call(_ node: MeshState.Node, _ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
    try await ConsoleClient.withConnection(socketPath: node.console) { try await $0.call(method, params) }
}
