#!/usr/bin/env python3
"""Independent checks of what the Swift PaymeshPay402 module builds (Specs/http402.md), run by
PaymeshPay402Tests/PythonInteropTests: pymacaroons deserializes and verifies the Swift-minted L402
macaroon with the root key and its caveats; the x402 SDK (PyPI `x402`) parses the 402 body (v1),
the PAYMENT-REQUIRED header (v2), the client proof headers and the PAYMENT-RESPONSE receipt.

Usage: python3 scripts/http402/check_swift_outputs.py OUTPUTS.json   (exit 0: every check passed)
"""
import hashlib
import json
import sys

from pymacaroons import Macaroon, Verifier
from x402.http.utils import (decode_payment_required_header, decode_payment_response_header,
                             decode_payment_signature_header)
from x402.schemas import PaymentPayload, PaymentRequired, SettleResponse
from x402.schemas.helpers import parse_payment_required
from x402.schemas.v1 import PaymentPayloadV1, PaymentRequiredV1

checks = 0


def check(condition, what):
    global checks
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    checks += 1


def l402_verifier(service, now):
    v = Verifier()

    def services(predicate):
        if not predicate.startswith("services="):
            return False
        return service in [s.split(":")[0] for s in predicate[len("services="):].split(",")]

    def valid_until(predicate):
        if "_valid_until=" not in predicate:
            return False
        return now <= int(predicate.split("=", 1)[1])

    def capabilities(predicate):
        return "_capabilities=" in predicate

    v.satisfy_general(services)
    v.satisfy_general(valid_until)
    v.satisfy_general(capabilities)
    return v


def verifies(mac, root_key, service, now):
    try:
        return l402_verifier(service, now).verify(mac, root_key)
    except Exception:
        return False


def main(path):
    with open(path) as f:
        out = json.load(f)
    root_key = bytes.fromhex(out["root_key"])
    l402 = out["l402"]

    # pymacaroons reads the Swift macaroon in both encodings the Swift code emits.
    www = out["www_authenticate"]
    check(www.startswith('L402 macaroon="') and '", invoice="' in www, "WWW-Authenticate has the L402 form")
    header_b64 = www[len('L402 macaroon="'):www.index('"', len('L402 macaroon="'))]
    for encoded in (header_b64, l402["base64url"]):
        mac = Macaroon.deserialize(encoded)
        check(mac.identifier_bytes.hex() == l402["identifier"], "identifier round-trips")
        check([c.caveat_id_bytes.decode() for c in mac.caveats] == l402["caveats"], "caveats round-trip")
        check(mac.signature == l402["signature"], "signature round-trips")
        check(verifies(mac, root_key, l402["service"], l402["now"]), "pymacaroons verifies the Swift macaroon")
        check(not verifies(mac, bytes(32), l402["service"], l402["now"]), "a wrong root key fails")
        check(not verifies(mac, root_key, l402["service"], l402["valid_until"] + 1), "an expired token fails")
        check(not verifies(mac, root_key, "other-service", l402["now"]), "another service fails")
    ident = bytes.fromhex(l402["identifier"])
    check(ident[:2] == b"\x00\x00" and len(ident) == 66, "identifier is version 0, 66 bytes")
    check(hashlib.sha256(bytes.fromhex(l402["preimage"])).digest() == ident[2:34], "payment hash is SHA-256(preimage)")
    # The Authorization value the Swift client builds carries the same macaroon and the preimage.
    auth = out["authorization"]
    check(auth.startswith("L402 "), "Authorization is L402")
    mac_part, preimage = auth[5:].rsplit(":", 1)
    check(preimage == l402["preimage"], "Authorization carries the preimage")
    check(Macaroon.deserialize(mac_part).signature == l402["signature"], "Authorization carries the macaroon")

    # The x402 SDK parses the v1 body and the v2 header.
    v1 = parse_payment_required(out["body"].encode())
    check(isinstance(v1, PaymentRequiredV1), "body is an x402 v1 PaymentRequired")
    r1 = v1.accepts[0]
    expected = out["requirements"]
    check(r1.scheme == "paymesh-channel" and r1.network == expected["network"], "v1 scheme and network")
    check(r1.max_amount_required == expected["amount"] and r1.pay_to == expected["payTo"], "v1 amount and payTo")
    check(r1.asset == expected["asset"] and r1.extra["decimals"] == expected["decimals"], "v1 asset and extra")
    check(v1.error and v1.error.startswith("1301 "), "v1 error names the code")
    v2 = decode_payment_required_header(out["payment_required"])
    check(isinstance(v2, PaymentRequired) and v2.x402_version == 2, "PAYMENT-REQUIRED is x402 v2")
    r2 = v2.accepts[0]
    check(r2.amount == expected["amount"] and r2.pay_to == expected["payTo"], "v2 amount and payTo")
    check(r2.network == expected["network"] and r2.extra["chainId"] == expected["chainId"], "v2 network and extra")
    check(v2.resource is not None and v2.resource.url == expected["resource"], "v2 resource")

    # Client proof headers built by Swift are what the SDK expects of a payload.
    p1 = decode_payment_signature_header(out["x_payment"])
    check(isinstance(p1, PaymentPayloadV1) and p1.scheme == "paymesh-channel", "X-PAYMENT is an x402 v1 payload")
    check(p1.payload["nonce"] == out["voucher"]["nonce"], "v1 payload carries the voucher")
    p2 = decode_payment_signature_header(out["payment_signature"])
    check(isinstance(p2, PaymentPayload) and p2.accepted.pay_to == expected["payTo"], "PAYMENT-SIGNATURE is x402 v2")
    check(p2.payload["signature"] == out["voucher"]["signature"], "v2 payload carries the signature")

    # The receipt header is an x402 SettleResponse.
    s = decode_payment_response_header(out["payment_response"])
    check(isinstance(s, SettleResponse) and s.success, "PAYMENT-RESPONSE is a successful SettleResponse")
    check(s.network == expected["network"] and s.payer == out["voucher"]["payer"], "receipt network and payer")
    check(s.amount == out["voucher"]["increment"] and s.extra["nonce"] == out["voucher"]["nonce"], "receipt amount")

    print(f"http402 python checks: {checks} passed")


if __name__ == "__main__":
    main(sys.argv[1])
