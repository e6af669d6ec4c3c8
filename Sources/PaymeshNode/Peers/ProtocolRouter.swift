import NIOConcurrencyHelpers
public import PaymeshCrypto
public import PaymeshMux
public import PaymeshTransport

/// The stream protocols this node offers and the service that serves each (Specs/streams.md).
///
/// A service registers its protocol id once, with the handler of the streams peers open for it
/// (and, optionally, the feature its support is advertised as in the identity proof,
/// Specs/transport.md §4). What the node offers is derived from the registrations: after each one
/// the router hands the new protocol set and feature list to `onChange` (the `PeerManager` passes
/// them to its transport endpoint, which resets inbound streams of any other protocol before
/// accepting them). Neither the transport nor the mux names an application protocol.
public final class ProtocolRouter: Sendable {
    /// Serves one inbound stream of the registered protocol, opened by `peer`. It should return
    /// promptly (start a reader and return); a router's caller awaits it.
    public typealias Handler = @Sendable (_ stream: any PeerStream, _ peer: EthereumAddress) async -> Void
    /// Receives the offered protocols and features after every registration.
    public typealias OfferSink = @Sendable (_ protocols: Set<StreamProtocolID>, _ features: [String]) throws -> Void

    private struct Entry: Sendable {
        var feature: String?
        var handler: Handler
    }

    private struct State: Sendable {
        var entries: [StreamProtocolID: Entry] = [:]
        /// Inbound streams of a protocol nobody registered that reached the router (a race with
        /// the transport's own check); reset.
        var unrouted: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())
    private let onChange: OfferSink

    public init(onChange: @escaping OfferSink = { _, _ in }) {
        self.onChange = onChange
    }

    /// Registers `id`, served by `handler`, advertised as `feature` if given. Throws if `id` is
    /// already registered, or if the offer cannot be made (e.g. a feature name over 64 bytes);
    /// nothing changes then.
    public func register(_ id: StreamProtocolID, feature: String? = nil, handler: @escaping Handler) throws(NodeError) {
        let result: Result<Void, NodeError> = state.withLockedValue { state in
            guard state.entries[id] == nil else { return .failure(.protocolAlreadyRegistered(id.description)) }
            var next = state.entries
            next[id] = Entry(feature: feature, handler: handler)
            do {
                try onChange(Set(next.keys), Self.features(next))
            } catch {
                return .failure(.protocolNotOffered("cannot offer stream protocol \(id): \(error)"))
            }
            state.entries = next
            return .success(())
        }
        try result.get()
    }

    /// The stream protocols the node offers (what its transport accepts).
    public var protocols: Set<StreamProtocolID> { state.withLockedValue { Set($0.entries.keys) } }

    /// The features the identity proof advertises: those of the registered protocols, sorted.
    public var features: [String] { state.withLockedValue { Self.features($0.entries) } }

    /// Inbound streams reset because no service had registered their protocol.
    public var unroutedStreams: UInt64 { state.withLockedValue { $0.unrouted } }

    /// The handler registered for `id`, if any.
    public func handler(for id: StreamProtocolID) -> Handler? {
        state.withLockedValue { $0.entries[id]?.handler }
    }

    /// Hands an inbound stream to the service that registered its protocol; resets it (RST,
    /// Specs/streams.md) if there is none.
    public func route(_ stream: any PeerStream, from peer: EthereumAddress) async {
        let handler: Handler? = state.withLockedValue { state in
            if let entry = state.entries[stream.protocolID] { return entry.handler }
            state.unrouted += 1
            return nil
        }
        guard let handler else { return stream.reset() }
        await handler(stream, peer)
    }

    private static func features(_ entries: [StreamProtocolID: Entry]) -> [String] {
        Array(Set(entries.values.compactMap(\.feature))).sorted()
    }
}
