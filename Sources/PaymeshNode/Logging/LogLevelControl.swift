public import Logging
import NIOConcurrencyHelpers

/// The node's log level, changeable at run time (console `loglevel`). Handlers made by
/// `NodeLogHandler` read it on every log call.
public final class LogLevelControl: Sendable {
    private let box: NIOLockedValueBox<Logger.Level>

    public init(_ level: Logger.Level = .info) { box = NIOLockedValueBox(level) }

    public var level: Logger.Level {
        get { box.withLockedValue { $0 } }
        set { box.withLockedValue { $0 = newValue } }
    }
}
