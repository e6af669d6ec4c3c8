/// The lines a person entered, oldest first, bounded; browsed with up/down. Sans-IO: the driver
/// loads and appends the history file (`LineHistory.fileLines`).
public struct LineHistory: Sendable, Equatable {
    /// Lines kept (in memory and in the history file).
    public static let maxEntries = 1_000
    /// A longer line is not kept (a pasted JSON request).
    public static let maxLineBytes = 4_096

    public private(set) var entries: [String] = []

    public init(_ lines: [String] = []) {
        for line in lines { add(line) }
    }

    /// Keeps `line` unless it is empty, too long or the same as the last one. True when kept.
    @discardableResult
    public mutating func add(_ line: String) -> Bool {
        let trimmed = line.trimmingWhitespace
        guard !trimmed.isEmpty, line.utf8.count <= Self.maxLineBytes, !line.contains("\n"), entries.last != line else { return false }
        entries.append(line)
        if entries.count > Self.maxEntries { entries.removeFirst(entries.count - Self.maxEntries) }
        return true
    }

    /// The history file's text: one line each, newest last.
    public var fileText: String { entries.map { $0 + "\n" }.joined() }

    /// Lines read back from a history file's text (bounded like `add`).
    public static func fileLines(_ text: Substring) -> [String] {
        text.split(separator: "\n", omittingEmptySubsequences: true).suffix(maxEntries).map(String.init)
    }
}

extension String {
    var trimmingWhitespace: Substring {
        var s = self[...]
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return s
    }
}
