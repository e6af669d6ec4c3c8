/// The console's line editor, sans-IO: terminal bytes in, actions out. It owns the line being
/// typed, the cursor, the history and tab completion; the driver (`paymesh console`) reads the
/// terminal in raw mode, feeds the bytes and performs the actions (`render` draws the line).
///
/// Keys: printable text inserts; left/right (Ctrl-B/F), Alt-b/f or Ctrl-arrows by words,
/// home/end (Ctrl-A/E); backspace, delete (Ctrl-D on a non-empty line); Ctrl-K kills to the end,
/// Ctrl-U to the start, Ctrl-W the word before the cursor; up/down (Ctrl-P/N) browse the history;
/// tab completes; enter submits; Ctrl-C interrupts; Ctrl-D on an empty line is end of input;
/// Ctrl-L clears the screen. Escape sequences are always consumed as keys: an arrow is never text.
public struct LineEditor: Sendable {
    public enum Action: Equatable, Sendable {
        /// Draw the line again (`render`).
        case redraw
        /// The person submitted this line (already in the history); the editor holds an empty line.
        case submit(String)
        /// Tab found several candidates: show them, then draw the line again.
        case showCandidates([String])
        /// Ctrl-C: the line was cleared (or a running call should stop).
        case interrupt
        /// Ctrl-D on an empty line: no more input.
        case eof
        /// Clear the screen, then draw the line again.
        case clearScreen
        /// Nothing to do for that key (tab without candidates, up at the oldest line).
        case bell
    }

    /// The longest line the editor holds; more typed text is refused with `.bell`.
    public static let maxLineCharacters = 65_536

    public private(set) var buffer: [Character] = []
    /// Characters before the cursor.
    public private(set) var cursor = 0
    public private(set) var history: LineHistory
    public var completion: Completion
    private var decoder = KeyDecoder()
    /// While browsing the history: the entry shown, and the line that was being typed.
    private var browsing: (index: Int, draft: [Character])?

    public init(history: LineHistory = LineHistory(), completion: Completion = Completion()) {
        self.history = history
        self.completion = completion
    }

    public var line: String { String(buffer) }

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Action] {
        var actions: [Action] = []
        for key in decoder.feed(bytes) {
            let action = apply(key)
            // Consecutive redraws are one.
            if action == .redraw, actions.last == .redraw { continue }
            actions.append(action)
        }
        return actions
    }

    public mutating func apply(_ key: Key) -> Action {
        switch key {
        case .text(let text):
            // Control characters (C0, C1 such as U+009B CSI, line separators) are never part of a line.
            let chars = text.filter { c in !c.isNewline && c.unicodeScalars.allSatisfy { $0.properties.generalCategory != .control } }
            guard buffer.count + chars.count <= Self.maxLineCharacters else { return .bell }
            buffer.insert(contentsOf: chars, at: cursor)
            cursor += chars.count
            return .redraw
        case .enter:
            let submitted = line
            history.add(submitted)
            buffer = []
            cursor = 0
            browsing = nil
            return .submit(submitted)
        case .tab: return complete()
        case .backspace, .control("h"):
            guard cursor > 0 else { return .bell }
            cursor -= 1
            buffer.remove(at: cursor)
            return .redraw
        case .delete:
            guard cursor < buffer.count else { return .bell }
            buffer.remove(at: cursor)
            return .redraw
        case .control("d"):
            if buffer.isEmpty { return .eof }
            return apply(.delete)
        case .left, .control("b"): return move(to: cursor - 1)
        case .right, .control("f"): return move(to: cursor + 1)
        case .home, .control("a"): return move(to: 0)
        case .end, .control("e"): return move(to: buffer.count)
        case .wordLeft: return move(to: wordStart(before: cursor))
        case .wordRight:
            var i = cursor
            while i < buffer.count, buffer[i] == " " { i += 1 }
            while i < buffer.count, buffer[i] != " " { i += 1 }
            return move(to: i)
        case .control("k"):
            buffer.removeSubrange(cursor...)
            return .redraw
        case .control("u"):
            buffer.removeSubrange(..<cursor)
            cursor = 0
            return .redraw
        case .control("w"):
            let start = wordStart(before: cursor)
            buffer.removeSubrange(start..<cursor)
            cursor = start
            return .redraw
        case .up, .control("p"): return browse(by: -1)
        case .down, .control("n"): return browse(by: 1)
        case .control("c"):
            buffer = []
            cursor = 0
            browsing = nil
            return .interrupt
        case .control("l"): return .clearScreen
        default: return .bell
        }
    }

    /// What to write to draw `prompt` and the line with the cursor in place: carriage return,
    /// prompt, line, erase to the end of the screen line, cursor back over what follows it.
    public func render(prompt: String) -> String {
        let back = buffer.count - cursor
        return "\r" + prompt + line + "\u{1B}[K" + (back > 0 ? "\u{1B}[\(back)D" : "")
    }

    private mutating func move(to position: Int) -> Action {
        guard (0...buffer.count).contains(position), position != cursor else { return position == cursor ? .redraw : .bell }
        cursor = position
        return .redraw
    }

    private func wordStart(before position: Int) -> Int {
        var i = position
        while i > 0, buffer[i - 1] == " " { i -= 1 }
        while i > 0, buffer[i - 1] != " " { i -= 1 }
        return i
    }

    private mutating func browse(by step: Int) -> Action {
        let entries = history.entries
        let current = browsing?.index ?? entries.count
        let next = current + step
        guard next >= 0, next <= entries.count, next != current else { return .bell }
        let draft = browsing?.draft ?? buffer
        if next == entries.count {
            buffer = draft
            browsing = nil
        } else {
            buffer = Array(entries[next])
            browsing = (next, draft)
        }
        cursor = buffer.count
        return .redraw
    }

    private mutating func complete() -> Action {
        let before = String(buffer[..<cursor])
        let (start, candidates) = completion.candidates(before: before)
        guard !candidates.isEmpty else { return .bell }
        let typed = cursor - start
        let prefix = Completion.commonPrefix(candidates)
        // One candidate: complete it (a method name gets a space after it).
        var insert = Array(prefix.dropFirst(typed))
        if candidates.count == 1, !prefix.hasSuffix("=") { insert.append(" ") }
        if insert.isEmpty { return candidates.count > 1 ? .showCandidates(candidates) : .bell }
        guard buffer.count + insert.count <= Self.maxLineCharacters else { return .bell }
        buffer.insert(contentsOf: insert, at: cursor)
        cursor += insert.count
        return .redraw
    }
}
