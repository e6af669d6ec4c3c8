import ArgumentParser
import Foundation
import PaymeshDaemon
import PaymeshNode

@main
struct Paymesh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paymesh",
        abstract: "A peer-to-peer payment node.",
        version: PaymeshNode.version,
        subcommands: [Start.self, Identity.self, Ctl.self, Console.self,
                      Mesh.self, Receipts.self, Fetch.self])

    /// A closed output pipe must neither kill nor crash `paymesh` (a node whose launcher read
    /// the ready line and went away keeps running): SIGPIPE is ignored, and the EPIPE that
    /// writes then get is dropped by `writeIgnoringClosedReader`.
    static func main() async {
        signal(SIGPIPE, SIG_IGN)
        await Self.main(nil)
    }
}

/// `--data-dir`, defaulting to $PAYMESH_DATA_DIR, then ~/.paymesh.
struct DataDirOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (env PAYMESH_DATA_DIR; default ~/.paymesh).")
    var dataDir: String?

    var resolved: String {
        DataDirectory.expand(dataDir ?? NodeOptions.environment(ProcessInfo.processInfo.environment).dataDir ?? NodeOptions.defaultDataDir)
    }

    var consoleSocketPath: String { NodeConfiguration.consoleSocketPath(dataDirectory: resolved) }
}

/// Writes to standard error (messages for people; stdout stays for results and the ready line).
func printError(_ text: String) {
    writeIgnoringClosedReader(FileHandle.standardError, text + "\n")
}

/// Writes a line to standard output unbuffered (scripts wait for lines through pipes).
func printLine(_ text: String) {
    writeIgnoringClosedReader(FileHandle.standardOutput, text + "\n")
}

/// Writes without trapping when the reader has gone (EPIPE, e.g. `paymesh identity | head -1`,
/// or a script that read a node's ready line and closed the pipe): the output is dropped and the
/// command — or the node — carries on. `FileHandle.write(_:)` would crash the process instead.
func writeIgnoringClosedReader(_ handle: FileHandle, _ text: String) {
    try? handle.write(contentsOf: Data(text.utf8))
}
