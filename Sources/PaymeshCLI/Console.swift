import ArgumentParser
import Foundation
import PaymeshConsole
import PaymeshNode

struct Console: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An interactive prompt on a node's console socket.",
        discussion: """
        Type `method key=value …` (e.g. `peers`, `ping id=0x…`, `help`, `help pay`), a raw JSON-RPC line starting \
        with `{`, or `quit`. After `subscribe`, events are printed as they arrive. On a terminal the prompt is a \
        line editor: left/right, home/end, backspace/delete, Ctrl-A/E/K/U/W, up/down for the history (kept in \
        <data-dir>/console_history, mode 0600, 1,000 lines), tab completes method and parameter names; a `pay` \
        shows its progress and Ctrl-C cancels it (the node stops after the vouchers in flight and reports what \
        was paid). Ctrl-D or `quit` leaves. When standard input is not a terminal, lines are read as they are.
        """)

    @OptionGroup var dataDir: DataDirOption
    @Flag(help: "Print raw JSON.")
    var json = false

    func run() async throws {
        let format = OutputFormat(json: json)
        let path = dataDir.consoleSocketPath
        let editing = isatty(STDIN_FILENO) == 1 && isatty(STDOUT_FILENO) == 1
        let history = ConsoleHistoryFile(dataDirectory: dataDir.resolved)
        do {
            try await ConsoleClient.withConnection(socketPath: path) { client in
                if editing, let terminal = RawTerminal() {
                    defer { terminal.restore() }
                    try await InteractiveConsole(client: client, socketPath: path, format: format, history: history).run()
                } else {
                    try await Self.plainLines(client: client, format: format, prompt: isatty(STDIN_FILENO) == 1)
                }
            }
        } catch {
            printError("paymesh: cannot reach the node: \(error)")
            throw ExitStatus.unreachable.exitCode
        }
    }

    /// Lines from standard input as they are (a pipe, a script, or a terminal we cannot put in raw mode).
    private static func plainLines(client: ConsoleClient, format: OutputFormat, prompt: Bool) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await incoming in client.incoming { printLine(Self.render(incoming, format: format)) }
            }
            if prompt { printLine("connected to the node; `help` lists methods, `quit` leaves") }
            while true {
                if prompt { writeIgnoringClosedReader(FileHandle.standardOutput, "paymesh> ") }
                guard let line = readLine(strippingNewline: true) else { break }
                guard let output = try await execute(line, client: client, format: format) else { break }
                if !output.isEmpty { printLine(output) }
            }
            group.cancelAll()
        }
    }

    /// A notification, or an answer to no call (a raw line's error), for people.
    static func render(_ incoming: ConsoleProtocol.Incoming, format: OutputFormat) -> String {
        switch incoming {
        case .notification(_, let params): format.renderEvent(params)
        case .response(_, .failure(let error)): "error: \(error)"
        case .response(_, .success(let result)): format.render(method: "", result: result)
        }
    }

    /// Runs one typed line: what to print ("" for nothing), nil for `quit`. `extra` parameters are
    /// added to a method call (the line editor asks `pay` for progress notifications).
    static func execute(_ line: String, client: ConsoleClient, format: OutputFormat,
                        extra: (String) -> [String: JSONValue] = { _ in [:] }) async throws -> String? {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return "" }
        if trimmed == "quit" || trimmed == "exit" { return nil }
        if trimmed.hasPrefix("{") {
            try await client.sendRaw(trimmed)
            return ""
        }
        let words = trimmed.split(separator: " ").map(String.init)
        var params: [String: JSONValue]
        do { params = try ConsoleParams.parseCommand(words[0], Array(words.dropFirst())) } catch { return "error: \(error)" }
        params.merge(extra(words[0])) { given, _ in given }
        switch try await client.callResult(words[0], params) {
        case .success(let result): return format.render(method: words[0], result: result)
        case .failure(let error): return "error: \(error)"
        }
    }
}
