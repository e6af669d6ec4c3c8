/// The one error type of PaymeshDiscovery: a struct wrapping a private code, so new cases never
/// break callers that switch over it. Each failure has a cold-path factory.
public struct DiscoveryError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case invalidTXTKey(String)
        case txtEntryTooLong(key: String, length: Int)
        case txtTooLong(Int)
        case duplicateTXTKey(String)
        case invalidPeerID(String)
        case invalidInstanceName(String)
        case invalidServiceType(String)
        case avahiCallFailed(function: String, reason: String)
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    @inline(never) static func invalidTXTKey(_ key: String) -> Self { .init(.invalidTXTKey(key)) }
    @inline(never) static func txtEntryTooLong(key: String, length: Int) -> Self {
        .init(.txtEntryTooLong(key: key, length: length))
    }
    @inline(never) static func txtTooLong(_ length: Int) -> Self { .init(.txtTooLong(length)) }
    @inline(never) static func duplicateTXTKey(_ key: String) -> Self { .init(.duplicateTXTKey(key)) }
    @inline(never) static func invalidPeerID(_ id: String) -> Self { .init(.invalidPeerID(id)) }
    @inline(never) static func invalidInstanceName(_ why: String) -> Self { .init(.invalidInstanceName(why)) }
    @inline(never) static func invalidServiceType(_ type: String) -> Self { .init(.invalidServiceType(type)) }

    @inline(never) static func avahiCallFailed(_ function: String, reason: String) -> Self {
        .init(.avahiCallFailed(function: function, reason: reason))
    }

    public var description: String {
        switch code {
        case .invalidTXTKey(let k):
            return "discovery: invalid TXT key \(k.debugDescription) (1-\(TXTRecord.maxKeyLength) printable ASCII characters, no '=')"
        case .txtEntryTooLong(let k, let n):
            return "discovery: TXT entry \(k.debugDescription) is \(n) bytes, limit \(TXTRecord.maxEntryLength)"
        case .txtTooLong(let n):
            return "discovery: TXT record is \(n) bytes, limit \(TXTRecord.maxRecordLength)"
        case .duplicateTXTKey(let k): return "discovery: TXT key \(k.debugDescription) given twice (keys are case-insensitive)"
        case .invalidPeerID(let id): return "discovery: peer id \(id.debugDescription) is not 0x followed by 40 hex digits"
        case .invalidInstanceName(let why): return "discovery: invalid instance name: \(why)"
        case .avahiCallFailed(let f, let r): return "discovery: \(f) failed: \(r)"
        case .invalidServiceType(let t): return "discovery: invalid service type \(t.debugDescription) (expected _name._tcp or _name._udp)"
        }
    }
}
