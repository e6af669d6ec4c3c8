import ArgumentParser
import Foundation
import PaymeshConsole

/// `paymesh fetch URL`: curl-like, through the local node's console (`http.fetch`, Specs/http402.md
/// §11): the node makes the request, pays a 402 answer within --max-price and returns the answer.
struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fetches a URL through the local node, paying an HTTP 402 answer within --max-price.",
        discussion: """
        The body goes to standard output (with -i the status line and headers first); what was paid goes to \
        standard error. Without --max-price nothing is paid: a 402 answer is reported with its price. Retry a \
        request with the same --idempotency-key (printed on standard error) to be sure it is never paid twice. \
        Exit status: 0 an answer (any HTTP status); 1 the node refused (price above the maximum, nothing payable, \
        already paid under this key, …); 2 bad command line; 3 the node cannot be reached.
        """)

    @Argument(help: "http://<loopback host>:<port>/…")
    var url: String
    @Option(name: .customLong("max-price"), help: "The most this request may cost: atomic units (250) or a decimal with its asset (0.00025USDC); for a metered service (per byte, token or second), the cap on all its steps.")
    var maxPrice: String?
    @Option(name: [.customShort("X"), .customLong("method")], help: "GET (default), HEAD, POST, PUT, PATCH or DELETE.")
    var method: String?
    @Option(name: [.customShort("d"), .customLong("data")], help: "The request body (POST by default when given).")
    var data: String?
    @Option(name: [.customShort("H"), .customLong("header")], help: "A request header \"Name: value\" (repeatable).")
    var header: [String] = []
    @Option(name: .customLong("idempotency-key"), help: "Names this request across retries (1–48 bytes of A-Z a-z 0-9 . _ - :).")
    var idempotencyKey: String?
    @Flag(name: [.customShort("i"), .customLong("include")], help: "Print the status line and the answer's headers before the body.")
    var include = false
    @Flag(help: "Print the raw JSON result of http.fetch instead.")
    var json = false
    @OptionGroup var dataDir: DataDirOption

    func run() async throws {
        var params: [String: JSONValue] = ["url": .string(url), "method": .string(method ?? (data == nil ? "GET" : "POST"))]
        if let maxPrice { params["max_price"] = .string(maxPrice) }
        if let data { params["body"] = .string(data) }
        if !header.isEmpty { params["headers"] = .array(header.map { .string($0) }) }
        if let idempotencyKey { params["idempotency_key"] = .string(idempotencyKey) }
        let outcome: Result<JSONValue, ConsoleProtocol.RemoteError>
        do {
            let request = params
            outcome = try await ConsoleClient.withConnection(socketPath: dataDir.consoleSocketPath) { try await $0.callResult("http.fetch", request) }
        } catch {
            printError("paymesh: cannot reach the node: \(error)")
            throw ExitCode(ExitStatus.unreachable.rawValue)
        }
        switch outcome {
        case .failure(let error):
            if json {
                printLine(JSONValue.object(["code": .int(Int64(error.code)), "name": JSONValue(error.name), "message": .string(error.message)]).description)
            } else {
                printError("error: \(error.message) (\(error.code)\(error.name.map { " " + $0 } ?? ""))")
            }
            throw ExitCode(ExitStatus.refused.rawValue)
        case .success(let result):
            if json {
                printLine(result.description)
                return
            }
            if let paid = result["paid"]?.stringValue, paid != "0" {
                printError("paymesh: paid \(paid) atomic units of \(result["asset"]?.stringValue ?? "?") (\(result["scheme"]?.stringValue ?? "?")"
                           + (result["channel"]?.stringValue.map { ", channel \($0) voucher \(result["nonce"]?.stringValue ?? "?")" } ?? "")
                           + "); idempotency key \(result["idempotency_key"]?.stringValue ?? "")")
            }
            if let opened = result["opened"]?.stringValue {
                printError("paymesh: opened channel \(opened) to the payee for this request (policy auto_open)")
            }
            if result["unit"]?.stringValue == "second", let units = result["units"]?.stringValue {
                printError("paymesh: per second: \(units) seconds bought, \(result["served_ms"]?.stringValue ?? "?") ms served"
                           + (result["partial"]?.stringValue.map { "; stopped: \($0)" } ?? ""))
            } else if let unit = result["unit"]?.stringValue, let units = result["units"]?.stringValue {
                printError("paymesh: metered: \(units) of \(result["units_total"]?.stringValue ?? "?") \(unit)s received"
                           + (result["partial"]?.stringValue.map { "; stopped: \($0)" } ?? ""))
            }
            var out = Data()
            if include {
                var head = "HTTP/1.1 \(result["status"]?.intValue ?? 0)\r\n"
                for pair in result["headers"]?.arrayValue ?? [] {
                    if let a = pair.arrayValue, a.count == 2, let n = a[0].stringValue, let v = a[1].stringValue { head += "\(n): \(v)\r\n" }
                }
                out.append(Data((head + "\r\n").utf8))
            }
            if let body = result["body"]?.stringValue { out.append(Data(body.utf8)) } else if let b64 = result["body_base64"]?.stringValue,
                                                                                         let bytes = Data(base64Encoded: b64) { out.append(bytes) }
            try? FileHandle.standardOutput.write(contentsOf: out)
        }
    }
}
