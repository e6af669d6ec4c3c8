public import Logging
import Foundation
import NIOConcurrencyHelpers

/// Where log lines go: standard error or a file opened for appending.
public final class LogSink: Sendable {
    private let handle: NIOLockedValueBox<FileHandle>

    public static let standardError = LogSink(handle: .standardError)

    private init(handle: FileHandle) { self.handle = NIOLockedValueBox(handle) }

    /// Appends to `path`, creating it with mode 0600.
    public static func file(_ path: String) throws -> LogSink {
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw NodeError.configuration("cannot create log file \(path)")
            }
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw NodeError.configuration("cannot open log file \(path)") }
        handle.seekToEndOfFile()
        return LogSink(handle: handle)
    }

    func write(_ line: String) {
        let data = Data(line.utf8)
        handle.withLockedValue { $0.write(data) }
    }
}

/// How log lines are written (`paymesh start --log-format`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// `<ISO-8601 time> <level> <label>: <message> key=value …`, for people.
    case text
    /// One JSON object per line, for log shippers: `{"ts", "level", "label", "message", <metadata keys>…}`
    /// (metadata values are strings; a metadata key named like a fixed field is prefixed with `_`).
    case json
}

/// Structured one-line logs: `<ISO-8601 time> <level> <label>: <message> key=value …`,
/// metadata sorted by key, values with spaces quoted, or the same as one JSON object per line
/// (`LogFormat.json`). The level comes from a shared `LogLevelControl`.
public struct NodeLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let sink: LogSink
    private let control: LogLevelControl
    private let format: LogFormat

    public init(label: String, sink: LogSink, control: LogLevelControl, format: LogFormat = .text) {
        self.label = label
        self.sink = sink
        self.control = control
        self.format = format
    }

    public var logLevel: Logger.Level {
        get { control.level }
        set { control.level = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var explicit = event.metadata ?? [:]
        if let error = event.error { explicit["error"] = "\(error)" }
        write(level: event.level, message: event.message, metadata: explicit)
    }

    private func write(level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?) {
        var all = self.metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let explicit { all.merge(explicit) { _, new in new } }
        let time = Date().formatted(.iso8601)
        switch format {
        case .text:
            var text = "\(time) \(level) \(label): \(message)"
            for key in all.keys.sorted() {
                text += " \(key)=\(Self.quote(Self.plain(all[key]!)))"
            }
            sink.write(text + "\n")
        case .json:
            var fields = [("ts", time), ("level", "\(level)"), ("label", label), ("message", "\(message)")]
            let fixed = Set(fields.map(\.0))
            for key in all.keys.sorted() { fields.append((fixed.contains(key) ? "_" + key : key, Self.plain(all[key]!))) }
            sink.write("{" + fields.map { "\(JSONStringLiteral.make($0.0)):\(JSONStringLiteral.make($0.1))" }.joined(separator: ",") + "}\n")
        }
    }

    /// A metadata value as text: a string as it is; lists and dictionaries with their elements as text
    /// (swift-log's own description quotes strings inside them, which then gets quoted again).
    static func plain(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let items): "[" + items.map(plain).joined(separator: ", ") + "]"
        case .dictionary(let d): "{" + d.keys.sorted().map { "\($0): \(plain(d[$0]!))" }.joined(separator: ", ") + "}"
        }
    }

    static func quote(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
