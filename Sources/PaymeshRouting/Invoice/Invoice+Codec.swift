public import PaymeshCrypto
import PaymeshMessages
import PaymeshMsgpack

extension Invoice {
    static let bodyLimits = MsgpackLimits(maxDepth: 3, maxElements: 128, maxStringLength: maxStringLength, maxBinaryLength: 32)

    /// Signs the invoice with the payee's identity key and encodes it (invoice.md §3):
    /// `pminv1` ‖ base32(body ‖ signature).
    public func encoded(signedBy key: IdentityKey) throws(RoutingError) -> String {
        guard key.address == payee else { throw .invoiceMalformed("signing key is not the payee's") }
        let body = self.body()
        let signature: [UInt8]
        do { signature = try key.personalSign(message: Self.signingTag + body) } catch {
            throw .invoiceMalformed("signing failed: \(error)")
        }
        let text = Self.prefix + Base32.encode(body + signature)
        guard text.utf8.count <= Self.maxStringLength else { throw .invoiceTooLong(text.utf8.count) }
        return text
    }

    /// Decodes an invoice string and checks, in order (invoice.md §4): length, prefix, base32,
    /// body, signature by the payee, expiry at `now`. Each failure is a typed error.
    public static func decode(_ text: String, now: UInt64) throws(RoutingError) -> Invoice {
        let (invoice, _) = try decodeSigned(text)
        guard now < invoice.expiresAt else { throw .invoiceExpired(at: invoice.expiresAt) }
        return invoice
    }

    /// Decoding without the expiry check (`invoice.decode` shows an expired invoice too), with
    /// the signed body.
    public static func decodeSigned(_ text: String) throws(RoutingError) -> (Invoice, body: [UInt8]) {
        let count = text.utf8.count
        guard count <= maxStringLength else { throw .invoiceTooLong(count) }
        // One case throughout: lowercase, or all uppercase (QR alphanumeric mode).
        let lower = text.lowercased()
        guard text == lower || text == text.uppercased() else { throw .invoiceMalformed("mixed case") }
        guard lower.hasPrefix(prefix) else { throw .invoiceWrongPrefix() }
        guard let raw = Base32.decode(lower.dropFirst(prefix.count).utf8) else { throw .invoiceMalformed("not canonical base32") }
        guard raw.count > Signature65.byteCount else { throw .invoiceMalformed("shorter than a signature") }
        let body = Array(raw.dropLast(Signature65.byteCount))
        let signature: Signature65
        do throws(MessageError) { signature = try Signature65(Array(raw.suffix(Signature65.byteCount))) } catch {
            throw .invoiceMalformed("signature: \(error.detail)")
        }
        let invoice = try parse(body)
        let digest = EIP191.personalMessageHash(signingTag + body)
        guard let signer = try? EthereumAddress.recover(digest32: digest, signature65: signature.bytes), signer == invoice.payee else {
            throw .invoiceBadSignature()
        }
        return (invoice, body)
    }

    /// The canonical body (invoice.md §2): a msgpack map in this key order, optional keys omitted.
    func body() -> [UInt8] {
        var pairs: [MsgpackPair] = []
        func put(_ k: String, _ v: MsgpackValue) { pairs.append(MsgpackPair(.string(k), v)) }
        put("v", .uint(Self.version))
        put("payee", .binary(payee.rawRepresentation))
        put("payment_hash", .binary(paymentHash.bytes))
        if let amount { put("amount", .string(amount.description)) }
        put("asset", .string(asset.id))
        put("decimals", .uint(UInt64(asset.decimals)))
        put("memo", .string(memo))
        put("created", .uint(created))
        put("expiry", .uint(expiryMillis))
        put("min_final_expiry", .uint(minFinalExpiryMillis))
        if !routeHints.isEmpty {
            put("route_hints", .array(routeHints.map { h in
                .map([MsgpackPair(.string("node"), .binary(h.nodeID.rawRepresentation)),
                      MsgpackPair(.string("channel_id"), .binary(h.channelID.bytes)),
                      MsgpackPair(.string("fee_base"), .string(h.feeBase.description)),
                      MsgpackPair(.string("fee_ppm"), .uint(h.feePPM)),
                      MsgpackPair(.string("expiry_delta"), .uint(h.expiryDeltaMillis)),
                      MsgpackPair(.string("htlc_min"), .string(h.htlcMinimum.description)),
                      MsgpackPair(.string("htlc_max"), .string(h.htlcMaximum.description))])
            }))
        }
        do { return try MsgpackEncoder.encode(.map(pairs)) } catch { preconditionFailure("an invoice body always encodes: \(error)") }
    }

