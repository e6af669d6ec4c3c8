import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import Testing

/// The channel-announcement exchange (Specs/gossip.md §7.5) as a plain value: whole action lists.
@Suite struct AnnouncementExchangeTests {
    static func key(_ byte: UInt8) -> IdentityKey {
        IdentityKey(privateKey: try! Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: byte, count: 32)))
    }

    let payer = Self.key(1), payee = Self.key(2), stranger = Self.key(3)
    let now: UInt64 = 1_767_225_600_000
    var channel: AnnouncementExchange.LocalChannel {
        .init(id: try! ChannelID([UInt8](repeating: 9, count: 32)), payer: payer.address, payee: payee.address,
              capacity: Amount(500), asset: try! Asset(id: "USDC", decimals: 6))
    }

    func exchange(_ key: IdentityKey) -> AnnouncementExchange {
        AnnouncementExchange(key: key, terms: GossipConfiguration.ForwardingTerms(), windowMillis: 60_000)
    }

    func onlyProposal(_ actions: [AnnouncementExchange.Action]) throws -> ChannelAnnounce {
        guard actions.count == 1, case .send(let a, let to) = actions[0], to == payee.address else {
            Issue.record("expected one proposal to the payee: \(actions)")
            throw CancellationError()
        }
        return a
    }

    @Test func payerProposesPayeeCounterSignsBothPublish() throws {
        var a = exchange(payer), b = exchange(payee)
        let proposal = try onlyProposal(a.sync([channel], now: now))
        #expect(proposal.peerA == min(payer.address, payee.address) && proposal.capacity == Amount(500) && proposal.timestamp == now)
        #expect((try? proposal.verify()) == nil, "the payee's slot is the placeholder")
        #expect(b.sync([channel], now: now).isEmpty, "the payee proposes nothing")

        let answer = b.received(proposal, from: payer.address, now: now + 5)
        guard answer.count == 2, case .send(let complete, let to) = answer[0], case .publish(let published) = answer[1] else {
            Issue.record("\(answer)"); return
        }
        #expect(to == payer.address && complete == published)
        try complete.verify()
        #expect(b.complete[channel.id] == complete && b.counterSigned == 1)

        #expect(a.received(complete, from: payee.address, now: now + 10) == [.publish(complete)])
        #expect(a.received(complete, from: payee.address, now: now + 11) == [], "a repeat changes nothing")
        #expect(a.repropose(now: now + 20) == [], "complete: no new proposal")
        // A second proposal of an already complete channel is answered with the complete one.
        #expect(b.received(proposal, from: payer.address, now: now + 30) == [.send(complete, to: payer.address)])
        // The channel closes: a disabled update is due once.
        #expect(a.sync([], now: now + 40) == [.withdrawn(channel.id)])
        #expect(a.sync([], now: now + 41) == [])
    }

    @Test func refusals() throws {
        var a = exchange(payer), b = exchange(payee)
        let proposal = try onlyProposal(a.sync([channel], now: now))
        // Unknown channel on the payee.
        guard case .refused = b.received(proposal, from: payer.address, now: now).first else { Issue.record("unknown channel signed"); return }
        _ = b.sync([channel], now: now)
        // From a peer that is not the channel's other end.
        guard case .refused = b.received(proposal, from: stranger.address, now: now).first else { Issue.record("stranger accepted"); return }
        // Other terms.
        var inflated = proposal
        inflated.capacity = Amount(5_000)
        guard case .refused = b.received(inflated, from: payer.address, now: now).first else { Issue.record("capacity not checked"); return }
        // A proposal outside the window.
        guard case .refused = b.received(proposal, from: payer.address, now: now + 60_001).first else { Issue.record("stale accepted"); return }
        #expect(b.refusedCount == 4 && b.complete.isEmpty)
        // Re-proposed when the payee comes back, with a fresh timestamp.
        let again = try onlyProposal(a.repropose(to: payee.address, now: now + 70_000))
        #expect(again.timestamp == now + 70_000)
        #expect(b.received(again, from: payer.address, now: now + 70_000).count == 2)
    }
}
