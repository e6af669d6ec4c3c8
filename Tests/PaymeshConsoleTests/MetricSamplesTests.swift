@testable import PaymeshConsole
import Testing

/// The console's reading of the Prometheus text format (what `metrics` returns as `samples`).
@Suite struct MetricSamplesTests {
    @Test func parsesSamplesLabelsAndEscapes() {
        let text = """
        # HELP x_total Things.
        # TYPE x_total counter
        x_total 42
        y{asset="US\\"DC",role="payer"} 1.5
        h_bucket{le="+Inf"} 7
        z{a="back\\\\slash",b="new\\nline"} NaN
        w{} +Inf
        not a sample line
        """
        let samples = PrometheusText.samples(text)
        #expect(samples.count == 5)
        #expect(samples[0] == .init(name: "x_total", labels: [:], value: 42))
        #expect(samples[1] == .init(name: "y", labels: ["asset": "US\"DC", "role": "payer"], value: 1.5))
        #expect(samples[2] == .init(name: "h_bucket", labels: ["le": "+Inf"], value: 7))
        #expect(samples[3].labels == ["a": "back\\slash", "b": "new\nline"] && samples[3].value.isNaN)
        #expect(samples[4] == .init(name: "w", labels: [:], value: .infinity))
    }

    @Test func numbersBecomeJSONIntegersWhenWhole() {
        #expect(MetricSamples.number(650) == .int(650))
        #expect(MetricSamples.number(0.25) == .double(0.25))
        #expect(MetricSamples.number(1e300) == .double(1e300))
        #expect(MetricSamples.number(.infinity) == .string("+Inf"))
        #expect(MetricSamples.json("a{b=\"c\"} 3\nd 1\n", prefix: "a") == [["name": "a", "labels": ["b": "c"], "value": 3]])
    }
}
