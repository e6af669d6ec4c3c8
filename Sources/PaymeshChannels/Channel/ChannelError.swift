public import PaymeshMessages

/// The one error type of PaymeshChannels: why a local call (pay, close, open) or a peer's message
/// was refused, with the wire code to report (Specs/errors.md, Specs/channels.md §9).
/// A peer's misbehaviour is a `ChannelError`; a broken invariant of our own is a `precondition`.
public struct ChannelError: Error, Sendable, Hashable, CustomStringConvertible {
    public let code: PaymeshErrorCode
    /// Human-readable, ≤ 256 bytes, never echoes peer bytes.
    public let detail: String
    /// Which spending limit refused a payment (nil for any other error).
    public let policyLimit: PolicyLimit?

    init(_ code: PaymeshErrorCode, _ detail: String, policyLimit: PolicyLimit? = nil) {
        self.code = code
        self.detail = detail
        self.policyLimit = policyLimit
    }

    public var description: String { "\(code): \(detail)" }

    @inline(never) static func notFound(_ why: String) -> ChannelError { .init(.channelNotFound, why) }
    @inline(never) static func alreadyExists(_ why: String) -> ChannelError { .init(.channelAlreadyExists, why) }
    @inline(never) static func notActive(_ state: ChannelState, _ what: String) -> ChannelError {
        .init(.channelNotActive, "\(what) not allowed in state \(state)")
    }
    @inline(never) static func depositInvalid(_ why: String) -> ChannelError { .init(.channelDepositInvalid, why) }
    @inline(never) static func limitExceeded(_ why: String) -> ChannelError { .init(.channelLimitExceeded, why) }
    @inline(never) static func closeMismatch(_ why: String) -> ChannelError { .init(.channelCloseMismatch, why) }
    @inline(never) static func insufficientFunds(_ why: String) -> ChannelError { .init(.insufficientFunds, why) }
    @inline(never) static func invalidSignature(_ why: String) -> ChannelError { .init(.invalidSignature, why) }
    @inline(never) static func expired(_ why: String) -> ChannelError { .init(.expiredPayment, why) }
    @inline(never) static func duplicateNonce(_ why: String) -> ChannelError { .init(.duplicateNonce, why) }
    @inline(never) static func invalidAmount(_ why: String) -> ChannelError { .init(.invalidAmount, why) }
    @inline(never) static func assetMismatch(_ why: String) -> ChannelError { .init(.assetMismatch, why) }
    @inline(never) static func nonceTooOld(_ why: String) -> ChannelError { .init(.nonceTooOld, why) }
    @inline(never) static func malformed(_ why: String) -> ChannelError { .init(.malformedMessage, why) }
    @inline(never) static func internalError(_ why: String) -> ChannelError { .init(.internalError, why) }
    @inline(never) static func policy(_ limit: PolicyLimit, _ code: PaymeshErrorCode, _ why: String) -> ChannelError {
        .init(code, why, policyLimit: limit)
    }

    /// Wraps an error of the message layer (a local signing failure or a field out of range).
    @inline(never) static func message(_ error: MessageError) -> ChannelError { .init(error.code, error.detail) }
}
