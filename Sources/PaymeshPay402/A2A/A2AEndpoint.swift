import PaymeshMessages

/// A skill the agent card lists: one service of the gateway, paid with the gateway's requirements.
public struct A2ASkill: Sendable, Hashable {
    public var name: String
    public var description: String
    public var requirements: PaymentRequirements
    public var decimals: UInt8

    public init(name: String, description: String, requirements: PaymentRequirements, decimals: UInt8) {
        self.name = name
        self.description = description
        self.requirements = requirements
        self.decimals = decimals
    }
}

/// The A2A JSON-RPC endpoint of paid skills with the a2a-x402 extension v0.2, standalone flow
/// (Specs/a2a.md), sans-IO: JSON-RPC bodies in, answer bodies or "verify this payment" steps out.
/// The driver verifies and persists a payment exactly as the gateway does (`acceptHTTPPayment`),
/// calls the skill's upstream, and reports back; randomness (task ids) and time are passed in.
public struct A2AEndpoint: Sendable {
    /// The extension's URI (a2a-x402 spec v0.2 §2): declared in the card, activated by the client.
    public static let extensionURI = "https://github.com/google-agentic-commerce/a2a-x402/blob/main/spec/v0.2"
    /// The activation header (extension §8).
    public static let extensionHeader = "X-A2A-Extensions"
    /// Longest request body read (a payment message is ≈ 1.5 KB).
    public static let maxBodyBytes = 256 * 1_024
    /// Longest skill input (the text parts of the first message, joined by newlines).
    public static let maxInputBytes = 64 * 1_024
    /// Longest task id or context id a client may name.
    public static let maxIDBytes = 128

    /// What the driver does next.
    public enum Step: Sendable {
        /// Answer with this JSON body (status 200).
        case reply([UInt8])
        /// Verify and persist the payment, then `onRefused` or `onPaid`, run the skill, `onSkillResult`.
        case pay(PendingPayment)
    }

    /// A task whose payment is being verified (the task is `working` meanwhile).
    public struct PendingPayment: Sendable {
        public let task: A2ATaskBook.Task
        public let proof: ChannelSchemeProof
        let rpcID: JSONRPCID
    }

    public private(set) var book = A2ATaskBook()
    /// Durable tasks the book evicted since the last `takeEvicted` (their records are deleted).
    private var evictedRecords: [String] = []

    public init() {}

    // MARK: Durability (Specs/a2a.md §4)

    /// The durable record of task `id` — only a task with a payment has one (nil otherwise).
    public func record(_ id: String) -> [UInt8]? {
        guard let task = book.task(id), task.proof != nil else { return nil }
        return A2ATaskRecord(task).encoded()
    }

    /// The ids of the durable tasks evicted since the last call: delete their records.
    public mutating func takeEvicted() -> [String] {
        defer { evictedRecords = [] }
        return evictedRecords
    }

    /// At start: the tasks read from their records; returns the ids left out (beyond capacity),
    /// whose records are deleted. Then `interrupted` for each task still `working`.
    public mutating func restore(_ tasks: [A2ATaskBook.Task]) -> [String] {
        book.restore(tasks).map(\.id)
    }

    /// The tasks that were `working` when the node stopped (after `restore`).
    public var interruptedTasks: [A2ATaskBook.Task] { book.all.filter { $0.state == .working } }

    /// A task that was `working` when the node stopped. With the payment's receipt (it was stored,
    /// or the channel holds its voucher) the task ends `failed` with that receipt: the skill is
    /// not run again (it may have acted already) and nothing is paid again. Without one (the
    /// voucher was never stored) it waits for a payment again, refused with 1502.
    public mutating func interrupted(_ id: String, receipt: SettleResponse?) {
        guard let task = book.task(id), task.state == .working else { return }
        if let receipt = receipt ?? task.receipt {
            book.paid(id, receipt: receipt)
            book.finish(id, .failed, output: Self.interruptedReason)
        } else {
            book.paymentRefused(id, Pay402Error(.internalError, "the node restarted before the payment was stored: nothing was paid, pay again"))
        }
    }

