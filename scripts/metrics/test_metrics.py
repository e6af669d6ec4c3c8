#!/usr/bin/env python3
"""Scrapes two real `paymesh start` processes on loopback after a known workload and checks the
Prometheus text (parsed by prometheus-client's own parser) against the workload and against the
console's `metrics` (docs/operations.md, "Metrics").

Run by scripts/test.sh after the Swift tests: python3 scripts/metrics/test_metrics.py
The binary is .build/debug/paymesh (or $PAYMESH_BIN). Every wait is bounded.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("PAYMESH_BIN", os.path.join(ROOT, ".build", "debug", "paymesh"))
PAYMENTS = 500          # the workload: this many payments of AMOUNT atomic units
AMOUNT = 7
DEPOSIT = 100_000_000
ASSET = "USDC"
PROTOCOL = "/paymesh/payments/3"
READY_TIMEOUT = 60      # seconds, for a node to print its ready line


class Node:
    """One `paymesh start` process with its own data directory, HTTP listener and console."""

    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix=f"paymesh-metrics-{name}-")
        env = dict(os.environ, PAYMESH_SYNC="normal")
        self.log = open(os.path.join(self.dir, "node.log"), "wb")
        self.proc = subprocess.Popen(
            [BIN, "start", "--data-dir", self.dir, "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--no-mdns"],
            stdout=subprocess.PIPE, stderr=self.log, env=env)
        line = self._ready_line()
        fields = dict(kv.split("=", 1) for kv in line.split()[2:])
        self.id, self.listen, self.console, self.http = fields["id"], fields["listen"], fields["console"], fields["http"]
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(120)
        self.sock.connect(self.console)
        self.reader = self.sock.makefile("rb")
        self.next_id = 1

    def _ready_line(self):
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=READY_TIMEOUT):
            raise RuntimeError(f"node in {self.dir} printed no ready line in {READY_TIMEOUT}s")
        line = self.proc.stdout.readline().decode()
        if not line.startswith("paymesh ready "):
            raise RuntimeError(f"node in {self.dir} did not start: {line!r} (log: {self.dir}/node.log)")
        return line.strip()

    def call(self, method, **params):
        request = {"jsonrpc": "2.0", "method": method, "params": params, "id": self.next_id}
        self.next_id += 1
        self.sock.sendall(json.dumps(request).encode() + b"\n")
        while True:
            reply = json.loads(self.reader.readline())
            if reply.get("id") == request["id"]:
                break
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply["result"]

    def scrape(self):
        with urllib.request.urlopen(f"http://{self.http}/metrics", timeout=30) as response:
            content_type = response.headers.get("Content-Type", "")
            return response.read().decode(), content_type

    def stop(self):
        try:
            self.call("stop")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def samples(text):
    """{(name, frozenset(labels)): value} for every sample of a Prometheus text exposition."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def console_samples(node, prefix=""):
    result = node.call("metrics", prefix=prefix)
    return result, {(s["name"], frozenset(s["labels"].items())): float(s["value"]) for s in result["samples"]}


def value(table, name, **labels):
    return table.get((name, frozenset(labels.items())))


