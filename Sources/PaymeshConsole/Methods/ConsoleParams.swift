import PaymeshCrypto
import PaymeshNode

/// Parameter parsing and value formatting shared by the method groups.
enum ConsoleParams {
    /// Parses a peer id parameter (EIP-55 or all-lowercase hex address).
    static func peerID(_ call: ConsoleCall, _ name: String = "id") throws(NodeError) -> EthereumAddress {
        let text = try call.requireString(name)
        guard let id = EthereumAddress(string: text) else { throw .invalidParams("\(name) is not a peer id (0x + 40 hex digits): \(text)") }
        return id
    }

    /// A duration in milliseconds with three decimals, or null.
    static func milliseconds(_ d: Duration?) -> JSONValue {
        guard let d else { return .null }
        return .double((d.milliseconds * 1000).rounded() / 1000)
    }
}
