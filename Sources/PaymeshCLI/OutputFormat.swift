import Foundation
import PaymeshConsole
import PaymeshMessages
import PaymeshNode

/// Renders console results for people (tables for lists, `key: value` lines for objects) or
/// as raw JSON.
struct OutputFormat {
    let json: Bool

    func render(method: String, result: JSONValue) -> String {
        if json { return result.description }
        switch method {
        case "peers":
            var out = table(result["peers"]?.arrayValue ?? [], columns: [
                ("ID", "id"), ("STATE", "state"), ("DIR", "direction"), ("REMOTE", "remote"), ("RTT ms", "rttMs"), ("SEEN ms ago", "lastSeenAgoMs"),
            ])
            if let pending = result["pending"]?.arrayValue, !pending.isEmpty {
                out += "\n\npending endpoints:\n" + table(pending, columns: [
                    ("ENDPOINT", "endpoint"), ("SOURCE", "source"), ("DIALING", "dialing"), ("ATTEMPT", "attempt"), ("LAST ERROR", "lastError"),
                ])
            }
            return out
        case "help":
            let methods = result["methods"]?.arrayValue ?? []
            if methods.count == 1 { return Self.describe(methods[0]) }
            return methods.map { m in
                let params = (m["params"]?.arrayValue ?? []).map { p in
                    let name = "\(p["name"]?.stringValue ?? "?")=<\(p["type"]?.stringValue ?? "?")>"
                    return p["required"]?.boolValue == true ? name : "[\(name)]"
                }
                return ([m["name"]?.stringValue ?? "?"] + params).joined(separator: " ") + "\n    " + (m["summary"]?.stringValue ?? "")
            }.joined(separator: "\n")
        case "discovery":
            let head = "discovery: \(result["active"]?.boolValue == true ? "on" : "off")"
                + (result["reason"]?.stringValue.map { " (\($0))" } ?? "")
                + "\ndaemon: \(scalar(result["daemon"] ?? .null))"
                + (result["instance"]?.stringValue.map { ", published as \($0) (\(scalar(result["serviceType"] ?? .null)))" } ?? "")
            let peers = result["peers"]?.arrayValue ?? []
            return peers.isEmpty ? head + "\nno peers discovered"
                : head + "\n" + table(peers, columns: [("INSTANCE", "instance"), ("ID", "id"), ("HOST", "host"), ("PORT", "port"), ("STATE", "state")])
        default:
            return lines(result)
        }
    }

    /// One method for people (`help METHOD`): usage, summary, every parameter with its type,
    /// whether it is required and what it means, and the result's shape.
    static func describe(_ m: JSONValue) -> String {
        let name = m["name"]?.stringValue ?? "?"
        let params = m["params"]?.arrayValue ?? []
        let usage = ([name] + params.map { p in
            let item = "\(p["name"]?.stringValue ?? "?")=<\(p["type"]?.stringValue ?? "?")>"
            return p["required"]?.boolValue == true ? item : "[\(item)]"
        }).joined(separator: " ")
        var out = "usage: \(usage)\n\n\(m["summary"]?.stringValue ?? "")\n\nparameters:"
        if params.isEmpty {
            out += " none"
        } else {
            let nameWidth = params.map { ($0["name"]?.stringValue ?? "?").count }.max() ?? 0
            let typeWidth = params.map { ($0["type"]?.stringValue ?? "?").count }.max() ?? 0
            for p in params {
                out += "\n  " + (p["name"]?.stringValue ?? "?").padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                    + "  " + (p["type"]?.stringValue ?? "?").padding(toLength: typeWidth, withPad: " ", startingAt: 0)
                    + "  " + (p["required"]?.boolValue == true ? "required" : "optional")
                    + "  " + (p["summary"]?.stringValue ?? "")
            }
        }
        return out + "\n\nresult: " + (m["result"]?.stringValue ?? "?")
    }

    func renderEvent(_ event: JSONValue) -> String {
        if json { return event.description }
        let type = event["type"]?.stringValue ?? "event"
        let fields = (event.objectValue ?? [:]).filter { $0.key != "type" }.sorted { $0.key < $1.key }
            .map { "\($0.key)=\(scalar($0.value))" }
        return ([type] + fields).joined(separator: " ")
    }

    /// Fields that hold atomic units (Specs/console.md §8); in an object that names its `asset`
    /// and `decimals`, people see them as decimal values with the asset ("0.103533 USDC").
    static let moneyKeys: Set<String> = ["amount", "deposit", "paid", "available", "ackedAmount", "balance", "finalAmount",
                                         "price", "cap", "locked", "lockedAmount", "spent", "cumulative", "increment",
                                         "payeeAmount", "refund", "paidNow"]

    /// The asset an object names with `asset` and `decimals`, if any.
    static func asset(of o: [String: JSONValue]) -> Asset? {
        guard let id = o["asset"]?.stringValue, let d = o["decimals"]?.intValue, let decimals = UInt8(exactly: d) else { return nil }
        return try? Asset(id: id, decimals: decimals)
    }

    /// An object's money fields written for people, when it (or the object it is part of, `inherited`)
    /// names its asset and decimals.
    static func humanAmounts(_ o: [String: JSONValue], inherited: Asset? = nil) -> [String: JSONValue] {
        guard let asset = asset(of: o) ?? inherited else { return o }
        var out = o
        for key in moneyKeys {
            if let text = o[key]?.stringValue, let amount = try? Amount(decimal: text) { out[key] = .string(amount.formatted(asset)) }
        }
        return out
    }

    private func lines(_ value: JSONValue, indent: String = "", asset inherited: Asset? = nil) -> String {
        guard case .object(let raw) = value else { return indent + scalar(value) }
        let o = Self.humanAmounts(raw, inherited: inherited), asset = Self.asset(of: raw) ?? inherited
        return o.keys.sorted().map { key in
            let v = o[key]!
            switch v {
            case .object(let inner) where !inner.isEmpty:
                return indent + key + ":\n" + lines(v, indent: indent + "  ", asset: asset)
            case .array(let items) where items.contains(where: { $0.objectValue != nil }):
                return indent + key + ":\n" + items.map { lines($0, indent: indent + "  ", asset: asset) }.joined(separator: "\n" + indent + "  --\n")
            default:
                return indent + key + ": " + scalar(v)
            }
        }.joined(separator: "\n")
    }

    private func scalar(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): s
        case .null: "-"
        case .array(let a): a.map(scalar).joined(separator: ", ")
        default: v.description
        }
    }

    private func table(_ rows: [JSONValue], columns: [(title: String, key: String)]) -> String {
        guard !rows.isEmpty else { return "(none)" }
        let cells = rows.map { row in columns.map { scalar(row[$0.key] ?? .null) } }
        let widths = columns.indices.map { i in max(columns[i].title.count, cells.map { $0[i].count }.max() ?? 0) }
        func line(_ items: [String]) -> String {
            var s = items.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            while s.last == " " { s.removeLast() }
            return s
        }
        return ([line(columns.map(\.title))] + cells.map(line)).joined(separator: "\n")
    }
}