    /// Why a paid task that the node's restart interrupted failed (Specs/a2a.md §4).
    public static let interruptedReason = "the node restarted while the skill ran; the payment stands (receipt attached), "
        + "the skill is not run again: send the input in a new task"

    /// One JSON-RPC request. `freshID` is 32 hex digits of the node's randomness (a new task's id);
    /// `extensionActivated`: the request's `X-A2A-Extensions` lists `extensionURI`.
    public mutating func onRequest(_ body: [UInt8], extensionActivated: Bool, skills: [A2ASkill], freshID: String,
                                   now: UInt64) -> Step {
        guard body.count <= Self.maxBodyBytes else {
            return .reply(Self.error(.null, -32600, Pay402Error(.a2aRequestMalformed, "the body is longer than \(Self.maxBodyBytes) bytes")))
        }
        let head: JSONRPCHeadWire
        do { head = try JSONCodec.decode(JSONRPCHeadWire.self, from: body, what: "the request") } catch {
            return .reply(Self.error(.null, -32700, Pay402Error(.a2aRequestMalformed, "the body is not JSON-RPC 2.0")))
        }
        let id = head.id ?? .null
        guard head.jsonrpc == "2.0", let method = head.method else {
            return .reply(Self.error(id, -32600, Pay402Error(.a2aRequestMalformed, "not a JSON-RPC 2.0 request")))
        }
        switch method {
        case "message/send":
            guard extensionActivated else {
                return .reply(Self.error(id, -32600, Pay402Error(.a2aExtensionRequired,
                                                                 "activate the x402 extension: \(Self.extensionHeader): \(Self.extensionURI)")))
            }
            guard let params = try? JSONCodec.decode(SendParamsWire.self, from: body, what: "params") else {
                return .reply(Self.error(id, -32602, Pay402Error(.a2aRequestMalformed, "params must be {message: Message}")))
            }
            return send(params.params.message, id: id, skills: skills, freshID: freshID, now: now)
        case "tasks/get":
            guard let params = try? JSONCodec.decode(GetParamsWire.self, from: body, what: "params") else {
                return .reply(Self.error(id, -32602, Pay402Error(.a2aRequestMalformed, "params must be {id: string}")))
            }
            guard let task = book.task(params.params.id) else {
                return .reply(Self.error(id, -32001, Pay402Error(.a2aTaskNotFound, "no such task")))
            }
            return .reply(Self.result(id, Self.render(task)))
        default:
            return .reply(Self.error(id, -32601, Pay402Error(.a2aRequestMalformed, "method not found")))
        }
    }

    /// The payment was refused (Specs/http402.md §4.3 codes): the task waits for a payment again
    /// and the answer says why (`payment-failed`, the requirements again).
    public mutating func onRefused(_ pending: PendingPayment, _ error: Pay402Error) -> [UInt8] {
        book.paymentRefused(pending.task.id, error)
        return Self.result(pending.rpcID, Self.render(book.task(pending.task.id) ?? pending.task))
    }

    /// The payment is verified and durable: the driver now runs the skill.
    public mutating func onPaid(_ pending: PendingPayment, receipt: PaymentReceiptHeader) {
        book.paid(pending.task.id, receipt: receipt.settleResponse)
    }

    /// The skill's upstream answered `status` with `body` (nil status: it did not answer). 2xx
    /// completes the task with the answer as its artifact; anything else fails it — the payment
    /// stands either way and its receipt is in the answer.
    public mutating func onSkillResult(_ pending: PendingPayment, status: Int?, body: [UInt8]) -> [UInt8] {
        if let status, (200..<300).contains(status) {
            book.finish(pending.task.id, .completed, output: String(decoding: body, as: UTF8.self))
        } else {
            book.finish(pending.task.id, .failed, output: status.map { "the skill's upstream answered \($0)" } ?? "the skill's upstream failed")
        }
        return Self.result(pending.rpcID, Self.render(book.task(pending.task.id) ?? pending.task))
    }

    // MARK: message/send

