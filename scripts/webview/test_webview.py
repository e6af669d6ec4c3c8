#!/usr/bin/env python3
"""The live web view (Specs/webview.md) in a real headless browser.

Starts a 5-node mesh of real `paymesh start` processes on loopback (a ring: 0-1-2-3-4-0, one
channel along each link, node 0 serving HTTP), opens node 0's page in headless Chromium driven
by Selenium through /usr/bin/chromedriver, and checks that:
  - every node and every channel of the mesh is drawn (SVG `data-node` / `data-channel`);
  - a payment made through the console shows within one second of its acknowledgement
    (node 0 paying, and node 4 paying node 0), its amount with decimals and asset;
  - the snapshot JSON keeps atomic units as decimal strings.
A screenshot goes to .ci-artifacts/webview.png (or $PAYMESH_ARTIFACTS/webview.png).
Only loopback is used. Exit status non-zero on any failure.

Run by scripts/test.sh after the metrics test: python3 scripts/webview/test_webview.py
The binary is .build/debug/paymesh (or $PAYMESH_BIN). Every wait is bounded.
"""
import json
import os
import socket
import sys
import time
import unittest
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts", "metrics"))
from test_metrics import BIN, Node  # noqa: E402  (one way to start a node process and call its console)

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

NODES = 5
ASSET, DECIMALS = "USDC", 6
DEPOSIT = 50_000_000          # 50 USDC per channel
PAYMENT = 1_500_000           # 1.5 USDC
CHROMIUM = os.environ.get("PAYMESH_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PAYMESH_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = os.environ.get("PAYMESH_ARTIFACTS", os.path.join(ROOT, ".ci-artifacts"))
SETUP_TIMEOUT = 60            # seconds for the gossip meshes and the graph to form
SHOWN_WITHIN = 1.0            # seconds from a payment's acknowledgement to the page showing it


def until(what, condition, timeout=SETUP_TIMEOUT, step=0.1):
    """Re-checks `condition` until it returns a true value (returned), failing after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


class Events:
    """A second console connection subscribed to some topics: the notifications it receives."""

    def __init__(self, node, topics):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(SETUP_TIMEOUT)
        self.sock.connect(node.console)
        self.reader = self.sock.makefile("rb")
        self.sock.sendall(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "subscribe", "params": {"topics": topics}}).encode() + b"\n")
        while json.loads(self.reader.readline()).get("id") != 1:
            pass

    def wait(self, what, condition):
        """Reads notifications until `condition()` holds (checked first, then after each one)."""
        deadline = time.monotonic() + SETUP_TIMEOUT
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {SETUP_TIMEOUT}s waiting for {what}")
            self.reader.readline()

    def close(self):
        self.sock.close()


class WebViewInChromium(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(BIN, os.X_OK):
            raise unittest.SkipTest(f"no paymesh binary at {BIN} (swift build first)")
        for path in (CHROMIUM, CHROMEDRIVER):
            if not os.access(path, os.X_OK):
                raise AssertionError(f"{path} is missing: apt-get install chromium chromium-driver (scripts/lib/deps.sh)")
        cls.began = time.monotonic()
        cls.nodes, cls.driver, cls.events = [], None, None
        try:
            cls._build_mesh()
            cls._open_browser()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _build_mesh(cls):
        cls.nodes = [Node(f"webview{i}") for i in range(NODES)]
        n = cls.nodes
        cls.links = [(i, (i + 1) % NODES) for i in range(NODES)]
        for a, b in cls.links:
            host, port = n[a].listen.rsplit(":", 1)
            n[b].call("connect", host=host, port=int(port))
        # Announcements reach only peers whose subscriptions arrived: wait until every node has
        # both ring neighbours in its gossip mesh of every topic before opening channels.
        for node in n:
            until(f"{node.id}'s gossip meshes", lambda node=node: all(
                len(peers) >= 2 for peers in node.call("gossip.status")["mesh"].values()))
        cls.events = Events(n[0], ["graph"])
        cls.channels = []
        for a, b in cls.links:
            n[a].call("ledger.fund", asset=ASSET, decimals=DECIMALS, amount=str(10 * DEPOSIT))
            opened = n[a].call("channel.open", peer=n[b].id, asset=ASSET, decimals=DECIMALS, deposit=str(DEPOSIT))
            cls.channels.append(opened["channel"])
        want = set(cls.channels)
        cls.events.wait("node 0's graph to hold every channel",
                        lambda: want <= {c["id"] for c in n[0].call("graph.channels")["channels"]})

    @classmethod
    def _open_browser(cls):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000",
                    "--no-first-run", "--disable-extensions", "--disable-background-networking", "--disable-sync",
                    "--disable-component-update", "--disable-default-apps", "--proxy-server=direct://", "--proxy-bypass-list=*"):
            options.add_argument(arg)
        cls.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        cls.driver.set_page_load_timeout(SETUP_TIMEOUT)
        cls.url = f"http://{cls.nodes[0].http}/"
        cls.driver.get(cls.url)
        WebDriverWait(cls.driver, SETUP_TIMEOUT).until(
            lambda d: d.execute_script("return document.body.dataset.live === '1' && !!document.body.dataset.loaded"))

    @classmethod
    def tearDownClass(cls):
        if cls.driver:
            try:
                os.makedirs(ARTIFACTS, exist_ok=True)
                cls.driver.save_screenshot(os.path.join(ARTIFACTS, "webview.png"))
            finally:
                cls.driver.quit()
        if cls.events:
            cls.events.close()
        for node in cls.nodes:
            node.stop()
        print(f"web view test: {time.monotonic() - cls.began:.1f} s in all", file=sys.stderr)

    def drawn(self, attribute):
        """The values of `attribute` on the graph's elements, read in one script (the page redraws at any time)."""
        return set(self.driver.execute_script(
            "return [...document.querySelectorAll('svg [' + arguments[0] + ']')].map(e => e.getAttribute(arguments[0]));", attribute))

    def count(self):
        return int(self.driver.execute_script("return document.getElementById('count').dataset.count"))

    def test_1_every_node_and_channel_is_drawn(self):
        nodes = {n.id for n in self.nodes}
        WebDriverWait(self.driver, SETUP_TIMEOUT).until(lambda d: nodes <= self.drawn("data-node") and set(self.channels) <= self.drawn("data-channel"))
        self.assertEqual(self.drawn("data-node"), nodes)
        self.assertEqual(self.drawn("data-channel"), set(self.channels))
        # Node 0's own channels are in its channel table with their amounts for people.
        rows = self.driver.execute_script(
            "return Object.fromEntries([...document.querySelectorAll('[data-channel-row]')].map(r => [r.dataset.channelRow, r.innerText]));")
        self.assertEqual(set(rows), {self.channels[0], self.channels[-1]})
        self.assertIn("50 USDC", rows[self.channels[0]])
        # Peers with their RTT and gossip score columns.
        peers = set(self.driver.execute_script("return [...document.querySelectorAll('[data-peer]')].map(r => r.dataset.peer);"))
        self.assertEqual(peers, {self.nodes[1].id, self.nodes[4].id})

    def test_2_payments_show_within_a_second(self):
        for payer, channel, kind in ((self.nodes[0], self.channels[0], "sent"), (self.nodes[4], self.channels[-1], "received")):
            before = self.count()
            paid = payer.call("pay", channel=channel, amount=str(PAYMENT), count=1, timeout_ms=30_000)
            acked, acked_wall = time.monotonic(), time.time()
            self.assertTrue(paid["complete"], paid)
            try:
                WebDriverWait(self.driver, SHOWN_WITHIN, poll_frequency=0.02).until(lambda d: self.count() > before)
            except TimeoutException:
                self.fail(f"the page did not show the {kind} payment within {SHOWN_WITHIN} s of its acknowledgement")
            seen = time.monotonic() - acked
            in_page = int(self.driver.execute_script("return document.body.dataset.lastPaymentAt")) / 1000 - acked_wall
            # One script reads the row: the page may rebuild its tables from a fresh snapshot at any time.
            row = self.driver.execute_script(
                "const r = document.querySelector('#payments tr[data-seq=\"' + arguments[0] + '\"]'); return r ? r.innerText : null;",
                self.count())
            self.assertIsNotNone(row, "the payment's row")
            self.assertIn(kind, row)
            self.assertIn("1.5 USDC", row)
            print(f"{kind} payment: in the page {in_page * 1000:.0f} ms after the console's ack returned "
                  f"(negative: before), seen through WebDriver after {seen * 1000:.0f} ms", file=sys.stderr)

    def test_3_snapshot_keeps_atomic_units_as_strings(self):
        with urllib.request.urlopen(f"http://{self.nodes[0].http}/api/snapshot", timeout=30) as response:
            self.assertEqual(response.headers.get("Content-Type"), "application/json")
            snap = json.load(response)
        self.assertEqual(snap["node"]["id"], self.nodes[0].id)
        own = {c["channel"]: c for c in snap["channels"]}
        self.assertEqual(own[self.channels[0]]["deposit"], str(DEPOSIT))
        self.assertEqual(own[self.channels[0]]["depositText"], "50 USDC")
        self.assertEqual({c["id"] for c in snap["graph"]["channels"]}, set(self.channels))
        self.assertTrue(all(isinstance(c["capacity"], str) for c in snap["graph"]["channels"]))


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
