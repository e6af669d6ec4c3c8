import PaymeshChannels
import PaymeshMessages
import Testing

@Suite("Channel lifecycle state machine")
struct LifecycleTests {
    /// Every legal transition (Specs/channels.md §2). Every other (state, event) pair is illegal.
    static let legal: [ChannelState: [ChannelEvent: ChannelState]] = [
        .proposed: [.openAccepted: .open, .openRejected: .settled],
        .open: [.voucher: .active, .closeStarted: .closing],
        .active: [.voucher: .active, .closeStarted: .closing],
        .closing: [.closeStarted: .closing, .higherVoucher: .disputed, .settlementFailed: .closing,
                   .settlementConfirmed: .settled],
        .disputed: [.higherVoucher: .disputed, .settlementFailed: .disputed, .settlementConfirmed: .settled],
        .settled: [:],
    ]

    static let allPairs: [(ChannelState, ChannelEvent)] =
        ChannelState.allCases.flatMap { s in ChannelEvent.allCases.map { (s, $0) } }

    @Test(arguments: allPairs)
    func transition(state: ChannelState, event: ChannelEvent) {
        if let expected = Self.legal[state]?[event] {
            #expect(throws: Never.self) { try ChannelLifecycle.next(state, on: event) }
            #expect((try? ChannelLifecycle.next(state, on: event)) == expected)
        } else {
            let error = #expect(throws: ChannelError.self) { try ChannelLifecycle.next(state, on: event) }
            let code: PaymeshErrorCode = (event == .openAccepted || event == .openRejected) ? .channelAlreadyExists : .channelNotActive
            #expect(error?.code == code)
        }
    }

    @Test func tableCoversEveryStateAndCountsLegalPairs() {
        #expect(Set(Self.legal.keys) == Set(ChannelState.allCases))
        #expect(Self.legal.values.map(\.count).reduce(0, +) == 13)
        #expect(Self.allPairs.count == 42)
    }

    @Test func settledIsTerminal() {
        for event in ChannelEvent.allCases { #expect(throws: ChannelError.self) { try ChannelLifecycle.next(.settled, on: event) } }
    }
}