    private mutating func send(_ message: MessageWire, id: JSONRPCID, skills: [A2ASkill], freshID: String, now: UInt64) -> Step {
        guard let taskID = message.taskId else { return .reply(open(message, id: id, skills: skills, freshID: freshID, now: now)) }
        guard taskID.utf8.count <= Self.maxIDBytes else {
            return .reply(Self.error(id, -32001, Pay402Error(.a2aTaskNotFound, "no such task")))
        }
        if message.metadata?.status == "payment-rejected" {
            do throws(Pay402Error) { _ = try book.beginPayment(taskID, proof: nil) } catch { return .reply(Self.error(id, error)) }
            book.finish(taskID, .canceled, output: "the client rejected the payment requirements")
            return .reply(Self.result(id, Self.render(book.task(taskID)!)))
        }
        guard let payload = message.metadata?.payload else {
            return .reply(Self.error(id, -32602, Pay402Error(.a2aRequestMalformed,
                                                             "a message to a task carries x402.payment.payload (or payment-rejected)")))
        }
        let proof: ChannelSchemeProof
        do throws(Pay402Error) { proof = try payload.proof() } catch {
            guard book.task(taskID)?.state == .inputRequired else {
                return .reply(Self.error(id, book.task(taskID) == nil ? Pay402Error(.a2aTaskNotFound, "no task \(taskID.prefix(64))")
                                                                      : Pay402Error(.a2aTaskNotPayable, "the task is not waiting for a payment")))
            }
            book.paymentRefused(taskID, error)
            return .reply(Self.result(id, Self.render(book.task(taskID)!)))
        }
        let task: A2ATaskBook.Task
        do throws(Pay402Error) { task = try book.beginPayment(taskID, proof: proof) } catch { return .reply(Self.error(id, error)) }
        return .pay(PendingPayment(task: task, proof: proof, rpcID: id))
    }

    /// A new task for the skill the message names: input-required, payment-required.
    private mutating func open(_ message: MessageWire, id: JSONRPCID, skills: [A2ASkill], freshID: String, now: UInt64) -> [UInt8] {
        let wanted = message.metadata?.skill ?? (skills.count == 1 ? skills[0].name : nil)
        guard let wanted, let skill = skills.first(where: { $0.name == wanted }) else {
            return Self.error(id, -32602, Pay402Error(.a2aSkillNotFound, skills.isEmpty ? "this agent sells no skill"
                                                          : "name one skill in metadata paymesh.skill: \(skills.map(\.name).joined(separator: ", "))"))
        }
        let input = message.parts.compactMap { $0.kind == "text" ? $0.text : nil }.joined(separator: "\n")
        guard input.utf8.count <= Self.maxInputBytes else {
            return Self.error(id, -32602, Pay402Error(.a2aRequestMalformed, "the input is longer than \(Self.maxInputBytes) bytes"))
        }
        let context = message.contextId.flatMap { $0.utf8.count <= Self.maxIDBytes && !$0.isEmpty ? $0 : nil } ?? "ctx-" + freshID
        let task = A2ATaskBook.Task(id: freshID, contextID: context, skill: skill.name, requirements: skill.requirements,
                                    input: input, createdAt: now)
        do throws(Pay402Error) {
            if let evicted = try book.open(task, now: now), evicted.proof != nil { evictedRecords.append(evicted.id) }
        } catch { return Self.error(id, -32000, error) }
        return Self.result(id, Self.render(task))
    }

    // MARK: Rendering

