public import PaymeshMessages

/// The node's assets (Specs/README.md, "Money"): one number of decimals per normalised asset id,
/// fixed by configuration or by the asset's first use (funding, an open sent or accepted). A use
/// that names a known id with other decimals, or an id that is not normalised, is refused with
/// 1106 ASSET_MISMATCH: one id, one wallet, one scale. A value type; the node rebuilds it at start
/// from its configuration and its stored channels and ledger entries.
public struct AssetRegistry: Sendable, Hashable {
    /// Decimals by normalised asset id.
    public private(set) var decimals: [String: UInt8]
    /// Ids fixed by configuration (a stored use with other decimals does not override them).
    public let configured: Set<String>

    /// `configured`: asset id → decimals (ids are normalised here).
    public init(configured assets: [String: UInt8] = [:]) {
        var d: [String: UInt8] = [:]
        for (id, places) in assets { d[Asset.normalizedID(id)] = places }
        decimals = d
        configured = Set(d.keys)
    }

    /// The decimals registered for `id` (normalised first), nil when the id is unknown.
    public func decimals(of id: String) -> UInt8? { decimals[Asset.normalizedID(id)] }

    /// Refuses an id not in normalised form and a known id with other decimals.
    public func check(_ asset: Asset) throws(ChannelError) {
        guard asset.hasNormalizedID else {
            throw .assetMismatch("asset id \"\(asset.id)\" is not normalised (ids are upper case: \(Asset.normalizedID(asset.id)))")
        }
        if let known = decimals[asset.id], known != asset.decimals {
            throw .assetMismatch("\(asset.id) has \(known) decimals on this node, not \(asset.decimals)")
        }
    }

    /// `check`, then registers the asset; true when it was not known before.
    @discardableResult
    public mutating func use(_ asset: Asset) throws(ChannelError) -> Bool {
        try check(asset)
        return decimals.updateValue(asset.decimals, forKey: asset.id) == nil
    }

    /// Takes a use found in the node's stored data (at start): the first one of an id fixes it;
    /// false when the id is already known with other decimals (data written before the registry).
    @discardableResult
    public mutating func learn(_ asset: Asset) -> Bool {
        let id = Asset.normalizedID(asset.id)
        guard let known = decimals[id] else {
            decimals[id] = asset.decimals
            return true
        }
        return known == asset.decimals
    }

    /// Undoes `use` of an asset whose first use was not written after all.
    public mutating func forget(_ id: String) {
        guard !configured.contains(id) else { return }
        decimals[id] = nil
    }
}
