import ArgumentParser
import Foundation
import PaymeshConsole
import PaymeshNode

struct Console: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "An interactive prompt on a node's console socket.",
        discussion: """
        Type `method key=value …` (e.g. `peers`, `ping id=0x…`, `help`), a raw JSON-RPC line starting with `{`, \
        or `quit`. After `subscribe`, events are printed as they arrive.
        """)

    @OptionGroup var dataDir: DataDirOption
    @Flag(help: "Print raw JSON.")
    var json = false

    func run() async throws {
        let format = OutputFormat(json: json)
        let path = dataDir.consoleSocketPath
        let interactive = isatty(STDIN_FILENO) == 1
        do {
            try await ConsoleClient.withConnection(socketPath: path) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await incoming in client.incoming {
                            switch incoming {
                            case .notification(_, let params): printLine(format.renderEvent(params))
                            case .response(_, .failure(let error)): printLine("error: \(error)")
                            case .response(_, .success(let result)): printLine(format.render(method: "", result: result))
                            }
                        }
                    }
                    if interactive { printLine("connected to \(path); `help` lists methods, `quit` leaves") }
                    while true {
                        if interactive { writeIgnoringClosedReader(FileHandle.standardOutput, "paymesh> ") }
                        guard let line = readLine(strippingNewline: true) else { break }
                        let trimmed = line.trimmingCharacters(in: .whitespaces)
                        if trimmed.isEmpty { continue }
                        if trimmed == "quit" || trimmed == "exit" { break }
                        if trimmed.hasPrefix("{") {
                            try await client.sendRaw(trimmed)
                            continue
                        }
                        let words = trimmed.split(separator: " ").map(String.init)
                        let params: [String: JSONValue]
                        do { params = try ConsoleParams.parse(Array(words.dropFirst())) } catch {
                            printLine("error: \(error)")
                            continue
                        }
                        switch try await client.callResult(words[0], params) {
                        case .success(let result): printLine(format.render(method: words[0], result: result))
                        case .failure(let error): printLine("error: \(error)")
                        }
                    }
                    group.cancelAll()
                }
            }
        } catch {
            printError("paymesh: cannot reach the node: \(error)")
            throw ExitCode(3)
        }
    }
}
