public import PaymeshCrypto

/// What the gateway asks for one request in one scheme (x402 `PaymentRequirements`,
/// Specs/http402.md §3.2): sent as v1 (`maxAmountRequired`) in the JSON body and as v2 (`amount`)
/// in the `PAYMENT-REQUIRED` header. Amounts are atomic units, never floating point.
public struct PaymentRequirements: Sendable, Hashable {
    public var scheme: String
    /// CAIP-2 network (`ChannelScheme.network(chainID:)` for the channel scheme).
    public var network: String
    /// The price of this request, in atomic units of `asset`.
    public var amount: UInt128
    /// Asset id as in PAYMENT_OPEN (e.g. "USDC").
    public var asset: String
    /// The payee: this node's id (its address).
    public var payTo: EthereumAddress
    /// The resource's URL on the gateway.
    public var resource: String
    public var description: String
    public var mimeType: String
    public var maxTimeoutSeconds: UInt32
    public var extra: ChannelSchemeExtra

    public init(scheme: String = ChannelScheme.name, network: String, amount: UInt128, asset: String,
                payTo: EthereumAddress, resource: String, description: String = "", mimeType: String = "application/json",
                maxTimeoutSeconds: UInt32 = ChannelScheme.defaultTimeoutSeconds, extra: ChannelSchemeExtra) {
        self.scheme = scheme
        self.network = network
        self.amount = amount
        self.asset = asset
        self.payTo = payTo
        self.resource = resource
        self.description = description
        self.mimeType = mimeType
        self.maxTimeoutSeconds = maxTimeoutSeconds
        self.extra = extra
    }

    /// The channel scheme's requirements for a price in a channel domain (§4.1).
    public static func channel(price: UInt128, asset: String, decimals: UInt8, unit: String, payee: EthereumAddress,
                               chainID: UInt64, verifyingContract: EthereumAddress = .zero, resource: String,
                               description: String = "", mimeType: String = "application/json",
                               channelID: String? = nil, metered: (step: UInt64, unitPrice: UInt128)? = nil) -> PaymentRequirements {
        var extra = ChannelSchemeExtra(chainId: String(chainID), verifyingContract: verifyingContract.lowercaseHex,
                                       decimals: Int(decimals), unit: unit, channelId: channelID)
        extra.step = metered.map { String($0.step) }
        extra.unitPrice = metered.map { String($0.unitPrice) }
        return PaymentRequirements(network: ChannelScheme.network(chainID: chainID), amount: price, asset: asset, payTo: payee,
                                   resource: resource, description: description, mimeType: mimeType, extra: extra)
    }
}

/// The channel scheme's `extra` (§4.1): what a client needs to sign a voucher for this payee.
public struct ChannelSchemeExtra: Codable, Sendable, Hashable {
    /// EIP-712 domain name and version of the voucher ("Paymesh", "1"; Specs/messages.md §5.1).
    public var name: String = "Paymesh"
    public var version: String = "1"
    /// EIP-712 chainId as a decimal string.
    public var chainId: String
    /// EIP-712 verifyingContract, `0x` + 40 lowercase hex digits (zero address when none).
    public var verifyingContract: String
    public var decimals: Int
    /// What `amount` buys: "call", "token", "second" or "byte".
    public var unit: String
    /// The client's channel to this payee, when the gateway knows it (optional).
    public var channelId: String?
    /// Metered units only (§12.2): units one step sells, and the price of one unit (decimal strings);
    /// `amount` is then the price of the first step.
    public var step: String?
    public var unitPrice: String?

    public init(chainId: String, verifyingContract: String, decimals: Int, unit: String, channelId: String? = nil) {
        self.chainId = chainId
        self.verifyingContract = verifyingContract
        self.decimals = decimals
        self.unit = unit
        self.channelId = channelId
    }
}

/// The x402 v1 form (`maxAmountRequired`, `resource` inside).
struct RequirementsV1Wire: Codable {
    var scheme: String
    var network: String
    var maxAmountRequired: String
    var resource: String
    var description: String
    var mimeType: String
    var payTo: String
    var maxTimeoutSeconds: UInt32
    var asset: String
    var extra: ChannelSchemeExtra

    init(_ r: PaymentRequirements) {
        scheme = r.scheme; network = r.network; maxAmountRequired = String(r.amount); resource = r.resource
        description = r.description; mimeType = r.mimeType; payTo = r.payTo.description
        maxTimeoutSeconds = r.maxTimeoutSeconds; asset = r.asset; extra = r.extra
    }
}

/// The x402 v2 form (`amount`; the resource moves to `PaymentRequired.resource`). `extra` is
/// decoded loosely: a client echoes it back in `accepted`, and only scheme, network, asset, payTo
/// and amount are compared (§4.3).
struct RequirementsV2Wire: Codable {
    var scheme: String
    var network: String
    var asset: String
    var amount: String
    var payTo: String
    var maxTimeoutSeconds: UInt32
    var extra: ChannelSchemeExtra?

    init(_ r: PaymentRequirements) {
        scheme = r.scheme; network = r.network; asset = r.asset; amount = String(r.amount)
        payTo = r.payTo.description; maxTimeoutSeconds = r.maxTimeoutSeconds; extra = r.extra
    }
}
