import PaymeshDaemon
import PaymeshNode
import Testing

@Suite struct NodeOptionsTests {
    @Test func flagsBeatEnvironmentWhichBeatsTheFile() throws {
        let file = try NodeOptions.parseConfigFile(Array(#"{"data-dir":"/f","listen":"0.0.0.0:1","log-level":"debug","peers":["a:1"],"no-mdns":true}"#.utf8), path: "c.json")
        let env = NodeOptions.environment(["PAYMESH_LISTEN": "127.0.0.1:2", "PAYMESH_PEERS": "b:2, c:3,", "PAYMESH_DATA_DIR": ""])
        let flags = NodeOptions(listen: "127.0.0.1:3")
        let merged = file.overridden(by: env).overridden(by: flags)
        #expect(merged == NodeOptions(dataDir: "/f", listen: "127.0.0.1:3", logLevel: "debug", peers: ["b:2", "c:3"], noMdns: true))
        let config = try merged.nodeConfiguration()
        #expect(config.dataDirectory == "/f" && config.listen == PeerEndpoint(host: "127.0.0.1", port: 3) && !config.mdns)
        #expect(config.staticPeers == [PeerEndpoint(host: "b", port: 2), PeerEndpoint(host: "c", port: 3)])
        #expect(config.consoleSocketPath == "/f/console.sock")
    }

    @Test func defaults() throws {
        let config = try NodeOptions().nodeConfiguration()
        #expect(config.listen == PeerEndpoint(host: "127.0.0.1", port: 0))
        #expect(config.dataDirectory.hasSuffix("/.paymesh") && !config.dataDirectory.hasPrefix("~"))
        #expect(config.mdns)
        #expect(try NodeOptions().resolvedLogLevel == .info)
    }

    @Test(arguments: [#"{"listen": 5}"#, #"{"bogus": 1}"#, #"[1]"#, #"{"peers": "a:1"}"#, #"{"no-mdns": "yes"}"#, "{"])
    func badConfigFilesAreRejected(text: String) {
        #expect(throws: NodeError.self) { try NodeOptions.parseConfigFile(Array(text.utf8), path: "c.json") }
    }

    @Test func forwardingFeesAndHTLCExpiryComeFromFlagsEnvironmentOrFile() throws {
        let file = try NodeOptions.parseConfigFile(Array(#"{"fee-base": 2, "fee-ppm": "10000", "htlc-expiry-delta": 3}"#.utf8), path: "c.json")
        let config = try file.nodeConfiguration()
        #expect(config.payments.htlcPolicy.feeBase == 2 && config.payments.htlcPolicy.feePPM == 10_000)
        #expect(config.gossip?.channelTerms.feeBase.atomicUnits == 2 && config.gossip?.channelTerms.feePPM == 10_000)
        #expect(config.payments.htlcPolicy.expiryDeltaMillis == 3_000 && config.payments.htlcPolicy.minFinalExpiryMillis == 3_000)
        #expect(config.gossip?.channelTerms.expiryDeltaMillis == 3_000 && config.routing.minFinalExpiryMillis == 6_000)
        let env = NodeOptions.environment(["PAYMESH_FEE_BASE": "7", "PAYMESH_HTLC_EXPIRY_DELTA": "60"])
        let merged = try file.overridden(by: env).nodeConfiguration()
        #expect(merged.payments.htlcPolicy.feeBase == 7 && merged.payments.htlcPolicy.feePPM == 10_000 && merged.routing.minFinalExpiryMillis == 120_000)
        // Defaults untouched without the options.
        #expect(try NodeOptions().nodeConfiguration().payments.htlcPolicy == HTLCPolicy())
        for bad in [#"{"fee-base": "-1"}"#, #"{"fee-ppm": 1000001}"#, #"{"htlc-expiry-delta": 0}"#, #"{"htlc-expiry-delta": "86401"}"#, #"{"fee-base": "x"}"#] {
            #expect(throws: NodeError.self, "\(bad)") { try NodeOptions.parseConfigFile(Array(bad.utf8), path: "c.json").nodeConfiguration() }
        }
    }

    @Test func theDiscoveryAllowlistComesFromFlagsEnvironmentOrFile() throws {
        let a = "0x00000000000000000000000000000000000000aa", b = "0x00000000000000000000000000000000000000Bb"
        let file = try NodeOptions.parseConfigFile(Array(#"{"discover-allow":["\#(a)"]}"#.utf8), path: "c.json")
        #expect(try file.nodeConfiguration().discoverAllow == [address(0xaa)])
        let env = NodeOptions.environment(["PAYMESH_DISCOVER_ALLOW": "\(a), \(b),"])
        #expect(env.discoverAllow == [a, b])
        #expect(try file.overridden(by: env).nodeConfiguration().discoverAllow == [address(0xaa), address(0xbb)], "any letter case")
        // Repeated flags, each possibly a comma list.
        #expect(try NodeOptions(discoverAllow: ["\(a),\(b)", a]).nodeConfiguration().discoverAllow == [address(0xaa), address(0xbb)])
        #expect(try NodeOptions().nodeConfiguration().discoverAllow == nil, "without the option every peer may be dialled")
        #expect(throws: NodeError.self) { try NodeOptions(discoverAllow: ["0x1234"]).nodeConfiguration() }
        #expect(throws: NodeError.self) { try NodeOptions.parseConfigFile(Array(#"{"discover-allow":"0xaa"}"#.utf8), path: "c.json") }
    }

    @Test func addressesAreParsed() throws {
        #expect(PeerEndpoint("[::1]:9735") == PeerEndpoint(host: "::1", port: 9735))
        #expect(PeerEndpoint("[::1]:9735")?.description == "[::1]:9735")
        #expect(PeerEndpoint("node.local:1") == PeerEndpoint(host: "node.local", port: 1))
        for bad in ["nohost", ":1", "h:", "h:70000", "h:-1", "::1:5", "[::1]5", "h:1a"] {
            #expect(PeerEndpoint(bad) == nil, "\(bad)")
        }
        #expect(throws: NodeError.self) { try NodeOptions(peers: ["h:0"]).nodeConfiguration() }
        #expect(throws: NodeError.self) { try NodeOptions(logLevel: "loud").resolvedLogLevel }
    }
}
