import PaymeshTerminal
import Testing

@Suite struct LineEditorTests {
    static let completion = Completion(methods: [
        "pay": ["channel", "channels", "amount", "count", "rate", "progress"],
        "pay.cancel": ["burst"], "pay.running": [], "peers": [], "peer": ["id"], "help": ["method"],
    ])

    /// Feeds `input` (text with escape sequences) and returns the actions.
    static func type(_ editor: inout LineEditor, _ input: String) -> [LineEditor.Action] { editor.feed(Array(input.utf8)) }

    @Test func typingAndEnterSubmitsTheLine() {
        var e = LineEditor()
        #expect(Self.type(&e, "peers") == [.redraw])
        #expect(e.line == "peers" && e.cursor == 5)
        #expect(Self.type(&e, "\r") == [.submit("peers")])
        #expect(e.line.isEmpty && e.cursor == 0 && e.history.entries == ["peers"])
        // A pasted CRLF is one Enter; LF alone is Enter too.
        #expect(Self.type(&e, "a\r\nb\n") == [.redraw, .submit("a"), .redraw, .submit("b")])
    }

    @Test func arrowsAreNeverTextEvenSplitAcrossReads() {
        var e = LineEditor()
        _ = Self.type(&e, "pay")
        // The up arrow that used to be sent as a method `^[[A`, fed one byte at a time.
        for byte in Array("\u{1B}[D\u{1B}[D".utf8) { _ = e.feed([byte]) }
        #expect(e.line == "pay" && e.cursor == 1)
        _ = Self.type(&e, "\u{1B}[A\u{1B}OB\u{1B}[15~\u{1B}[<0;3;4M") // up, SS3 down, F5, a mouse report
        #expect(e.line == "pay")
        #expect(!e.line.contains("\u{1B}") && !e.line.contains("["))
        #expect(Self.type(&e, "\r") == [.submit("pay")])
    }

    @Test func cursorMovementAndKills() {
        var e = LineEditor()
        _ = Self.type(&e, "ping id=0x12")
        _ = Self.type(&e, "\u{01}") // Ctrl-A
        #expect(e.cursor == 0)
        _ = Self.type(&e, "\u{05}") // Ctrl-E
        #expect(e.cursor == 12)
        _ = Self.type(&e, "\u{1B}[H\u{1B}[C\u{1B}[C") // home, right, right
        #expect(e.cursor == 2)
        _ = Self.type(&e, "\u{0B}") // Ctrl-K
        #expect(e.line == "pi")
        _ = Self.type(&e, "ng id=1 x")
        _ = Self.type(&e, "\u{17}") // Ctrl-W: the word before the cursor
        #expect(e.line == "ping id=1 ")
        _ = Self.type(&e, "\u{17}")
        #expect(e.line == "ping ")
        _ = Self.type(&e, "\u{7F}") // backspace
        #expect(e.line == "ping")
        _ = Self.type(&e, "\u{1B}[D\u{1B}[D\u{1B}[3~") // left, left, delete
        #expect(e.line == "pig" && e.cursor == 2)
        _ = Self.type(&e, "\u{15}") // Ctrl-U: to the start
        #expect(e.line == "g" && e.cursor == 0)
        _ = Self.type(&e, "\u{1B}[F\u{04}") // end, Ctrl-D at the end deletes nothing
        #expect(e.line == "g")
        _ = Self.type(&e, "\u{1B}[1;5D") // Ctrl-left: a word back
        #expect(e.cursor == 0)
    }

    @Test func utf8TextSplitAcrossReads() {
        var e = LineEditor()
        let bytes = Array("task_id=é€😀".utf8)
        for b in bytes { _ = e.feed([b]) }
        #expect(e.line == "task_id=é€😀" && e.cursor == 11)
        _ = Self.type(&e, "\u{7F}")
        #expect(e.line == "task_id=é€")
    }

    @Test func ctrlCClearsAndCtrlDOnEmptyIsEOF() {
        var e = LineEditor()
        #expect(Self.type(&e, "pay amount=1\u{03}") == [.redraw, .interrupt])
        #expect(e.line.isEmpty)
        #expect(Self.type(&e, "\u{04}") == [.eof])
        #expect(Self.type(&e, "\u{0C}") == [.clearScreen])
    }

    @Test func historyBrowsesAndKeepsTheDraft() {
        var e = LineEditor(history: LineHistory(["getinfo", "peers"]))
        _ = Self.type(&e, "he")
        _ = Self.type(&e, "\u{1B}[A")
        #expect(e.line == "peers")
        _ = Self.type(&e, "\u{10}") // Ctrl-P
        #expect(e.line == "getinfo" && e.cursor == 7)
        #expect(Self.type(&e, "\u{1B}[A") == [.bell]) // the oldest
        _ = Self.type(&e, "\u{1B}[B\u{1B}[B")
        #expect(e.line == "he")
        #expect(Self.type(&e, "\u{1B}[B") == [.bell])
        // A recalled line, edited and submitted, is a new entry; the same line twice is kept once.
        _ = Self.type(&e, "\u{15}peers\r")
        #expect(e.history.entries == ["getinfo", "peers"])
        _ = Self.type(&e, "   \r")
        #expect(e.history.entries == ["getinfo", "peers"])
    }

