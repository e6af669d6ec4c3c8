import NIOCore
import PaymeshNode

/// `HTTPExchange` over the gateway's NIO HTTP/1.1 client (`UpstreamClient`: loopback, one
/// connection per request, bounded answer, 60 s for the whole exchange): what `HTTPFetcher`
/// (console `http.fetch`) sends its requests with.
struct NIOHTTPExchange: HTTPExchange {
    let group: any EventLoopGroup

    func send(method: String, host: String, port: Int, target: String, headers: [(String, String)], body: [UInt8]?,
              maxResponseBytes: Int) async throws(NodeError) -> HTTPExchangeResponse {
        guard let url = UpstreamURL("http://\(host.contains(":") ? "[\(host)]" : host):\(port)") else {
            throw .paymesh(.fetchURLRefused, "\(host):\(port) is not a loopback address")
        }
        let answer = try await UpstreamClient.send(method: method, to: url, target: target, headers: headers,
                                                   body: body.map { ByteBuffer(bytes: $0) }, group: group, maxResponseBytes: maxResponseBytes)
        return HTTPExchangeResponse(status: answer.status, headers: answer.headers, body: Array(answer.body.readableBytesView))
    }

    func stream(method: String, host: String, port: Int, target: String, headers: [(String, String)], body: [UInt8]?,
                maxResponseBytes: Int, timeoutSeconds: Int64,
                onHead: @escaping @Sendable (Int, [(String, String)]) -> Void) async throws -> HTTPExchangeResponse {
        guard let url = UpstreamURL("http://\(host.contains(":") ? "[\(host)]" : host):\(port)") else {
            throw NodeError.paymesh(.fetchURLRefused, "\(host):\(port) is not a loopback address")
        }
        let answer = try await UpstreamClient.send(method: method, to: url, target: target, headers: headers,
                                                   body: body.map { ByteBuffer(bytes: $0) }, group: group, maxResponseBytes: maxResponseBytes,
                                                   timeout: .seconds(timeoutSeconds), onHead: onHead)
        return HTTPExchangeResponse(status: answer.status, headers: answer.headers, body: Array(answer.body.readableBytesView))
    }
}