class MetricsAfterKnownWorkload(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(BIN, os.X_OK):
            raise unittest.SkipTest(f"no paymesh binary at {BIN} (swift build first)")
        cls.payer, cls.payee = Node("payer"), Node("payee")
        host, port = cls.payee.listen.rsplit(":", 1)
        cls.payer.call("connect", host=host, port=int(port))
        cls.payer.call("ledger.fund", asset=ASSET, decimals=6, amount="1000000000")
        opened = cls.payer.call("channel.open", peer=cls.payee.id, asset=ASSET, decimals=6, deposit=str(DEPOSIT))
        cls.channel = opened["channel"]
        cls.paid = cls.payer.call("pay", channel=cls.channel, amount=str(AMOUNT), count=PAYMENTS, timeout_ms=120_000)

    @classmethod
    def tearDownClass(cls):
        for node in (getattr(cls, "payer", None), getattr(cls, "payee", None)):
            if node:
                node.stop()

    def test_payer_counts_equal_the_workload(self):
        text, content_type = self.payer.scrape()
        self.assertTrue(content_type.startswith("text/plain; version=0.0.4"), content_type)
        m = samples(text)
        self.assertEqual(value(m, "paymesh_payments_sent_total", asset=ASSET), PAYMENTS)
        self.assertEqual(value(m, "paymesh_payments_sent_atomic_total", asset=ASSET), PAYMENTS * AMOUNT)
        self.assertEqual(value(m, "paymesh_payments_acked_total", asset=ASSET), PAYMENTS)
        self.assertEqual(value(m, "paymesh_payments_acked_atomic_total", asset=ASSET), PAYMENTS * AMOUNT)
        self.assertEqual(value(m, "paymesh_payment_ack_latency_seconds_count"), PAYMENTS)
        self.assertEqual(value(m, "paymesh_channels", state="ACTIVE", role="payer"), 1)
        self.assertEqual(value(m, "paymesh_channels_deposit_atomic", asset=ASSET, role="payer"), DEPOSIT)
        self.assertEqual(value(m, "paymesh_peers", state="connected"), 1)
        self.assertEqual(value(m, "paymesh_store_healthy"), 1)
        # Group commits happened and every committed request is in the batch-size histogram.
        self.assertGreaterEqual(value(m, "paymesh_store_commit_seconds_count"), 1)
        self.assertGreaterEqual(value(m, "paymesh_store_commit_batch_requests_sum"), 1)

    def test_payee_counts_equal_the_workload(self):
        m = samples(self.payee.scrape()[0])
        self.assertEqual(value(m, "paymesh_payments_received_total", asset=ASSET), PAYMENTS)
        self.assertEqual(value(m, "paymesh_payments_received_atomic_total", asset=ASSET), PAYMENTS * AMOUNT)
        self.assertEqual(value(m, "paymesh_channels", state="ACTIVE", role="payee"), 1)
        self.assertEqual(value(m, "paymesh_channels_deposit_atomic", asset=ASSET, role="payee"), DEPOSIT)
        self.assertIn(value(m, "paymesh_payments_sent_total", asset=ASSET), (None, 0))

    def test_stream_messages_and_bytes_are_counted_on_both_ends(self):
        payer, payee = samples(self.payer.scrape()[0]), samples(self.payee.scrape()[0])
        sent = value(payer, "paymesh_stream_messages_total", protocol=PROTOCOL, direction="out")
        # The open and every voucher went out; the payee read exactly what the payer wrote.
        self.assertGreaterEqual(sent, PAYMENTS + 1)
        self.assertEqual(value(payee, "paymesh_stream_messages_total", protocol=PROTOCOL, direction="in"), sent)
        self.assertEqual(value(payee, "paymesh_stream_bytes_total", protocol=PROTOCOL, direction="in"),
                         value(payer, "paymesh_stream_bytes_total", protocol=PROTOCOL, direction="out"))
        self.assertGreater(value(payer, "paymesh_stream_messages_total", protocol=PROTOCOL, direction="in"), 0)
        # The peer table's counters (console `peers`, `metrics`) are real: messages in, not only bytes.
        self.assertGreater(value(payee, "paymesh_peer_traffic_messages", direction="in"), 0)
        self.assertGreater(value(payer, "paymesh_peer_traffic_messages", direction="in"), 0)

    def test_console_shows_the_same_numbers(self):
        for node in (self.payer, self.payee):
            http = samples(node.scrape()[0])
            result, console = console_samples(node)
            stable = ("paymesh_payments", "paymesh_payment_ack", "paymesh_channels", "paymesh_stream", "paymesh_peers")
            compared = 0
            for key, v in console.items():
                if key[0].startswith(stable):
                    self.assertIn(key, http, f"{key} is in console metrics but not in /metrics")
                    self.assertEqual(http[key], v, f"{key}: /metrics {http[key]} but console {v}")
                    compared += 1
            self.assertGreater(compared, 10)
            # The console's own traffic totals are the gauges /metrics shows for the peer table.
            self.assertEqual(value(console, "paymesh_peer_traffic_messages", direction="in"), result["messagesIn"])
            self.assertEqual(value(console, "paymesh_peer_traffic_messages", direction="out"), result["messagesOut"])
            self.assertGreater(result["messagesIn"], 0)
        # prefix= filters by name.
        _, only = console_samples(self.payer, prefix="paymesh_payments_sent")
        self.assertEqual({k[0] for k in only}, {"paymesh_payments_sent_total", "paymesh_payments_sent_atomic_total"})


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors)
    passed = max(0, result.testsRun - failed - len(result.skipped))
    print(f"{passed} passed, {failed} failed, {len(result.skipped)} skipped")
    sys.exit(1 if failed else 0)
