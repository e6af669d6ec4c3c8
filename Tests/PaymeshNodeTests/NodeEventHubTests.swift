@testable import PaymeshNode
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import Testing

/// The typed event hub: bounded per subscriber, overflow counted and reported to the consumer,
/// subscriptions that end leave the hub; and the spending policy's stored form.
@Suite struct NodeEventHubTests {
    static func status(_ i: Int) -> NodeEvent { .discoveryStatus(.off("event \(i)")) }

    @Test func aSubscriberGetsEveryEventInOrderWhileItKeepsUp() async {
        let hub = NodeEventHub()
        #expect(!hub.hasSubscribers)
        let subscription = hub.subscribe(limit: 4)
        #expect(hub.hasSubscribers && hub.subscriberCount == 1)
        for i in 0..<4 { hub.publish(Self.status(i)) }
        var it = subscription.makeAsyncIterator()
        for i in 0..<4 { #expect(await it.next() == .event(Self.status(i))) }
        #expect(subscription.dropped == 0 && hub.droppedTotal == 0)
    }

    @Test func overflowDropsTheOldestCountsThemAndTellsTheConsumer() async {
        let hub = NodeEventHub()
        let slow = hub.subscribe(limit: 3), fast = hub.subscribe(limit: 100)
        for i in 0..<10 { hub.publish(Self.status(i)) }
        #expect(slow.pendingCount == 3 && slow.dropped == 7)
        #expect(fast.pendingCount == 10 && fast.dropped == 0, "one slow subscriber costs the others nothing")
        #expect(hub.droppedTotal == 7)
        var it = slow.makeAsyncIterator()
        #expect(await it.next() == .dropped(7))
        for i in 7..<10 { #expect(await it.next() == .event(Self.status(i))) }
        hub.publish(Self.status(10))
        #expect(await it.next() == .event(Self.status(10)), "the notice is given once")
        slow.cancel()
        #expect(hub.subscriberCount == 1 && hub.droppedTotal == 7, "an ended subscription's drops stay counted")
    }

    @Test func finishEndsSubscribersAfterWhatIsQueued() async {
        let hub = NodeEventHub()
        let subscription = hub.subscribe()
        hub.publish(Self.status(1))
        hub.finish()
        var it = subscription.makeAsyncIterator()
        #expect(await it.next() == .event(Self.status(1)))
        #expect(await it.next() == nil)
        hub.publish(Self.status(2))
        #expect(hub.subscriberCount == 0)
        var late = hub.subscribe().makeAsyncIterator()
        #expect(await late.next() == nil, "subscribing after the end gives an ended subscription")
    }

    @Test func aWaitingConsumerIsResumedByThePublisherOrByCancellation() async {
        let hub = NodeEventHub()
        let subscription = hub.subscribe()
        let consumer = Task { () -> NodeEventSubscription.Delivery? in
            var it = subscription.makeAsyncIterator()
            return await it.next()
        }
        hub.publish(Self.status(0)) // handed over directly if it waits already, else queued
        #expect(await consumer.value == .event(Self.status(0)))

        let other = hub.subscribe()
        #expect(hub.subscriberCount == 2)
        let cancelled = Task { () -> NodeEventSubscription.Delivery? in
            var it = other.makeAsyncIterator()
            return await it.next()
        }
        cancelled.cancel()
        #expect(await cancelled.value == nil)
        #expect(hub.subscriberCount == 1, "the cancelled subscription left the hub")
    }

    // MARK: The spending policy in the store's metadata

    /// Written by nodes before issue 8 (the console's JSON encoder: every key, sorted, nulls kept).
    static let denied = EthereumAddress(string: "0x" + String(repeating: "ab", count: 20))!
    static let storedBeforeIssue8 = #"{"allow":null,"deny":["\#(denied.description)"],"max_payments_per_minute":60,"max_per_payment":"1000","max_total":null,"max_total_per_peer":"340282366920938463463374607431768211455"}"#

    @Test func thePolicyStoredBeforeIssue8StillLoads() throws {
        let p = try PolicyRecord.decode(Array(Self.storedBeforeIssue8.utf8))
        #expect(p.maxPerPayment == 1000 && p.maxTotal == nil && p.maxTotalPerPeer == UInt128.max)
        #expect(p.maxPaymentsPerMinute == 60 && p.allowList == nil && p.denyList == [Self.denied])
    }

    @Test func aPolicyRoundTripsAndBadOnesAreRefused() throws {
        let someone = EthereumAddress(string: "0x" + String(repeating: "12", count: 20))!
        let p = SpendingPolicy(maxPerPayment: 5, maxTotalPerPeer: nil, maxTotal: UInt128.max, maxPaymentsPerMinute: 0,
                               allowList: [someone], denyList: [])
        #expect(try PolicyRecord.decode(try PolicyRecord.encode(p)) == p)
        #expect(try PolicyRecord.decode(try PolicyRecord.encode(.unlimited)) == .unlimited)
        for bad in [#"{"max_total":"-1"}"#, #"{"max_total":"1.5"}"#, #"{"allow":["me"]}"#, #"{"max_payments_per_minute":-1}"#, "[]", "{",
                    #"{"auto_open":{"USDC":{"deposit":"0"}}}"#, #"{"auto_open":{"USDC":{"deposit":"x"}}}"#, #"{"auto_open":{"USDC":{}}}"#,
                    #"{"auto_open":{"USDC":{"deposit":"5","max_total":"-2"}}}"#, #"{"auto_open":["USDC"]}"#] {
            #expect(throws: (any Error).self) { try PolicyRecord.decode(Array(bad.utf8)) }
        }
    }

    /// `auto_open` (Specs/channels.md §9.1) is kept with the policy; a record without it opens nothing.
    @Test func autoOpenTermsRoundTrip() throws {
        var p = SpendingPolicy(maxPerPayment: 5)
        p.autoOpen = ["USDC": AutoOpenTerms(deposit: 10_000, maxPerPeer: 20_000), "EURC": AutoOpenTerms(deposit: 1, maxTotal: UInt128.max)]
        #expect(try PolicyRecord.decode(try PolicyRecord.encode(p)) == p)
        #expect(try PolicyRecord.decode(Array(Self.storedBeforeIssue8.utf8)).autoOpen.isEmpty)
    }
}
