/// What tab completes: console method names, and after a method its parameter names (`name=`).
/// Built from the console's `help` result.
public struct Completion: Sendable, Equatable {
    /// Method name → its parameter names.
    public var methods: [String: [String]]

    public init(methods: [String: [String]] = [:]) { self.methods = methods }

    /// The candidates for the word ending at the cursor: `line` is the text before the cursor.
    /// Returns the word's start (in characters) and the sorted candidates that extend it.
    public func candidates(before line: String) -> (wordStart: Int, candidates: [String]) {
        let chars = Array(line)
        var start = chars.count
        while start > 0, chars[start - 1] != " " { start -= 1 }
        let word = String(chars[start...])
        let earlier = chars[..<start].split(separator: " ").map { String($0) }
        if earlier.isEmpty {
            return (start, methods.keys.filter { $0.hasPrefix(word) }.sorted())
        }
        // A parameter: not once its `=` is typed, and not one already given.
        guard !word.contains("="), let params = methods[earlier[0]] else { return (start, []) }
        let given = Set(earlier.dropFirst().compactMap { $0.split(separator: "=", maxSplits: 1).first.map(String.init) })
        return (start, params.filter { $0.hasPrefix(word) && !given.contains($0) }.sorted().map { $0 + "=" })
    }

    /// The longest prefix every candidate shares.
    public static func commonPrefix(_ candidates: [String]) -> String {
        guard var prefix = candidates.first.map(Array.init) else { return "" }
        for c in candidates.dropFirst() {
            let other = Array(c)
            var n = 0
            while n < prefix.count, n < other.count, prefix[n] == other[n] { n += 1 }
            prefix.removeLast(prefix.count - n)
        }
        return String(prefix)
    }
}
