import ArgumentParser
import Foundation
import PaymeshConsole
import PaymeshMessages

/// `paymesh mesh pay --routed`: node --to makes an invoice per payment (`invoice.create`), node
/// --from pays it (`pay request=…`) over a route it finds in its gossip graph, through the channels
/// `mesh pay` opened between neighbours — the two need no channel of their own. Prints each
/// payment's route and fees (Specs/console.md §12).
extension MeshPay {
    /// How long the payer waits for gossip to show a route to the payee (channels just opened).
    static let routeWaitSeconds = 60.0

    func runRouted(_ state: MeshState) async throws {
        guard let payer = state.nodes.first(where: { $0.index == from }),
              let payee = state.nodes.first(where: { $0.index == (to ?? state.nodes.map(\.index).max() ?? 0) }), payer.index != payee.index else {
            printError("paymesh mesh pay --routed: --from and --to must name two nodes of the mesh (0…\(state.nodes.count - 1))")
            throw ExitCode(2)
        }
        let params: [String: JSONValue] = ["to": .string(payee.id), "amount": .string(amount), "asset": .string(asset),
                                           "decimals": .int(Int64(decimals))]
        // Gossip needs a few heartbeats to carry new channels to the payer.
        let deadline = ContinuousClock.now + .seconds(Self.routeWaitSeconds)
        while true {
            do {
                _ = try await call(payer, "route.find", params)
                break
            } catch let error as ConsoleProtocol.RemoteError where error.code == 1400 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(500))
            } catch {
                printError("paymesh mesh pay --routed: no route from node-\(payer.index) to node-\(payee.index): \(error)")
                throw ExitCode(1)
            }
        }
        var failed = 0
        var latencies: [Double] = []
        for round in 1...max(1, rounds) {
            for _ in 0..<max(1, count) {
                let started = ContinuousClock.now
                do {
                    let invoice = try await call(payee, "invoice.create", ["amount": .string(amount), "asset": .string(asset),
                                                                            "decimals": .int(Int64(decimals)), "memo": "mesh pay --routed"])
                    guard let text = invoice["invoice"]?.stringValue else { throw MeshError("invoice.create answered \(invoice)") }
                    let p = try await call(payer, "pay", ["request": .string(text)])
                    latencies.append(secondsValue(ContinuousClock.now - started) * 1_000)
                    let hops = p["route"]?["hops"]?.arrayValue ?? []
                    let path = ["node-\(payer.index)"] + hops.map { h in
                        state.nodes.first { $0.id.lowercased() == h["node"]?.stringValue?.lowercased() }.map { "node-\($0.index)" } ?? shortID(h["node"]?.stringValue)
                    }
                    if p["status"] == "succeeded" {
                        printLine("round \(round): paid \(human(p["amount"]?.stringValue)) over \(path.joined(separator: "→")), fees \(human(p["feesPaid"]?.stringValue)), \(p["attempts"]?.arrayValue?.count ?? 0) attempt(s)")
                    } else {
                        failed += 1
                        printLine("round \(round): \(p["status"]?.stringValue ?? "?"): \(p["reason"]?.stringValue ?? "")")
                    }
                } catch {
                    failed += 1
                    printLine("round \(round): failed: \(error)")
                }
            }
        }
        let sorted = latencies.sorted()
        if !sorted.isEmpty {
            printLine(String(format: "%d routed payments, %d failed; invoice + pay p50 %.1f ms, max %.1f ms", sorted.count + failed, failed,
                             sorted[sorted.count / 2], sorted.last!))
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
