@testable import PaymeshNode
import Testing

/// `http.fetch` fetches from loopback only (Specs/http402.md §11.1): URLs are checked before anything is sent.
@Suite struct FetchURLTests {
    @Test func loopbackURLsWithAPort() throws {
        let t = try HTTPFetcher.target("http://127.0.0.1:8402/echo/a?x=1")
        #expect(t.url.host == "127.0.0.1" && t.url.port == 8402 && t.path == "/echo/a?x=1")
        #expect(try HTTPFetcher.target("http://localhost:80").path == "/")
        #expect(try HTTPFetcher.target("http://[::1]:9?q").path == "/?q")
        #expect(HTTPFetcher.tokenKey(t) == "127.0.0.1:8402/echo")
    }

    @Test func everythingElseIsRefused() {
        for url in ["https://127.0.0.1:443/", "http://192.0.2.1:80/", "http://example.com:80/", "http://127.0.0.1/", "http://127.0.0.1:0/",
                    "http://127.0.0.1:80/a b", "http://127.0.0.1:80/#frag", "ftp://127.0.0.1:21/", "http://127.1:80/", "http://user@127.0.0.1:80/"] {
            do {
                _ = try HTTPFetcher.target(url)
                Issue.record("\(url) accepted")
            } catch {
                #expect(error.paymeshCode == .fetchURLRefused, "\(url): \(error)")
            }
        }
    }
}
