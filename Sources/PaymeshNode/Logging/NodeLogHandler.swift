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

/// Structured one-line logs: `<ISO-8601 time> <level> <label>: <message> key=value …`,
/// metadata sorted by key, values with spaces quoted. The level comes from a shared
/// `LogLevelControl`.
public struct NodeLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let sink: LogSink
    private let control: LogLevelControl

    public init(label: String, sink: LogSink, control: LogLevelControl) {
        self.label = label
        self.sink = sink
        self.control = control
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
        var text = "\(Date().formatted(.iso8601)) \(level) \(label): \(message)"
        for key in all.keys.sorted() {
            text += " \(key)=\(Self.quote("\(all[key]!)"))"
        }
        sink.write(text + "\n")
    }

    static func quote(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
