import PaymeshMessages
@testable import PaymeshNode
import Testing

/// The per-channel presentation turns of the fetcher (Specs/http402.md §11.5), as plain bookkeeping.
@Suite struct ChannelTurnsTests {
    let a = try! ChannelID(hex: String(repeating: "aa", count: 32))
    let b = try! ChannelID(hex: String(repeating: "bb", count: 32))

    @Test func turnsGoInArrivalOrderPerChannel() {
        var turns = ChannelTurns(capacity: 8)
        #expect(turns.take(a) == .granted(0))
        #expect(turns.take(a) == .wait(1))
        #expect(turns.take(b) == .granted(2), "another channel has its own turn")
        #expect(turns.take(a) == .wait(3))
        #expect(turns.end(a, 0) == 1, "the holder passes to the first waiter")
        #expect(turns.holds(a, 1) && !turns.holds(a, 3))
        #expect(turns.end(a, 0) == nil, "passing twice changes nothing")
        #expect(turns.end(a, 1) == 3)
        #expect(turns.end(a, 3) == nil && turns.end(b, 2) == nil)
        #expect(turns.isEmpty)
        #expect(turns.take(a) == .granted(4), "a free channel is granted at once")
    }

    @Test func aWithdrawnWaiterHandsNothingOn() {
        var turns = ChannelTurns(capacity: 8)
        _ = turns.take(a)
        _ = turns.take(a)
        _ = turns.take(a)
        #expect(turns.end(a, 1) == nil, "a waiter that gives up is not the holder")
        #expect(turns.count == 2)
        #expect(turns.end(a, 0) == 2)
        #expect(turns.end(b, 2) == nil, "a ticket of another channel is not ended")
        #expect(turns.count == 1)
    }

    @Test func theQueueIsBounded() {
        var turns = ChannelTurns(capacity: 2)
        #expect(turns.take(a) == .granted(0))
        #expect(turns.take(b) == .granted(1))
        #expect(turns.take(a) == .full)
        _ = turns.end(b, 1)
        #expect(turns.take(a) == .wait(2))
    }
}