    /// The task as A2A `Task` JSON, its status message carrying the extension's metadata (§7).
    static func render(_ task: A2ATaskBook.Task) -> TaskWire {
        let required = PaymentRequiredWire(accepts: [RequirementsV1Wire(task.requirements)], error: (task.refusal ?? .noPayment).description)
        let metadata: PaymentMetadataWire
        let text: String
        var artifacts: [ArtifactWire]?
        switch task.state {
        case .inputRequired:
            if let refusal = task.refusal {
                metadata = PaymentMetadataWire(status: "payment-failed", required: required,
                                               receipts: [.failed(reason: refusal.description, network: task.requirements.network)],
                                               error: x402ErrorCode(refusal), paymeshCode: String(refusal.code.rawValue))
                text = "Payment failed: \(refusal.description). Payment is required."
            } else {
                metadata = PaymentMetadataWire(status: "payment-required", required: required)
                text = "Payment is required: \(task.requirements.amount) atomic units of \(task.requirements.asset) for \(task.skill)."
            }
        case .working:
            metadata = PaymentMetadataWire(status: task.receipt == nil ? "payment-submitted" : "payment-verified")
            text = "Working."
        case .completed, .failed:
            metadata = PaymentMetadataWire(status: "payment-completed", receipts: task.receipt.map { [.settled($0)] })
            if task.state == .completed {
                text = "Payment successful."
                artifacts = [ArtifactWire(artifactId: task.id + "-result", name: "result", parts: [TextPartWire(text: task.output ?? "")])]
            } else {
                text = "Paid, but the skill failed: \(task.output ?? "")."
            }
        case .canceled:
            metadata = PaymentMetadataWire(status: "payment-rejected")
            text = "Canceled: the payment requirements were rejected."
        }
        let message = AgentMessageWire(messageId: "\(task.id)-\(task.state.rawValue)", taskId: task.id, contextId: task.contextID,
                                       parts: [TextPartWire(text: text)], metadata: metadata)
        return TaskWire(id: task.id, contextId: task.contextID, status: StatusWire(state: task.state.rawValue, message: message),
                        artifacts: artifacts)
    }

    /// The extension's error codes (§9.1) for a refusal; INVALID_PAYLOAD for a payload that is not
    /// this payee's channel voucher, SETTLEMENT_FAILED when the node could not store it.
    static func x402ErrorCode(_ error: Pay402Error) -> String {
        switch error.code {
        case .invalidSignature: "INVALID_SIGNATURE"
        case .insufficientFunds: "INSUFFICIENT_FUNDS"
        case .proofReplayed: "DUPLICATE_NONCE"
        case .paymentSchemeMismatch: "NETWORK_MISMATCH"
        case .insufficientPayment: "INVALID_AMOUNT"
        case .internalError, .rateLimited: "SETTLEMENT_FAILED"
        default: "INVALID_PAYLOAD"
        }
    }

    static func result(_ id: JSONRPCID, _ task: TaskWire) -> [UInt8] { JSONCodec.encode(JSONRPCResultWire(id: id, result: task)) }

    /// A JSON-RPC error for a Pay402Error: -32001 task not found, -32602 otherwise (1461–1464).
    static func error(_ id: JSONRPCID, _ error: Pay402Error) -> [UInt8] {
        Self.error(id, error.code == .a2aTaskNotFound ? -32001 : (error.code == .rateLimited ? -32000 : -32602), error)
    }

    static func error(_ id: JSONRPCID, _ code: Int, _ error: Pay402Error) -> [UInt8] {
        JSONCodec.encode(JSONRPCErrorWire(id: id, error: .init(code: code, message: error.description,
                                                                data: .init(paymeshCode: Int(error.code.rawValue), name: error.code.name ?? ""))))
    }

    /// The agent card (Specs/a2a.md §2): one skill per service, the extension declared (required)
    /// with every skill's price in its `params.pricing`.
    public static func agentCard(name: String, description: String, url: String, version: String, skills: [A2ASkill]) -> [UInt8] {
        let prices = skills.map { s in
            PriceWire(skill: s.name, scheme: s.requirements.scheme, network: s.requirements.network, asset: s.requirements.asset,
                      decimals: Int(s.decimals), amount: String(s.requirements.amount),
                      price: Amount(s.requirements.amount).decimalText(decimals: s.decimals), unit: s.requirements.extra.unit,
                      payTo: s.requirements.payTo.description)
        }
        let card = AgentCardWire(
            name: name, description: description, url: url, version: version,
            capabilities: CapabilitiesWire(extensions: [ExtensionWire(
                uri: extensionURI, description: "Skills are paid with x402 in the paymesh-channel scheme (Specs/http402.md §4).",
                required: true, params: ExtensionParamsWire(pricing: prices))]),
            skills: skills.map { SkillWire(id: $0.name, name: $0.name, description: $0.description.isEmpty ? $0.name : $0.description,
                                           tags: ["paymesh", "paid", $0.requirements.extra.unit]) })
        return JSONCodec.encode(card)
    }
}
