public import Logging

extension Logger {
    /// A logger that drops everything (tests, embedding).
    public static var silent: Logger { Logger(label: "paymesh", factory: { _ in SwiftLogNoOpLogHandler() }) }
}
