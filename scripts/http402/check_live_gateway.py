#!/usr/bin/env python3
"""Reads a live Paymesh gateway's 402 answer with the x402 SDK (PyPI `x402`), independent of the
Swift code: the v1 JSON body, the v2 PAYMENT-REQUIRED header, the error code and the CORS headers
(Specs/http402.md §3). Run by PaymeshNodeTests/GatewayTests against a node on loopback.

Usage: python3 scripts/http402/check_live_gateway.py http://127.0.0.1:PORT/<service>/…   (exit 0: passed)
"""
import sys
import urllib.error
import urllib.parse
import urllib.request

from x402.http.utils import decode_payment_required_header
from x402.schemas import PaymentRequired
from x402.schemas.helpers import parse_payment_required
from x402.schemas.v1 import PaymentRequiredV1

checks = 0


def check(condition, what):
    global checks
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    checks += 1


def main(url):
    host = urllib.parse.urlparse(url).hostname
    check(host is not None and host.startswith("127."), "loopback only")
    try:
        urllib.request.urlopen(urllib.request.Request(url), timeout=30)
        check(False, "an unpaid request is answered 402")
    except urllib.error.HTTPError as answer:
        check(answer.code == 402, f"status 402, got {answer.code}")
        headers, body = answer.headers, answer.read()
    check(headers.get("Paymesh-Error-Code") == "1301", "Paymesh-Error-Code 1301")
    check(headers.get("Access-Control-Allow-Origin") == "*", "CORS lets any origin read the challenge")
    check("PAYMENT-REQUIRED" in headers.get("Access-Control-Expose-Headers", ""), "CORS exposes PAYMENT-REQUIRED")

    v1 = parse_payment_required(body)
    check(isinstance(v1, PaymentRequiredV1), "the body is an x402 v1 PaymentRequired")
    check(v1.error.startswith("1301 "), "v1 error names the code")
    r1 = v1.accepts[0]
    check(r1.scheme == "paymesh-channel" and r1.network == "paymesh:local", "v1 scheme and network")
    check(r1.resource.startswith("http://127."), "v1 resource is the service's URL on the gateway")
    check(int(r1.max_amount_required) > 0 and r1.pay_to.startswith("0x"), "v1 price and payee")

    v2 = decode_payment_required_header(headers.get("PAYMENT-REQUIRED"))
    check(isinstance(v2, PaymentRequired) and v2.x402_version == 2, "PAYMENT-REQUIRED is x402 v2")
    r2 = v2.accepts[0]
    check(r2.amount == r1.max_amount_required and r2.pay_to == r1.pay_to, "v2 amount and payTo equal v1's")
    check(r2.extra["unit"] == "call" and r2.extra["chainId"] == "0", "v2 extra")
    check(v2.resource is not None and v2.resource.url == r1.resource, "v2 resource")
    print(f"live gateway checks: {checks} passed")


if __name__ == "__main__":
    main(sys.argv[1])
