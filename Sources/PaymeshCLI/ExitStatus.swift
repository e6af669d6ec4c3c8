import ArgumentParser
import PaymeshConsole

/// The exit statuses of `paymesh ctl` (README, "Exit statuses"): one per failure class, so that a
/// script can tell a refused call from an unreachable node and a payment that stopped early.
enum ExitStatus: Int32 {
    /// The call succeeded (a `pay` that paid everything, a `stream.usage` that paid what it used).
    case ok = 0
    /// The node answered with an error: the call was refused (bad parameter, unknown channel, …).
    case refused = 1
    /// The command line is wrong (a parameter not key=value).
    case usage = 2
    /// The node cannot be reached (not running, wrong data directory).
    case unreachable = 3
    /// A payment stopped early for lack of money: insufficient funds (1100), the spending policy
    /// (1104), a stream paused at its cap or at the channel's balance.
    case funds = 4
    /// A payment stopped early because the payee limits its rate (1504 RATE_LIMITED).
    case rateLimited = 5
    /// A payment stopped early for another reason: the payee went away, no acknowledgement in time, …
    case incomplete = 6
    /// A payment stopped early because it was cancelled: Ctrl-C in `paymesh ctl pay`, or
    /// `pay.cancel` (-32050 CANCELLED); what the payee acknowledged stays paid and is reported.
    case cancelled = 7

    var exitCode: ExitCode { ExitCode(rawValue) }

    /// The status of a successful answer: a `pay` or `stream.usage` result with `complete: false`
    /// is a payment that stopped early, classed by its error code.
    static func of(method: String, result: JSONValue) -> ExitStatus {
        guard method == "pay" || method == "stream.usage", result["complete"] == .bool(false) else { return .ok }
        if method == "stream.usage" { return .funds }
        switch result["error"]?["code"]?.intValue {
        case 1100, 1104: return .funds
        case 1504: return .rateLimited
        case -32050: return .cancelled
        default: return .incomplete
        }
    }
}
