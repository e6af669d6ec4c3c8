import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages

/// What a deadline of the payments driver stands for.
enum PaymentsDeadline: Hashable, Sendable {
    /// A channel machine asked for `onTimerTick` (`.scheduleTimer`: expiries, challenge periods,
    /// close retries).
    case channelTimer(ChannelID)
    /// A waiting call gives up (`Waiters`).
    case waiter(UInt64)
    /// A per-second streaming session bills the time since its last tick.
    case streamTick(String)
    /// The HTLC book's earliest pending expiry: its sweeper runs (Specs/channels.md §12.8).
    case htlcSweep
}

extension PaymentsService {
    // MARK: The deadline queue

    /// Adds a deadline; re-arms the one sleeping task when it is the new earliest.
    func schedule(_ key: PaymentsDeadline, at deadline: NodeInstant) {
        guard !stopped else { return }
        if deadlines.schedule(key, at: deadline) { armDeadlines() }
    }

    /// Keeps exactly one task asleep on the injected clock until the earliest deadline.
    private func armDeadlines() {
        guard !stopped else { return }
        deadlineSleeper.arm(deadlines.earliest, clock: clock) { [weak self] generation in await self?.deadlinesDue(generation) }
    }

    private func deadlinesDue(_ generation: UInt64) {
        guard deadlineSleeper.woke(generation) else { return } // a sleeper replaced by an earlier one
        for key in deadlines.popDue(now: clock.now) {
            switch key {
            case .channelTimer(let id): timerFired(id)
            case .waiter(let token): waiters.take(token, dueAt: clock.now)?.resume(returning: .deadline)
            case .streamTick(let name): streamTick(name)
            case .htlcSweep: sweepHTLCs()
            }
        }
        armDeadlines()
    }

    // MARK: Waiting for events

    /// Suspends the admitted call `token` until an event of `channels` or `peers` (see `Wake`),
    /// `deadline`, or shutdown.
    func wait(_ token: UInt64, channels: Set<ChannelID>, peers: Set<EthereumAddress> = [], until deadline: NodeInstant) async -> Wake {
        if stopped { return .shutdown }
        if deadline <= clock.now { return .deadline }
        return await withCheckedContinuation { (c: CheckedContinuation<Wake, Never>) in
            waiters.add(token, until: deadline, channels: channels, peers: peers, c)
            schedule(.waiter(token), at: deadline)
        }
    }

    /// Admits a call that may wait: its token (pair it with `defer { waiters.release(token) }`);
    /// refused when `Waiters.maxWaiters` such calls already run.
    func admitWaiter() throws(NodeError) -> UInt64 {
        if stopped { throw .shuttingDown() }
        guard let token = waiters.admit() else {
            throw .rateLimited("\(Waiters.maxWaiters) payment calls are already waiting; try again later")
        }
        return token
    }

    /// Resumes the calls waiting on `channel`.
    func wakeWaiters(channel: ChannelID) {
        for c in waiters.take(channel: channel) { c.resume(returning: .event) }
    }

    /// Resumes the calls waiting on `peer`'s stream.
    func wakeWaiters(peer: EthereumAddress) {
        for c in waiters.take(peer: peer) { c.resume(returning: .event) }
    }

    /// At shutdown: every waiter returns, the deadline task stops.
    func stopDeadlines() {
        for c in waiters.takeAll() { c.resume(returning: .shutdown) }
        deadlineSleeper.stop()
    }

    /// A monotonic instant `millis` after now.
    func instant(afterMillis millis: UInt64) -> NodeInstant {
        clock.now.advanced(by: .milliseconds(Int64(clamping: millis)))
    }
}
