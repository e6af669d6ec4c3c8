import ArgumentParser
import Foundation
import Logging
import PaymeshDaemon
import PaymeshNode
import ServiceLifecycle

struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Runs a node until SIGINT/SIGTERM or console `stop`.",
        discussion: """
        Every option can also come from the environment (PAYMESH_DATA_DIR, PAYMESH_LISTEN, PAYMESH_LOG_LEVEL, \
        PAYMESH_LOG_FILE, PAYMESH_LOG_FORMAT, PAYMESH_PEERS comma-separated, PAYMESH_NO_MDNS, PAYMESH_ASSETS comma-separated, PAYMESH_HTTP, \
        PAYMESH_CONFIG) or from a JSON config file with the options' names as keys. Flags win over the environment, which wins over the file.
        When ready, prints one line: paymesh ready id=<id> listen=<host:port> console=<socket path> \
        (and http=<host:port> when --http is on).
        """)

    @Option(name: .customLong("data-dir"), help: "Data directory (default ~/.paymesh).")
    var dataDir: String?
    @Option(help: "Listen address host:port; port 0 picks a free one (default 127.0.0.1:0).")
    var listen: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error, critical (default info).")
    var logLevel: String?
    @Option(name: .customLong("log-file"), help: "Append logs to this file instead of standard error.")
    var logFile: String?
    @Option(name: .customLong("log-format"), help: "text (default) or json: one JSON object per line for log shippers.")
    var logFormat: String?
    @Option(name: .customLong("peer"), help: "A static peer [id@]host:port (repeatable); with id@, only a node proving that identity is accepted.")
    var peers: [String] = []
    @Option(help: "A JSON config file.")
    var config: String?
    @Flag(name: .customLong("no-mdns"), help: "Do not use LAN discovery.")
    var noMdns = false
    @Option(name: .customLong("asset"), help: "Fix an asset's decimals, ID:DECIMALS (repeatable), e.g. USDC:6; other assets are fixed by their first use.")
    var assets: [String] = []
    @Option(help: "Serve HTTP (/metrics) on host:port, or on 127.0.0.1:PORT given a port alone; port 0 picks a free one (default off).")
    var http: String?
    @Option(name: .customLong("discover-allow"), help: "Dial only these peer ids when LAN discovery finds them: ID[,ID…] (repeatable); others are shown as skipped.")
    var discoverAllow: [String] = []
    @Option(name: .customLong("gossip-stale"), help: "Seconds after which unrefreshed channels and nodes leave the gossip graph (default 14 days); own announcements are refreshed every quarter of it.")
    var gossipStale: String?
    @Option(name: .customLong("fee-base"), help: "Base fee this node charges to forward an HTLC, atomic units (default 0); advertised in its channel updates.")
    var feeBase: String?
    @Option(name: .customLong("fee-ppm"), help: "Proportional forwarding fee, parts per million of the amount forwarded (default 0).")
    var feePPM: String?
    @Option(name: .customLong("htlc-expiry-delta"), help: "Seconds of HTLC expiry delta required and advertised when forwarding, and minimum final expiry; invoices and payments ask twice it of the final hop (1…86400; short values unlock stuck HTLCs fast).")
    var htlcExpiryDelta: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let options: NodeOptions
        let configuration: NodeConfiguration
        let level: Logger.Level
        let format: LogFormat
        do {
            var merged = NodeOptions()
            if let path = config ?? environment["PAYMESH_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
                guard let data = FileManager.default.contents(atPath: DataDirectory.expand(path)) else {
                    throw NodeError.configuration("cannot read config file \(path)")
                }
                merged = try NodeOptions.parseConfigFile(data, path: path)
            }
            merged = merged.overridden(by: .environment(environment))
            merged = merged.overridden(by: NodeOptions(dataDir: dataDir, listen: listen, logLevel: logLevel, logFile: logFile,
                                                       peers: peers.isEmpty ? nil : peers, noMdns: noMdns ? true : nil,
                                                       assets: assets.isEmpty ? nil : assets, logFormat: logFormat, http: http,
                                                       discoverAllow: discoverAllow.isEmpty ? nil : discoverAllow, gossipStale: gossipStale))
            var flags = NodeOptions()
            flags.feeBase = feeBase
            flags.feePPM = feePPM
            flags.htlcExpiryDelta = htlcExpiryDelta
            merged = merged.overridden(by: flags)
            options = merged
            configuration = try options.nodeConfiguration()
            level = try options.resolvedLogLevel
            format = try options.resolvedLogFormat
        } catch let error as NodeError {
            printError("paymesh: \(error.detail)")
            throw ExitCode(2)
        }

        let control = LogLevelControl(level)
        let sink: LogSink
        do {
            sink = try options.logFile.map { try LogSink.file(DataDirectory.expand($0)) } ?? .standardError
        } catch {
            printError("paymesh: \(error)")
            throw ExitCode(2)
        }
        LoggingSystem.bootstrap { label in NodeLogHandler(label: label, sink: sink, control: control, format: format) }
        let logger = Logger(label: "paymesh")

        let node = PaymeshNode(configuration: configuration, logger: logger, logLevel: control)
        let services = ServiceGroup(configuration: .init(
            services: [.init(service: node, successTerminationBehavior: .gracefullyShutdownGroup)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await services.run() }
                group.addTask {
                    let s = try await node.started()
                    printLine("paymesh ready id=\(s.id) listen=\(s.listen) console=\(s.consolePath)" + (s.http.map { " http=\($0)" } ?? ""))
                }
                try await group.waitForAll()
            }
        } catch let error as NodeError {
            logger.error("cannot start", metadata: ["error": "\(error.detail)"])
            printError("paymesh: \(error.detail)")
            throw ExitCode(1)
        }
    }
}
