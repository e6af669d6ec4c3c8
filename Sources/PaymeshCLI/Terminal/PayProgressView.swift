import Foundation
import PaymeshConsole
import PaymeshMessages
import PaymeshTerminal

/// `pay.progress` notifications (Specs/console.md §8) for people.
enum PayProgressView {
    /// The acknowledged amount with its asset ("0.0042 USDC"), or atomic units when the asset is unknown.
    static func amount(_ params: JSONValue) -> String {
        guard let text = params["ackedAmount"]?.stringValue, let amount = try? Amount(decimal: text) else { return "" }
        guard let asset = OutputFormat.asset(of: params.objectValue ?? [:]) else { return text + " atomic units" }
        return amount.formatted(asset)
    }

    /// Whether progress lines are shown: standard output and standard error are terminals (a
    /// script that pipes or redirects the output sees nothing extra).
    static var onTerminal: Bool { isatty(STDOUT_FILENO) == 1 && isatty(STDERR_FILENO) == 1 }

    /// Calls `method` on `client`, handing each `pay.progress` notification that arrives while it
    /// runs to `onProgress`. One call per connection (it reads the client's notifications).
    static func call(_ client: ConsoleClient, _ method: String, _ params: [String: JSONValue],
                     onProgress: @escaping @Sendable (JSONValue) -> Void) async throws -> Result<JSONValue, ConsoleProtocol.RemoteError> {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await incoming in client.incoming {
                    if case .notification("pay.progress", let p) = incoming { onProgress(p) }
                }
            }
            defer { group.cancelAll() }
            return try await client.callResult(method, params)
        }
    }
}

/// A progress line on standard error, shared by concurrent calls (`mesh pay` runs one per lane).
final class ProgressDisplay: @unchecked Sendable {
    private let lock = NSLock()
    private var line: ProgressLine

    init(noun: String, isTerminal: Bool = PayProgressView.onTerminal) {
        line = ProgressLine(isTerminal: isTerminal, noun: noun)
    }

    func update(_ key: String = "", done: Int, total: Int, elapsedMillis: Int, extra: String = "") {
        lock.withLock {
            if let text = line.update(key, done: done, total: total, elapsedMillis: elapsedMillis, extra: extra) {
                writeIgnoringClosedReader(FileHandle.standardError, text)
            }
        }
    }

    /// A `pay.progress` notification of part `key`.
    func update(_ key: String = "", pay params: JSONValue, showAmount: Bool = true) {
        update(key, done: params["acked"]?.intValue.map { Int($0) } ?? 0, total: params["count"]?.intValue.map { Int($0) } ?? 0,
               elapsedMillis: params["elapsedMs"]?.intValue.map { Int($0) } ?? 0, extra: showAmount ? PayProgressView.amount(params) : "")
    }

    func finish() {
        lock.withLock {
            if let text = line.finish() { writeIgnoringClosedReader(FileHandle.standardError, text) }
        }
    }
}
