import Foundation
import PaymeshConsole
import PaymeshTerminal

/// `paymesh console` on a terminal: the thin driver of `LineEditor`. It reads standard input in
/// raw mode (`RawTerminal`), feeds the editor, performs its actions, runs each submitted line as a
/// call while the prompt is hidden, prints notifications above the prompt, shows a running
/// `pay`'s progress, and turns Ctrl-C during a `pay` into `pay.cancel` (sent on a second
/// connection: the first one is busy with the call, Specs/console.md §3).
struct InteractiveConsole {
    let client: ConsoleClient
    let socketPath: String
    let format: OutputFormat
    let history: ConsoleHistoryFile

    private enum Event: Sendable {
        case input([UInt8])
        case inputEnded
        case callDone
    }

    func run() async throws {
        let screen = ConsoleScreen(editor: LineEditor(history: history.load(), completion: await completion()))
        let (events, post) = AsyncStream<Event>.makeStream()
        let client = self.client, format = self.format
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await chunk in RawTerminal.inputBytes() { post.yield(.input(chunk)) }
                post.yield(.inputEnded)
            }
            group.addTask {
                for await incoming in client.incoming {
                    if case .notification("pay.progress", let params) = incoming {
                        screen.progress(params)
                    } else {
                        screen.printAbove(Console.render(incoming, format: format))
                    }
                }
            }
            screen.write("connected to \(socketPath); `help` lists methods, `help METHOD` describes one, tab completes, `quit` leaves\n")
            screen.showPrompt()
            var running = false
            var typedAhead: [UInt8] = []
            var cancelling = false
            loop: for await event in events {
                var input: [UInt8] = []
                switch event {
                case .inputEnded: break loop
                case .callDone:
                    running = false
                    cancelling = false
                    screen.showPrompt()
                    input = typedAhead
                    typedAhead = []
                case .input(let bytes):
                    if running {
                        // During a call only Ctrl-C acts; other keys wait for the prompt.
                        if bytes.contains(0x03) {
                            if let burst = screen.runningBurst, !cancelling {
                                cancelling = true
                                screen.printAbove("cancelling pay burst \(burst)… (the vouchers in flight are awaited)")
                                let path = socketPath
                                group.addTask {
                                    let answer = try? await ConsoleClient.withConnection(socketPath: path) { try await $0.call("pay.cancel", ["burst": .int(Int64(burst))]) }
                                    if answer?["cancelled"] != .bool(true) { screen.printAbove("(the burst had already ended)") }
                                }
                            } else if !cancelling {
                                screen.printAbove("(this call cannot be cancelled; it ends with its answer)")
                            }
                        }
                        typedAhead += bytes.filter { $0 != 0x03 }
                        continue
                    }
                    input = bytes
                }
                // Byte by byte: keys after a submitted line (a paste) wait until its call ends.
                var pending = input[...]
                while !running, let byte = pending.popFirst() {
                    for action in screen.feed([byte]) {
                        switch action {
                        case .redraw: screen.redraw()
                        case .bell: break
                        case .clearScreen: screen.clearScreen()
                        case .showCandidates(let candidates): screen.printAbove(candidates.joined(separator: "  "))
                        case .interrupt:
                            screen.write("^C\n")
                            screen.showPrompt()
                        case .eof:
                            screen.write("\n")
                            break loop
                        case .submit(let line):
                            screen.submitted()
                            if screen.keptInHistory(line) { history.append(line) }
                            let trimmed = line.trimmingCharacters(in: .whitespaces)
                            if trimmed == "quit" || trimmed == "exit" { break loop }
                            guard !trimmed.isEmpty else {
                                screen.showPrompt()
                                continue
                            }
                            running = true
                            group.addTask {
                                let output: String
                                do {
                                    output = try await Console.execute(line, client: client, format: format) { method in
                                        method == "pay" ? ["progress": true] : [:]
                                    } ?? ""
                                } catch {
                                    output = "error: \(error)"
                                }
                                screen.callEnded(output)
                                post.yield(.callDone)
                            }
                        }
                    }
                }
                typedAhead = Array(pending) + typedAhead
            }
            group.cancelAll()
        }
    }

    /// Method and parameter names from the node's `help` (none if it fails: completion is a convenience).
    private func completion() async -> Completion {
        guard let help = try? await client.call("help") else { return Completion(methods: ["quit": [], "exit": []]) }
        var methods: [String: [String]] = ["quit": [], "exit": []]
        for m in help["methods"]?.arrayValue ?? [] {
            guard let name = m["name"]?.stringValue else { continue }
            methods[name] = (m["params"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        }
        return Completion(methods: methods)
    }
}

/// The terminal's output while the console runs: the prompt line, lines printed above it, and a
/// running `pay`'s progress line. Shared by the input loop and the notification reader, so one
/// lock orders every write.
final class ConsoleScreen: @unchecked Sendable {
    static let prompt = "paymesh> "
    private let lock = NSLock()
    private var editor: LineEditor
    private var promptShown = false
    private var progressLine: ProgressLine?
    private var progressText: String?
    private var burst: UInt64?

    init(editor: LineEditor) { self.editor = editor }

    var runningBurst: UInt64? { lock.withLock { burst } }

    func feed(_ bytes: [UInt8]) -> [LineEditor.Action] { lock.withLock { editor.feed(bytes) } }

    /// True when the editor kept `line` as its newest history entry (then it goes to the file).
    func keptInHistory(_ line: String) -> Bool { lock.withLock { editor.history.entries.last == line } }

    func write(_ text: String) { writeIgnoringClosedReader(FileHandle.standardOutput, text) }

    func showPrompt() {
        lock.withLock {
            promptShown = true
            write(editor.render(prompt: Self.prompt))
        }
    }

    func redraw() { lock.withLock { if promptShown { write(editor.render(prompt: Self.prompt)) } } }

    func clearScreen() { lock.withLock { write("\u{1B}[H\u{1B}[2J" + editor.render(prompt: Self.prompt)) } }

    /// The line was submitted: the cursor goes to a new line, the prompt is hidden until the call ends.
    func submitted() {
        lock.withLock {
            promptShown = false
            write("\n")
        }
    }

    /// A call ended: its progress line is erased, its output printed.
    func callEnded(_ output: String) {
        lock.withLock {
            if let erase = progressLine?.finish() { write(erase) }
            progressLine = nil
            progressText = nil
            burst = nil
            if !output.isEmpty { write(output + "\n") }
        }
    }

    /// A line printed above the prompt (or the progress line), which is drawn again below it.
    func printAbove(_ text: String) {
        lock.withLock {
            if promptShown || progressText != nil { write("\r\u{1B}[K") }
            write(text + "\n")
            if promptShown { write(editor.render(prompt: Self.prompt)) } else if let progressText { write(progressText) }
        }
    }

    /// A `pay.progress` notification.
    func progress(_ params: JSONValue) {
        lock.withLock {
            burst = params["burst"]?.intValue.flatMap { UInt64(exactly: $0) }
            if progressLine == nil { progressLine = ProgressLine(isTerminal: true, noun: "payments acked") }
            let text = progressLine?.update(done: params["acked"]?.intValue.map { Int($0) } ?? 0, total: params["count"]?.intValue.map { Int($0) } ?? 0,
                                            elapsedMillis: params["elapsedMs"]?.intValue.map { Int($0) } ?? 0,
                                            extra: PayProgressView.amount(params))
            progressText = text
            if let text, !promptShown { write(text) }
        }
    }
}
