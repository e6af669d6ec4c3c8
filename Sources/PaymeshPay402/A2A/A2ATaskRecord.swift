public import PaymeshCrypto

/// The durable record of an A2A task that carries a payment (Specs/a2a.md §4): UTF-8 JSON,
/// `{v:1, id, contextId, skill, requirements (x402 v1 requirements), input, createdAt (unix ms,
/// decimal string), state, payment (the payload as an X-PAYMENT value), receipt (SettleResponse,
/// http402.md §4.4), output, refusal}`. A record that does not decode is a typed error.
struct A2ATaskRecord: Codable {
    /// Longest record read back: the input, the skill's answer (the gateway's upstream limit) and
    /// the rest.
    static let maxBytes = A2AEndpoint.maxInputBytes + 16 * 1_024 * 1_024 + 64 * 1_024

    var v: Int
    var id: String
    var contextId: String
    var skill: String
    var requirements: RequirementsV1Wire
    var input: String
    var createdAt: String
    var state: String
    var payment: String?
    var receipt: SettleResponse?
    var output: String?

    init(_ task: A2ATaskBook.Task) {
        v = 1
        id = task.id
        contextId = task.contextID
        skill = task.skill
        requirements = RequirementsV1Wire(task.requirements)
        input = task.input
        createdAt = String(task.createdAt)
        state = task.state.rawValue
        payment = task.proof.map { JSONCodec.header(ProofV1Wire(x402Version: 1, scheme: $0.scheme, network: $0.network,
                                                                payload: ChannelPayloadWire($0.voucher))) }
        receipt = task.receipt
        output = task.output
    }

    func encoded() -> [UInt8] { JSONCodec.encode(self) }

    /// The task of a record; 1000 MALFORMED naming what is wrong.
    static func decode(_ bytes: [UInt8]) throws(Pay402Error) -> A2ATaskBook.Task {
        guard bytes.count <= maxBytes else { throw .malformed("the task record is longer than \(maxBytes) bytes") }
        let r = try JSONCodec.decode(A2ATaskRecord.self, from: bytes, what: "the task record")
        guard r.v == 1 else { throw .malformed("task record version \(r.v) is not 1") }
        guard r.id.utf8.count == 32, r.id.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw .malformed("the task id is not 32 hex digits")
        }
        guard let state = A2ATaskBook.State(rawValue: r.state), let createdAt = UInt64(r.createdAt),
              let amount = UInt128(r.requirements.maxAmountRequired), let payTo = EthereumAddress(r.requirements.payTo),
              r.input.utf8.count <= A2AEndpoint.maxInputBytes, r.contextId.utf8.count <= A2AEndpoint.maxIDBytes + 4 else {
            throw .malformed("the task record of \(r.id) has a bad state, time, amount, payee, input or context")
        }
        let requirements = PaymentRequirements(scheme: r.requirements.scheme, network: r.requirements.network, amount: amount,
                                               asset: r.requirements.asset, payTo: payTo, resource: r.requirements.resource,
                                               description: r.requirements.description, mimeType: r.requirements.mimeType,
                                               maxTimeoutSeconds: r.requirements.maxTimeoutSeconds, extra: r.requirements.extra)
        var task = A2ATaskBook.Task(id: r.id, contextID: r.contextId, skill: r.skill, requirements: requirements, input: r.input,
                                    createdAt: createdAt)
        task.state = state
        task.proof = try r.payment.map { value throws(Pay402Error) in try ChannelSchemeProof(xPayment: value) }
        guard task.proof != nil else { throw .malformed("the task record of \(r.id) names no payment") }
        task.receipt = r.receipt
        task.output = r.output
        return task
    }
}

extension A2AEndpoint {
    /// The task of a durable record (`record(_:)`'s bytes); 1000 MALFORMED when it does not decode.
    public static func task(fromRecord bytes: [UInt8]) throws(Pay402Error) -> A2ATaskBook.Task {
        try A2ATaskRecord.decode(bytes)
    }
}

extension A2AEndpoint {
    /// Longest durable task record read back at start.
    public static var maxRecordBytes: Int { A2ATaskRecord.maxBytes }
}
