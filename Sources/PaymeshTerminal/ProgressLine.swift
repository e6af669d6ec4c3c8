/// A progress line for long work (`paymesh ctl pay … count=N`, `mesh pay`, `mesh up`): on a
/// terminal one line rewritten in place with `\r` — done/total, percent, rate, ETA — and nothing
/// at all when the output is not a terminal (scripts read only the result). Sans-IO: it returns
/// the text to write; the caller knows whether standard error is a terminal.
public struct ProgressLine: Sendable {
    public let isTerminal: Bool
    /// What is counted ("payments acked", "nodes up").
    public let noun: String
    private var parts: [String: (done: Int, total: Int)] = [:]
    private var elapsedMillis = 0
    private var shown = false

    public init(isTerminal: Bool, noun: String) {
        self.isTerminal = isTerminal
        self.noun = noun
    }

    /// Part `key` (a channel, a lane) has `done` of `total` after `elapsedMillis`; `extra` is
    /// appended (an amount). The text to write, nil when not on a terminal.
    public mutating func update(_ key: String = "", done: Int, total: Int, elapsedMillis: Int, extra: String = "") -> String? {
        parts[key] = (max(0, done), max(0, total))
        self.elapsedMillis = max(self.elapsedMillis, elapsedMillis)
        guard isTerminal else { return nil }
        shown = true
        return "\r" + text(extra: extra) + "\u{1B}[K"
    }

    /// Ends the line: erases it (the result follows on a clean line); nil when nothing was shown.
    public mutating func finish() -> String? {
        guard isTerminal, shown else { return nil }
        shown = false
        return "\r\u{1B}[K"
    }

    /// The line's text: `4,200/10,000 payments acked (42%)  1,234/s  ETA 5 s`.
    public func text(extra: String = "") -> String {
        let done = parts.values.reduce(0) { $0 + $1.done }, total = parts.values.reduce(0) { $0 + $1.total }
        var out = "\(Self.grouped(done))/\(Self.grouped(total)) \(noun)"
        if total > 0 { out += " (\(min(100, done * 100 / total))%)" }
        if elapsedMillis > 0, done > 0 {
            out += "  \(Self.grouped(done * 1_000 / elapsedMillis))/s"
            if done < total { out += "  ETA " + Self.duration(millis: (total - done) * elapsedMillis / done) }
        }
        if !extra.isEmpty { out += "  " + extra }
        return out
    }

    /// `1,234,567`.
    public static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// `0.4 s`, `12 s`, `3 min 5 s`, `2 h 10 min`.
    public static func duration(millis: Int) -> String {
        if millis < 10_000 { return "\(millis / 1_000).\(millis % 1_000 / 100) s" }
        let s = millis / 1_000
        if s < 60 { return "\(s) s" }
        if s < 3_600 { return "\(s / 60) min \(s % 60) s" }
        return "\(s / 3_600) h \(s % 3_600 / 60) min"
    }
}
