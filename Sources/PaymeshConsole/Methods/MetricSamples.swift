/// The samples of the node's metrics as console JSON (`metrics`'s `samples`).
enum MetricSamples {
    /// `text` (the Prometheus exposition) as `[{name, labels, value}]`, names starting with `prefix`.
    static func json(_ text: String, prefix: String) -> JSONValue {
        .array(PrometheusText.samples(text).filter { $0.name.hasPrefix(prefix) }.map { s in
            ["name": .string(s.name), "labels": .object(s.labels.mapValues { .string($0) }), "value": number(s.value)]
        })
    }

    /// Whole numbers below 2^53 as JSON integers (counts, atomic amounts), others as numbers;
    /// NaN and infinities as the strings Prometheus writes.
    static func number(_ v: Double) -> JSONValue {
        if v.isFinite, v.rounded() == v, abs(v) < 9_007_199_254_740_992 { return .int(Int64(v)) }
        return v.isFinite ? .double(v) : .string(v.isNaN ? "NaN" : (v > 0 ? "+Inf" : "-Inf"))
    }
}

/// Samples of a Prometheus text exposition (version 0.0.4): `name{label="value",…} value` lines;
/// comments (`# HELP`, `# TYPE`) skipped; label values unescaped (`\\`, `\"`, `\n`).
enum PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    static func samples(_ text: String) -> [Sample] {
        text.split(separator: "\n").compactMap { line in line.hasPrefix("#") ? nil : sample(Array(line.utf8)) }
    }

    /// One sample line, or nil for a line that is not one.
    static func sample(_ line: [UInt8]) -> Sample? {
        var i = 0
        while i < line.count, line[i] != UInt8(ascii: "{"), line[i] != UInt8(ascii: " ") { i += 1 }
        guard i > 0, i < line.count else { return nil }
        let name = String(decoding: line[0..<i], as: UTF8.self)
        var labels: [String: String] = [:]
        if line[i] == UInt8(ascii: "{") {
            i += 1
            while i < line.count, line[i] != UInt8(ascii: "}") {
                let start = i
                while i < line.count, line[i] != UInt8(ascii: "=") { i += 1 }
                guard i + 1 < line.count, line[i + 1] == UInt8(ascii: "\"") else { return nil }
                let key = String(decoding: line[start..<i], as: UTF8.self)
                i += 2
                var value: [UInt8] = []
                while i < line.count, line[i] != UInt8(ascii: "\"") {
                    if line[i] == UInt8(ascii: "\\"), i + 1 < line.count {
                        i += 1
                        value.append(line[i] == UInt8(ascii: "n") ? UInt8(ascii: "\n") : line[i])
                    } else {
                        value.append(line[i])
                    }
                    i += 1
                }
                guard i < line.count else { return nil }
                labels[key] = String(decoding: value, as: UTF8.self)
                i += 1
                if i < line.count, line[i] == UInt8(ascii: ",") { i += 1 }
            }
            i += 1
        }
        let rest = String(decoding: line[min(i, line.count)...], as: UTF8.self).split(separator: " ")
        guard let first = rest.first, let value = number(first) else { return nil }
        return Sample(name: name, labels: labels, value: value)
    }

    private static func number(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }
}
