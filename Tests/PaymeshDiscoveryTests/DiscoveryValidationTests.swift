import Testing
@testable import PaymeshDiscovery

@Suite struct DiscoveryValidationTests {
    static let id = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

    @Test func validConfigurationPublishesIDAndVersion() throws {
        let discovery = try Discovery(instanceName: "node", port: 9735, peerID: Self.id, txt: ["Role": "hub"])
        #expect(discovery.serviceType == "_paymesh._tcp")
        #expect(discovery.txt == ["id": Self.id, "v": "paymesh/1", "role": "hub"])
        #expect(discovery.currentPeers.isEmpty)
        #expect(discovery.publishedInstanceName == nil)
    }

    @Test func rejectsBadInstanceNames() {
        #expect(throws: (any Error).self) { try Discovery(instanceName: "", port: 1, peerID: Self.id) }
        #expect(throws: (any Error).self) {
            try Discovery(instanceName: String(repeating: "n", count: 64), port: 1, peerID: Self.id)
        }
        #expect(throws: (any Error).self) { try Discovery(instanceName: "a\u{0}b", port: 1, peerID: Self.id) }
        #expect(throws: Never.self) { try Discovery(instanceName: String(repeating: "n", count: 63), port: 1, peerID: Self.id) }
    }

    @Test func rejectsBadServiceTypesPeerIDsAndTXT() {
        for type in ["_paymesh", "paymesh._tcp", "_paymesh._sctp", "_._tcp", "_seventeen-letter._tcp", "_a b._tcp", "_paymesh._tcp.local"] {
            #expect(throws: DiscoveryError.invalidServiceType(type)) {
                try Discovery(serviceType: type, instanceName: "n", port: 1, peerID: Self.id)
            }
        }
        #expect(Discovery.isValidServiceType("_paymesh-test._udp"))
        #expect(throws: DiscoveryError.invalidPeerID("0x12")) { try Discovery(instanceName: "n", port: 1, peerID: "0x12") }
        #expect(throws: DiscoveryError.invalidTXTKey("a=b")) {
            try Discovery(instanceName: "n", port: 1, peerID: Self.id, txt: ["a=b": "c"])
        }
    }

    @Test func errorDescriptionsAreReadable() {
        #expect("\(DiscoveryError.invalidPeerID("x"))".contains("40 hex digits"))
        #expect("\(DiscoveryError.txtTooLong(2000))".contains("1300"))
    }
}
