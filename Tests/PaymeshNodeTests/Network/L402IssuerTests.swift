import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshPay402
import PaymeshRouting
import PaymeshTestSupport
import Testing

/// L402 on the gateway node (Specs/http402.md §10.1) on the in-memory network with gossip and the
/// manual clock: node 1 sells `search`; node 0 pays the L402 challenge's invoice over a route it
/// found itself and gets in with the preimage; the token is reused until its `valid_until`;
/// forged, wrong-service and wrong-preimage credentials are refused with their codes; a client that
/// asks again and again gets the same challenge (no new invoice) until it is paid or 30 s pass.
@Suite struct L402IssuerTests {
    static let search = SoldService(name: "search", upstream: "http://127.0.0.1:9/s", price: 40, unit: .call,
                                    asset: TestNetwork.usdc, description: "search")

    @Test func paidTokenIsReusableUntilExpiryAndBadCredentialsAreRefused() async throws {
        try await withTestNetwork(2, configure: RoutedPaymentsTests.configure()) { net in
            _ = try await RoutedPaymentsTests.mesh(net, [(0, 1)])
            let issuer = L402Issuer(routed: try RoutedPaymentsTests.routed(net[1]), payments: net[1].payments)
            let payer = try RoutedPaymentsTests.routed(net[0])

            // A GET loop: one invoice, the same challenge each time.
            let challenge = try await issuer.challenge(for: Self.search)
            #expect(try await issuer.challenge(for: Self.search) == challenge)
            #expect(try await net[1].payments.invoiceRecords().count == 1)
            let identifier = try L402Identifier(bytes: challenge.macaroon.identifier)
            #expect(challenge.macaroon.caveats.compactMap(\.predicate).map { $0.split(separator: "=").first.map(String.init) }
                == ["services", "search_valid_until"])

            // Paid over a route: the preimage lets the holder in.
            let paid = try await payer.pay(invoice: challenge.invoice)
            guard case .succeeded(let preimage) = paid.status else {
                Issue.record("the invoice was not paid: \(paid.status)")
                return
            }
            #expect(SHA256.hash(preimage.bytes) == identifier.paymentHash)
            let credential = L402Credential(macaroon: challenge.macaroon, preimage: preimage.bytes)
            #expect(try await issuer.authorize(credential, service: "search") == identifier)
            // Reused: still good 59 minutes later, without a new payment.
            net.advance(by: .seconds(59 * 60))
            #expect(try await issuer.authorize(credential, service: "search") == identifier)

            // Refusals, each with its code.
            func refused(_ c: L402Credential, _ service: String = "search") async -> PaymeshErrorCode? {
                do throws(Pay402Error) { _ = try await issuer.authorize(c, service: service); return nil } catch { return error.code }
            }
            #expect(await refused(credential, "other") == .serviceNotAuthorized)
            #expect(await refused(L402Credential(macaroon: challenge.macaroon, preimage: [UInt8](repeating: 7, count: 32))) == .invalidProof)
            let forged = L402Challenge.mint(rootKey: [UInt8](repeating: 1, count: 32), paymentHash: identifier.paymentHash,
                                            tokenID: identifier.tokenID, service: "search", validUntil: UInt64.max / 2, invoice: "x")
            #expect(await refused(L402Credential(macaroon: forged.macaroon, preimage: preimage.bytes)) == .invalidProof)
            var widened = challenge.macaroon
            widened.addFirstPartyCaveat("services=other:0")
            #expect(await refused(L402Credential(macaroon: widened, preimage: preimage.bytes), "other") == .serviceNotAuthorized)

            // The offer was paid: the next unpaid request gets a new invoice.
            let next = try await issuer.challenge(for: Self.search)
            #expect(next.invoice != challenge.invoice)

            // Expired: past valid_until (one hour after it was minted).
            net.advance(by: .seconds(60 + 1))
            #expect(await refused(credential) == .tokenExpired)
        }
    }

    /// A service that declares capabilities (§10.1): the minted macaroon carries
    /// `search_capabilities=GET,HEAD` between `services=` and `valid_until`; the paid token then
    /// serves those methods only (1325 for another).
    @Test func declaredCapabilitiesAreMintedIntoTheToken() async throws {
        try await withTestNetwork(2, configure: RoutedPaymentsTests.configure()) { net in
            _ = try await RoutedPaymentsTests.mesh(net, [(0, 1)])
            let issuer = L402Issuer(routed: try RoutedPaymentsTests.routed(net[1]), payments: net[1].payments)
            var search = Self.search
            search.capabilities = ["GET", "HEAD"]
            let challenge = try await issuer.challenge(for: search)
            #expect(challenge.macaroon.caveats.compactMap(\.predicate).map { $0.split(separator: "=").first.map(String.init) }
                == ["services", "search_capabilities", "search_valid_until"])
            #expect(challenge.macaroon.caveats.compactMap(\.predicate).contains("search_capabilities=GET,HEAD"))
            let paid = try await RoutedPaymentsTests.routed(net[0]).pay(invoice: challenge.invoice)
            guard case .succeeded(let preimage) = paid.status else {
                Issue.record("the invoice was not paid: \(paid.status)")
                return
            }
            let credential = L402Credential(macaroon: challenge.macaroon, preimage: preimage.bytes)
            _ = try await issuer.authorize(credential, service: "search", capability: "GET")
            _ = try await issuer.authorize(credential, service: "search", capability: "HEAD")
            for method in ["POST", "DELETE", "get"] {
                do throws(Pay402Error) {
                    _ = try await issuer.authorize(credential, service: "search", capability: method)
                    Issue.record("a \(method) was authorized")
                } catch { #expect(error.code == .serviceNotAuthorized, "\(method)") }
            }
        }
    }

    /// Specs/vectors/a2a.json `root_keys`: the root key derived from the identity secret (§10.1),
    /// computed by Python's hmac.
    @Test func rootKeyVectors() throws {
        struct File: Decodable {
            struct RootKey: Decodable { let identity_secret: String, root_key: String }
            let root_keys: [RootKey]
        }
        for v in try TestVectors.load(File.self, spec: "a2a.json").root_keys {
            let key = IdentityKey(privateKey: try .init(rawRepresentation: try #require([UInt8](hex: v.identity_secret))))
            #expect(L402Issuer.rootKey(of: key).hexString == v.root_key)
        }
    }

    @Test func unpaidOfferIsReplacedAfterTheReuseWindow() async throws {
        try await withTestNetwork(2, configure: RoutedPaymentsTests.configure()) { net in
            let issuer = L402Issuer(routed: try RoutedPaymentsTests.routed(net[1]), payments: net[1].payments)
            let first = try await issuer.challenge(for: Self.search)
            net.advance(by: .seconds(29))
            #expect(try await issuer.challenge(for: Self.search) == first)
            net.advance(by: .seconds(1))
            #expect(try await issuer.challenge(for: Self.search) != first)
            #expect(try await net[1].payments.invoiceRecords().count == 2)
            // Concurrent unpaid requests share one mint.
            net.advance(by: .seconds(30))
            let many = try await withThrowingTaskGroup(of: L402Challenge.self) { group in
                for _ in 0..<20 { group.addTask { try await issuer.challenge(for: Self.search) } }
                return try await group.reduce(into: Set<L402Challenge>()) { _ = $0.insert($1) }
            }
            #expect(many.count == 1)
            #expect(try await net[1].payments.invoiceRecords().count == 3)
        }
    }
}
