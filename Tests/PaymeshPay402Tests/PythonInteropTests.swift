import Foundation
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshPay402
import PaymeshTestSupport
import Testing

/// Independent clients read what the Swift code builds (Specs/http402.md §9): pymacaroons verifies
/// the Swift-minted L402 macaroon with the root key and caveats, and the x402 SDK (PyPI `x402`)
/// parses the v1 body, the v2 header, the proof headers and the receipt
/// (scripts/http402/check_swift_outputs.py). Needs python3 with `x402` and `pymacaroons`
/// (scripts/lib/deps.sh installs them); without them this test FAILS, it does not skip.
@Suite struct PythonInteropTests {
    @Test func pythonPackagesReadTheSwiftOutputs() async throws {
        let requirements = Fixture.requirements()
        let l402 = Fixture.l402(capabilities: ["query", "stream"])
        let challenge = PaymentChallenge(requirements: [requirements], l402: l402)
        let voucher = Fixture.voucher(nonce: 5, amount: 1_250, taskID: "req-1")
        let xPayment = ChannelSchemeProof.xPayment(voucher, paying: requirements)
        guard case .channel(let proof)? = try PaymentProof.parse(headers: [xPayment]) else {
            Issue.record("no proof"); return
        }
        let accepted = try PaymentVerifier.verify(proof, requirements: requirements, channel: Fixture.channel())
        let outputs: [String: Any] = [
            "root_key": Fixture.rootKey.hexString,
            "l402": [
                "identifier": l402.macaroon.identifier.hexString, "caveats": l402.macaroon.caveats.compactMap(\.predicate),
                "signature": l402.macaroon.signature.hexString, "base64url": l402.macaroon.base64URL,
                "preimage": Fixture.preimage.hexString, "service": "search", "now": Fixture.now,
                "valid_until": Fixture.now + 3_600,
            ] as [String: Any],
            "www_authenticate": l402.headerValue,
            "authorization": L402Credential(macaroon: l402.macaroon, preimage: Fixture.preimage).authorizationValue,
            "body": String(decoding: challenge.body, as: UTF8.self),
            "payment_required": challenge.paymentRequiredHeader,
            "requirements": [
                "network": requirements.network, "amount": String(requirements.amount), "payTo": requirements.payTo.description,
                "asset": requirements.asset, "decimals": 6, "chainId": "84532", "resource": requirements.resource,
            ] as [String: Any],
            "x_payment": xPayment.value,
            "payment_signature": ChannelSchemeProof.paymentSignature(voucher, paying: requirements).value,
            "voucher": ["nonce": "5", "signature": "0x" + voucher.signature.bytes.hexString,
                        "payer": Fixture.payerKey.address.description, "increment": "250"],
            "payment_response": PaymentReceiptHeader(accepted: accepted).value,
        ]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("paymesh-http402-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: outputs).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }

        let run = try await runPythonScript("scripts/http402/check_swift_outputs.py", [file.path])
        let stdout = run.stdout, stderr = run.stderr
        #expect(run.status == 0, "python exited \(run.status)\n\(stdout)\n\(stderr)")
        #expect(stdout.contains("http402 python checks:"), "\(stdout)\n\(stderr)")
        print(stdout.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