    private static func parse(_ body: [UInt8]) throws(RoutingError) -> Invoice {
        let value: MsgpackValue
        do { value = try MsgpackDecoder.decode(body, limits: bodyLimits) } catch { throw .invoiceMalformed("body is not msgpack within limits") }
        let f = try InvoiceFields(value, "body")
        let version = try f.uint("v")
        guard version == Self.version else { throw .invoiceMalformed("version \(version) is not 1") }
        let assetID = try f.string("asset"), decimals = try f.uint("decimals")
        guard decimals <= UInt64(Asset.decimalsRange.upperBound) else { throw .invoiceMalformed("decimals over 36") }
        let asset: Asset
        do throws(MessageError) { asset = try Asset(id: assetID, decimals: UInt8(decimals)) } catch { throw .invoiceMalformed("asset: \(error.detail)") }
        let hints = try f.optional("route_hints").map { v throws(RoutingError) -> [RouteHint] in
            guard case .array(let items) = v, (1...maxRouteHints).contains(items.count) else {
                throw .invoiceMalformed("route_hints must be an array of 1…\(maxRouteHints) maps")
            }
            return try items.map { item throws(RoutingError) -> RouteHint in
                let h = try InvoiceFields(item, "route_hints[]")
                return try RouteHint(nodeID: try h.address("node"), channelID: try h.fixed("channel_id"), feeBase: try h.amount("fee_base"),
                                     feePPM: try h.uint("fee_ppm"), expiryDeltaMillis: try h.uint("expiry_delta"),
                                     htlcMinimum: try h.amount("htlc_min"), htlcMaximum: try h.amount("htlc_max"))
            }
        }
        let invoice = try Invoice(payee: try f.address("payee"), paymentHash: try f.fixed("payment_hash"),
                                  amount: try f.optional("amount").map { _ throws(RoutingError) in try f.amount("amount") },
                                  asset: asset, memo: try f.string("memo"), created: try f.uint("created"),
                                  expiryMillis: try f.uint("expiry"), minFinalExpiryMillis: try f.uint("min_final_expiry"),
                                  routeHints: hints ?? [])
        guard invoice.body() == body else { throw .invoiceMalformed("body is not in canonical form (key order, unknown keys, widths)") }
        return invoice
    }
}

/// Reads the fields of an invoice map; every failure is `invoiceMalformed` naming the field.
private struct InvoiceFields {
    let fields: [String: MsgpackValue]
    let context: String

    init(_ value: MsgpackValue, _ context: String) throws(RoutingError) {
        guard let pairs = value.mapValue else { throw .invoiceMalformed("\(context) is not a map") }
        var fields: [String: MsgpackValue] = [:]
        for pair in pairs {
            guard let key = pair.key.stringValue else { throw .invoiceMalformed("\(context): a key is not a str") }
            guard fields.updateValue(pair.value, forKey: key) == nil else { throw .invoiceMalformed("\(context): duplicate key \(key)") }
        }
        self.fields = fields
        self.context = context
    }

    func optional(_ key: String) -> MsgpackValue? { fields[key] }

    func required(_ key: String) throws(RoutingError) -> MsgpackValue {
        guard let v = fields[key] else { throw .invoiceMalformed("\(context).\(key) is missing") }
        return v
    }

    func uint(_ key: String) throws(RoutingError) -> UInt64 {
        guard let v = try required(key).uint64Value else { throw .invoiceMalformed("\(context).\(key) must be a uint") }
        return v
    }

    func string(_ key: String) throws(RoutingError) -> String {
        guard let v = try required(key).stringValue else { throw .invoiceMalformed("\(context).\(key) must be a str") }
        return v
    }

    func amount(_ key: String) throws(RoutingError) -> Amount {
        do { return try Amount(decimal: try string(key)) } catch let e as RoutingError { throw e } catch {
            throw .invoiceMalformed("\(context).\(key): \(error)")
        }
    }

    func fixed<T: FixedBytes>(_ key: String) throws(RoutingError) -> T {
        guard let b = try required(key).binaryValue else { throw .invoiceMalformed("\(context).\(key) must be bin") }
        do throws(MessageError) { return try T(b) } catch { throw .invoiceMalformed("\(context).\(key): \(error.detail)") }
    }

    func address(_ key: String) throws(RoutingError) -> EthereumAddress {
        guard let b = try required(key).binaryValue, b.count == EthereumAddress.byteCount,
              let a = try? EthereumAddress(rawRepresentation: b) else { throw .invoiceMalformed("\(context).\(key) must be bin(20)") }
        return a
    }
}