    @Test func historyIsBounded() {
        var h = LineHistory()
        for i in 0..<(LineHistory.maxEntries + 10) { h.add("ping \(i)") }
        #expect(h.entries.count == LineHistory.maxEntries && h.entries.first == "ping 10")
        let kept = h.add(String(repeating: "x", count: LineHistory.maxLineBytes + 1))
        #expect(!kept)
        let reread = LineHistory(LineHistory.fileLines(h.fileText[...]))
        #expect(reread == h)
    }

    @Test func tabCompletesMethodsAndParameters() {
        var e = LineEditor(completion: Self.completion)
        _ = Self.type(&e, "pe")
        #expect(Self.type(&e, "\t") == [.redraw])
        #expect(e.line == "peer") // common prefix of peer, peers
        #expect(Self.type(&e, "\t") == [.showCandidates(["peer", "peers"])])
        _ = Self.type(&e, "\u{15}pay.c\t")
        #expect(e.line == "pay.cancel ")
        _ = Self.type(&e, "\u{15}pay am\t")
        #expect(e.line == "pay amount=")
        _ = Self.type(&e, "1 channel\t")
        #expect(e.line == "pay amount=1 channel")
        #expect(Self.type(&e, "\t") == [.showCandidates(["channel=", "channels="])])
        // A parameter already given is not offered again; nothing after `=`.
        _ = Self.type(&e, "\u{15}pay amount=1 a")
        #expect(Self.type(&e, "\t") == [.bell])
        _ = Self.type(&e, "\u{15}pay amount=")
        #expect(Self.type(&e, "\t") == [.bell])
        _ = Self.type(&e, "\u{15}nothing \t")
        #expect(e.line == "nothing ")
    }

    @Test func renderPutsTheCursorBack() {
        var e = LineEditor()
        _ = Self.type(&e, "peers\u{1B}[D\u{1B}[D")
        #expect(e.render(prompt: "paymesh> ") == "\rpaymesh> peers\u{1B}[K\u{1B}[2D")
        _ = Self.type(&e, "\u{05}")
        #expect(e.render(prompt: "> ") == "\r> peers\u{1B}[K")
    }

    @Test func randomBytesNeverCrashAndNeverPutEscapeInTheLine() {
        var e = LineEditor(completion: Self.completion)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<20_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let byte = UInt8(truncatingIfNeeded: state >> 33)
            for action in e.feed([byte]) {
                if case .submit(let line) = action { #expect(!line.unicodeScalars.contains { $0.value < 0x20 }) }
            }
            #expect(!e.line.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        }
    }
}

@Suite struct ProgressLineTests {
    @Test func terminalGetsALineRewrittenInPlace() {
        var p = ProgressLine(isTerminal: true, noun: "payments acked")
        #expect(p.update(done: 0, total: 10_000, elapsedMillis: 0) == "\r0/10,000 payments acked (0%)\u{1B}[K")
        #expect(p.update(done: 4_200, total: 10_000, elapsedMillis: 2_000, extra: "0.0042 USDC")
                == "\r4,200/10,000 payments acked (42%)  2,100/s  ETA 2.7 s  0.0042 USDC\u{1B}[K")
        #expect(p.finish() == "\r\u{1B}[K")
        #expect(p.finish() == nil)
    }

    @Test func pipeGetsNothing() {
        var p = ProgressLine(isTerminal: false, noun: "payments acked")
        #expect(p.update(done: 1, total: 2, elapsedMillis: 5) == nil)
        #expect(p.finish() == nil)
        // The text is still computed (for a final summary if a caller wants it).
        #expect(p.text() == "1/2 payments acked (50%)  200/s  ETA 0.0 s")
    }

    @Test func partsAddUp() {
        var p = ProgressLine(isTerminal: true, noun: "payments acked")
        _ = p.update("a", done: 500, total: 1_000, elapsedMillis: 1_000)
        _ = p.update("b", done: 1_000, total: 1_000, elapsedMillis: 1_000)
        #expect(p.text() == "1,500/2,000 payments acked (75%)  1,500/s  ETA 0.3 s")
        #expect(ProgressLine.duration(millis: 125_000) == "2 min 5 s")
        #expect(ProgressLine.duration(millis: 7_800_000) == "2 h 10 min")
        #expect(ProgressLine.grouped(-1_234_567) == "-1,234,567")
    }
}
