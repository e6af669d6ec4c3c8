/// The A2A tasks of paid skills (Specs/a2a.md §4), sans-IO and bounded: at most `capacity` tasks;
/// a new task evicts the oldest finished one, else the oldest unpaid one (so a client creating
/// tasks in a loop cannot lock others out: it only shortens how long an unpaid task waits); only
/// when every slot holds a task whose payment is being verified is the new one refused (1504). Nothing here is durable: the
/// money is (the voucher is persisted before the skill runs); a task lost to a restart is
/// reported as not found.
public struct A2ATaskBook: Sendable {
    public static let capacity = 1_024

    /// A2A `TaskState` values this node uses.
    public enum State: String, Sendable, Hashable {
        case inputRequired = "input-required"
        case working
        case completed
        case failed
        case canceled

        var isFinished: Bool { self == .completed || self == .failed || self == .canceled }
    }

    public struct Task: Sendable, Hashable {
        public let id: String
        public let contextID: String
        public let skill: String
        /// What the skill is paid with: the gateway's requirements for the service.
        public let requirements: PaymentRequirements
        /// The skill's input: the text parts of the first message.
        public let input: String
        public let createdAt: UInt64
        public var state: State
        /// The receipt of the accepted payment, once there is one.
        public var receipt: PaymentReceiptHeader?
        /// The skill's answer (completed) or why it failed (failed); the last refusal (input-required).
        public var output: String?
        public var refusal: Pay402Error?

        public init(id: String, contextID: String, skill: String, requirements: PaymentRequirements, input: String, createdAt: UInt64) {
            self.id = id
            self.contextID = contextID
            self.skill = skill
            self.requirements = requirements
            self.input = input
            self.createdAt = createdAt
            state = .inputRequired
        }
    }

    private var tasks: [String: Task] = [:]
    /// Task ids, oldest first (eviction order).
    private var order: [String] = []

    public init() {}

    public var count: Int { tasks.count }

    public func task(_ id: String) -> Task? { tasks[id] }

    /// Adds a task awaiting payment; throws 1504 when the table holds `capacity` live tasks.
    public mutating func open(_ task: Task, now: UInt64) throws(Pay402Error) {
        precondition(tasks[task.id] == nil, "task ids are fresh random values")
        if tasks.count >= Self.capacity {
            let victim = order.firstIndex { tasks[$0]?.state.isFinished ?? true }
                ?? order.firstIndex { tasks[$0]?.state == .inputRequired }
            guard let victim else { throw Pay402Error(.rateLimited, "\(Self.capacity) tasks are in progress; retry later") }
            tasks[order.remove(at: victim)] = nil
        }
        tasks[task.id] = task
        order.append(task.id)
    }

    /// A payment arrived for task `id`: it must be waiting for one (1460 not found, 1461 not
    /// waiting); it moves to `working` so that a second payload for it is refused while the first
    /// is verified.
    public mutating func beginPayment(_ id: String) throws(Pay402Error) -> Task {
        guard var task = tasks[id] else { throw Pay402Error(.a2aTaskNotFound, "no task \(id.prefix(64))") }
        guard task.state == .inputRequired else {
            throw Pay402Error(.a2aTaskNotPayable, "the task is \(task.state.rawValue), not waiting for a payment")
        }
        task.state = .working
        tasks[id] = task
        return task
    }

    /// The payment was refused: the task waits for a payment again.
    public mutating func paymentRefused(_ id: String, _ error: Pay402Error) {
        tasks[id]?.state = .inputRequired
        tasks[id]?.refusal = error
    }

    /// The payment was accepted (and is durable).
    public mutating func paid(_ id: String, receipt: PaymentReceiptHeader) {
        tasks[id]?.receipt = receipt
    }

    /// The task ends in `state` (completed, failed or canceled).
    public mutating func finish(_ id: String, _ state: State, output: String? = nil) {
        precondition(state.isFinished, "finish with a final state")
        tasks[id]?.state = state
        tasks[id]?.output = output
    }
}
