/// The A2A tasks of paid skills (Specs/a2a.md §4), sans-IO and bounded: at most `capacity` tasks;
/// a new task evicts the oldest task that carries no money (unpaid or canceled), else the oldest
/// paid and finished one (so a client creating tasks in a loop cannot lock others out, nor flush
/// the results others paid for); only when every slot holds a task whose payment is being verified
/// or whose skill runs is the new one refused (1504). A task with a payment (`proof` set) is
/// durable: the driver writes its record (`A2ATaskRecord`) before it answers for it and deletes
/// the record of a task `open` evicts; at start `restore` takes the records back.
public struct A2ATaskBook: Sendable {
    public static let capacity = 1_024

    /// A2A `TaskState` values this node uses.
    public enum State: String, Sendable, Hashable {
        case inputRequired = "input-required"
        case working
        case completed
        case failed
        case canceled

        public var isFinished: Bool { self == .completed || self == .failed || self == .canceled }
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
        /// The payment being verified or accepted (set when a payload arrives; cleared when it is
        /// refused): a task with one is durable.
        public var proof: ChannelSchemeProof?
        /// The receipt of the accepted payment, once there is one.
        public var receipt: SettleResponse?
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

    /// Every task, oldest first.
    public var all: [Task] { order.compactMap { tasks[$0] } }

    /// Adds a task awaiting payment; throws 1504 when the table holds `capacity` live tasks.
    /// Returns the task it evicted to make room, if any (the driver deletes its durable record).
    @discardableResult
    public mutating func open(_ task: Task, now: UInt64) throws(Pay402Error) -> Task? {
        precondition(tasks[task.id] == nil, "task ids are fresh random values")
        var evicted: Task?
        if tasks.count >= Self.capacity {
            let victim = order.firstIndex { tasks[$0].map { $0.proof == nil && ($0.state == .inputRequired || $0.state == .canceled) } ?? true }
                ?? order.firstIndex { tasks[$0]?.state.isFinished ?? true }
            guard let victim else { throw Pay402Error(.rateLimited, "\(Self.capacity) tasks are in progress; retry later") }
            evicted = tasks.removeValue(forKey: order.remove(at: victim))
        }
        tasks[task.id] = task
        order.append(task.id)
        return evicted
    }

    /// Takes back a durable task at start (`tasks` in any order; kept oldest first). Beyond
    /// `capacity` the oldest finished ones are left out and returned (the driver deletes them).
    public mutating func restore(_ restored: [Task]) -> [Task] {
        var dropped: [Task] = []
        for task in restored.sorted(by: { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }) where tasks[task.id] == nil {
            tasks[task.id] = task
            order.append(task.id)
        }
        while tasks.count > Self.capacity, let victim = order.firstIndex(where: { tasks[$0]?.state.isFinished ?? true }) {
            if let task = tasks.removeValue(forKey: order.remove(at: victim)) { dropped.append(task) }
        }
        return dropped
    }

    /// A payment arrived for task `id`: it must be waiting for one (1460 not found, 1461 not
    /// waiting); it moves to `working` with the proof so that a second payload for it is refused
    /// while the first is verified, and so that its record names the voucher (Specs/a2a.md §4).
    public mutating func beginPayment(_ id: String, proof: ChannelSchemeProof?) throws(Pay402Error) -> Task {
        guard var task = tasks[id] else { throw Pay402Error(.a2aTaskNotFound, "no task \(id.prefix(64))") }
        guard task.state == .inputRequired else {
            throw Pay402Error(.a2aTaskNotPayable, "the task is \(task.state.rawValue), not waiting for a payment")
        }
        task.state = .working
        task.proof = proof
        tasks[id] = task
        return task
    }

    /// The payment was refused (or, after a restart, found not stored): the task waits for a
    /// payment again and carries no money.
    public mutating func paymentRefused(_ id: String, _ error: Pay402Error) {
        tasks[id]?.state = .inputRequired
        tasks[id]?.refusal = error
        tasks[id]?.proof = nil
    }

    /// The payment was accepted (and is durable).
    public mutating func paid(_ id: String, receipt: SettleResponse) {
        tasks[id]?.receipt = receipt
    }

    /// The task ends in `state` (completed, failed or canceled).
    public mutating func finish(_ id: String, _ state: State, output: String? = nil) {
        precondition(state.isFinished, "finish with a final state")
        tasks[id]?.state = state
        tasks[id]?.output = output
    }
}
