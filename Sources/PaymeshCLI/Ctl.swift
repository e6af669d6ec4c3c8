import ArgumentParser
import PaymeshConsole
import PaymeshNode

struct Ctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Calls one console method and prints the result.",
        discussion: """
        Parameters are key=value; a value that parses as JSON (42, true, null, "text", [..], {..}) is sent as \
        that JSON, anything else as a string. Exit status 1 on an error response (printed to standard error), \
        3 when the node cannot be reached. `ctl subscribe` prints events until interrupted.
        """)

    @Argument(help: "The method, e.g. getinfo, peers, ping, help.")
    var method: String
    @Argument(help: "Parameters as key=value.")
    var params: [String] = []
    @OptionGroup var dataDir: DataDirOption
    @Flag(help: "Print the raw JSON result.")
    var json = false

    func run() async throws {
        let parameters: [String: JSONValue]
        do {
            parameters = try ConsoleParams.parse(params)
        } catch {
            printError("paymesh: \(error)")
            throw ExitCode(2)
        }
        let format = OutputFormat(json: json)
        let method = self.method
        let outcome: Result<JSONValue, ConsoleProtocol.RemoteError>
        do {
            outcome = try await ConsoleClient.withConnection(socketPath: dataDir.consoleSocketPath) { client in
                let result = try await client.callResult(method, parameters)
                if case .success(let value) = result, method == "subscribe" {
                    printLine(format.render(method: method, result: value))
                    for await incoming in client.incoming {
                        if case .notification(_, let params) = incoming { printLine(format.renderEvent(params)) }
                    }
                }
                return result
            }
        } catch {
            printError("paymesh: cannot reach the node at \(dataDir.consoleSocketPath): \(error)")
            throw ExitCode(3)
        }
        switch outcome {
        case .success(let result):
            if method != "subscribe" { printLine(format.render(method: method, result: result)) }
        case .failure(let error):
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

enum ConsoleParams {
    struct BadParameter: Error, CustomStringConvertible {
        let text: String
        var description: String { "parameter \(text) is not key=value" }
    }

    static func parse(_ items: [String]) throws -> [String: JSONValue] {
        var params: [String: JSONValue] = [:]
        for item in items {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else { throw BadParameter(text: item) }
            let key = String(item[..<eq]), raw = String(item[item.index(after: eq)...])
            // Digits past Int64 (an amount up to 2^128 − 1) go as text, never as a lossy JSON double.
            let bigInteger = !raw.isEmpty && raw.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } && Int64(raw) == nil
            params[key] = bigInteger ? .string(raw) : (try? JSONValue.parse(Array(raw.utf8))) ?? .string(raw)
        }
        return params
    }
}
