/// Admission of inbound TCP connections before the handshake (issue 7 item 3), sans-IO: the
/// endpoint reports accepts, finished handshakes and closes; the machine answers whether a new
/// connection may stay and whether the listener should keep accepting.
///
/// - Pending handshakes are capped per source address: a connection over that cap is the newest
///   from its address, and it is the one closed (one address cannot push anyone else out).
/// - Pending handshakes are capped globally: at that cap a connection from an address under its
///   own cap evicts the **oldest** pending handshake. A legitimate handshake takes one round trip
///   (milliseconds), a stalled one holds its slot for up to the handshake timeout, so the oldest
///   is almost always a staller; refusing the newest instead would lock every newcomer out for
///   as long as attackers from many addresses keep the slots full.
/// - Inbound connections (pending or established) are capped by `maxConnections`, which the
///   endpoint derives from the descriptor limit minus a reserve; at the cap the listener stops
///   accepting (the kernel backlog holds new connections) until one closes.
public struct ConnectionAdmission: Sendable {
    public struct Limits: Sendable, Hashable {
        /// Handshakes in progress over all sources (each holds a descriptor for up to the 10 s
        /// handshake timeout, transport.md).
        public static let defaultMaxPendingHandshakes = 128
        /// Handshakes in progress from one IP address.
        public static let defaultMaxPendingHandshakesPerAddress = 8
        /// Descriptors kept free for the store, console, logs and outbound dials: inbound
        /// connections stop being accepted this far below RLIMIT_NOFILE.
        public static let defaultReservedDescriptors = 96

        public var maxPendingHandshakes: Int
        public var maxPendingHandshakesPerAddress: Int
        /// Inbound connections at once; nil derives it from the soft descriptor limit minus
        /// `reservedDescriptors` when the endpoint starts listening.
        public var maxConnections: Int?
        public var reservedDescriptors: Int

        public init(maxPendingHandshakes: Int = Limits.defaultMaxPendingHandshakes,
                    maxPendingHandshakesPerAddress: Int = Limits.defaultMaxPendingHandshakesPerAddress,
                    maxConnections: Int? = nil,
                    reservedDescriptors: Int = Limits.defaultReservedDescriptors) {
            precondition(maxPendingHandshakes > 0 && maxPendingHandshakesPerAddress > 0 && reservedDescriptors >= 0)
            precondition(maxConnections.map { $0 > 0 } ?? true)
            self.maxPendingHandshakes = maxPendingHandshakes
            self.maxPendingHandshakesPerAddress = maxPendingHandshakesPerAddress
            self.maxConnections = maxConnections
            self.reservedDescriptors = reservedDescriptors
        }

        /// The connection cap for a soft descriptor limit: the limit minus the reserve, at least 1.
        public func connectionCap(descriptorLimit: Int) -> Int {
            maxConnections ?? max(1, descriptorLimit - reservedDescriptors)
        }
    }

    /// Identifies one admitted connection to the machine (monotonic, never reused).
    public typealias Ticket = UInt64

    public enum Decision: Hashable, Sendable {
        /// Keep the connection; when `evicting` is set, close that older pending handshake.
        case admit(Ticket, evicting: Ticket?)
        case refuseTooManyPendingFromAddress
        case refuseTooManyConnections
    }

    /// Counters for logs, the console and tests.
    public struct Counters: Hashable, Sendable {
        public var admitted: UInt64 = 0
        /// Oldest pending handshakes closed to admit a newer one at the global cap.
        public var evictedPending: UInt64 = 0
        public var refusedPendingFromAddress: UInt64 = 0
        public var refusedConnections: UInt64 = 0
        /// Times the listener stopped accepting because the connection cap was reached.
        public var acceptPauses: UInt64 = 0
        /// accept(2) failures (EMFILE, ENFILE, ENOBUFS…) answered with a back-off.
        public var acceptErrors: UInt64 = 0
        public init() {}
    }

    public let limits: Limits
    public let maxConnections: Int
    public private(set) var pending = 0
    public private(set) var connections = 0
    public private(set) var pendingByAddress: [String: Int] = [:]
    /// Pending handshakes by ticket (their source address); `oldest` never passes a live ticket.
    private var pendingTickets: [Ticket: String] = [:]
    private var oldest: Ticket = 0
    private var nextTicket: Ticket = 0
    public private(set) var counters = Counters()
    /// False while the listener must not accept (at the connection cap).
    public private(set) var accepting = true

    public init(limits: Limits, descriptorLimit: Int) {
        self.limits = limits
        self.maxConnections = limits.connectionCap(descriptorLimit: descriptorLimit)
    }

    /// A connection was accepted from `address` (its IP, nil if unknown). On anything but
    /// `.admit` the caller closes it at once and reports nothing more for it.
    public mutating func onAccepted(address: String?) -> Decision {
        let key = address ?? "?"
        let decision: Decision
        if connections >= maxConnections {
            counters.refusedConnections += 1
            decision = .refuseTooManyConnections
        } else if pendingByAddress[key, default: 0] >= limits.maxPendingHandshakesPerAddress {
            counters.refusedPendingFromAddress += 1
            decision = .refuseTooManyPendingFromAddress
        } else {
            var evicted: Ticket?
            if pending >= limits.maxPendingHandshakes, let victim = oldestPending() {
                releasePending(victim)
                counters.evictedPending += 1
                evicted = victim
            }
            counters.admitted += 1
            let ticket = nextTicket
            nextTicket += 1
            pending += 1
            connections += 1
            pendingByAddress[key, default: 0] += 1
            pendingTickets[ticket] = key
            decision = .admit(ticket, evicting: evicted)
        }
        updateAccepting()
        return decision
    }

    /// An admitted connection finished its handshake (it stops counting as pending).
    public mutating func onHandshakeFinished(_ ticket: Ticket) {
        releasePending(ticket)
    }

    /// An admitted connection closed (pending or not; an evicted one was released already).
    public mutating func onClosed(_ ticket: Ticket) {
        releasePending(ticket)
        connections -= 1
        precondition(connections >= 0, "admission: more closes than admissions")
        updateAccepting()
    }

    public mutating func onAcceptError() { counters.acceptErrors += 1 }

    /// Releases `ticket`'s pending slot; a no-op when it is not pending (finished or evicted).
    private mutating func releasePending(_ ticket: Ticket) {
        guard let key = pendingTickets.removeValue(forKey: ticket) else { return }
        pending -= 1
        precondition(pending >= 0, "admission: pending count below zero")
        let left = (pendingByAddress[key] ?? 1) - 1
        pendingByAddress[key] = left > 0 ? left : nil
    }

    /// The oldest ticket still pending (amortised O(1): `oldest` only moves forward).
    private mutating func oldestPending() -> Ticket? {
        while oldest < nextTicket {
            if pendingTickets[oldest] != nil { return oldest }
            oldest += 1
        }
        return nil
    }

    private mutating func updateAccepting() {
        let next = connections < maxConnections
        if accepting, !next { counters.acceptPauses += 1 }
        accepting = next
    }
}
