import Dispatch
import Foundation
import PaymeshConsole

/// Ctrl-C during `paymesh ctl pay`: the first SIGINT asks the node to cancel the running burst
/// (`pay.cancel` on a second connection), the second one exits at once with status 130.
final class BurstCancel: @unchecked Sendable {
    let socketPath: String
    private let lock = NSLock()
    private var burst: Int64?
    private var interrupts = 0
    private var source: (any DispatchSourceSignal)?

    init(socketPath: String) { self.socketPath = socketPath }

    func started(_ burst: Int64?) {
        lock.withLock { if self.burst == nil { self.burst = burst } }
    }

    func armSIGINT() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [self] in interrupted() }
        source.resume()
        lock.withLock { self.source = source }
    }

    func disarm() {
        lock.withLock {
            source?.cancel()
            source = nil
        }
        signal(SIGINT, SIG_DFL)
    }

    private func interrupted() {
        let (burst, count): (Int64?, Int) = lock.withLock {
            interrupts += 1
            return (self.burst, interrupts)
        }
        guard count == 1, let burst else {
            writeIgnoringClosedReader(FileHandle.standardError, "\n")
            exit(130)
        }
        writeIgnoringClosedReader(FileHandle.standardError, "\ncancelling pay burst \(burst)… (Ctrl-C again to leave at once)\n")
        let path = socketPath
        Task {
            _ = try? await ConsoleClient.withConnection(socketPath: path) { try await $0.call("pay.cancel", ["burst": .int(burst)]) }
        }
    }
}
