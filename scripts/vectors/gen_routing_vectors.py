#!/usr/bin/env python3
"""Generates Specs/vectors/invoice.json and Specs/vectors/routing.json independently of the Swift
code: invoices with Python msgpack, base64 (RFC 4648 base32) and eth-account (EIP-191 signatures,
RFC 6979 nonces, so a conforming signer reproduces each signature byte for byte); routes with a
direct Python transcription of Specs/routing.md §3 (backwards Dijkstra, integer fee, risk).

Usage: python3 scripts/vectors/gen_routing_vectors.py [--check]
  --check: regenerate in memory and exit 1 if the files differ (what CI can run).

invoice.json
- valid[]: {description, private_key, payee, payment_hash, amount|null, asset, decimals, memo, created,
  expiry, min_final_expiry, route_hints[], body_hex, signing_digest, signature, invoice, now}
- invalid[]: {description, invoice, now, expected} — expected is the error kind of invoice.md §4.
routing.json
- graph[]: directed edges {channel, from, to, capacity, fee_base, fee_ppm, htlc_min, htlc_max, expiry_delta, enabled}
  (nodes and channels are small integers: node i is 19 zero bytes then i; channel i is 31 zero bytes then i)
- parameters: {max_hops, max_total_expiry, risk_ppm_per_hour}
- queries[]: {description, source, target, amount, now, final_expiry_delta, expected: null (no route) or
  {hops: [{node, channel, amount, expiry, fee}], cost}}
"""
import base64
import heapq
import json
import os
import sys

import msgpack
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_utils import keccak

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "Specs", "vectors")
KEYS = [
    "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
    "8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f",
]
TAG = b"paymesh-invoice-1:"
PREFIX = "pminv1"
T = 1767225600000


def address(key_hex):
    return bytes.fromhex(Account.from_key(bytes.fromhex(key_hex)).address[2:])


def body(fields):
    """fields: an ordered dict of wire values (invoice.md §2)."""
    return msgpack.packb(fields, use_bin_type=True)


def sign(key_hex, body_bytes):
    """EIP-191 personal_sign over TAG ‖ body: (digest, 65-byte signature r ‖ s ‖ v, v ∈ {27, 28})."""
    data = TAG + body_bytes
    digest = keccak(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)
    signed = Account.sign_message(encode_defunct(primitive=data), private_key=bytes.fromhex(key_hex))
    assert signed.message_hash == digest
    return digest, bytes(signed.signature)


def b32(data):
    return base64.b32encode(data).decode().rstrip("=").lower()


def wire_fields(payee, payment_hash, amount, asset, decimals, memo, created, expiry, min_final, hints):
    f = {"v": 1, "payee": payee, "payment_hash": payment_hash}
    if amount is not None:
        f["amount"] = amount
    f.update({"asset": asset, "decimals": decimals, "memo": memo, "created": created, "expiry": expiry,
              "min_final_expiry": min_final})
    if hints:
        f["route_hints"] = [{"node": bytes.fromhex(h["node"]), "channel_id": bytes.fromhex(h["channel_id"]),
                             "fee_base": h["fee_base"], "fee_ppm": h["fee_ppm"], "expiry_delta": h["expiry_delta"],
                             "htlc_min": h["htlc_min"], "htlc_max": h["htlc_max"]} for h in hints]
    return f


def invoices():
    valid, invalid = [], []
    cases = [
        ("1 USDC, a memo, no hints", KEYS[0], "1000000", "USDC", 6, "coffee ☕", 3_600_000, 3_600_000, []),
        ("no amount (the payer chooses), empty memo", KEYS[1], None, "ETH", 18, "", 86_400_000, 600_000, []),
        ("two route hints", KEYS[0], "250", "USDC", 6, "api call 42", 600_000, 3_600_000, [
            {"node": "00" * 19 + "07", "channel_id": "ab" * 32, "fee_base": "1", "fee_ppm": 100, "expiry_delta": 60_000,
             "htlc_min": "1", "htlc_max": "1000000"},
            {"node": "00" * 19 + "08", "channel_id": "cd" * 32, "fee_base": "0", "fee_ppm": 0, "expiry_delta": 90_000,
             "htlc_min": "0", "htlc_max": "5000"},
        ]),
    ]
    for i, (desc, key, amount, asset, decimals, memo, expiry, min_final, hints) in enumerate(cases):
        payee = address(key)
        payment_hash = bytes([0x10 + i]) * 32
        b = body(wire_fields(payee, payment_hash, amount, asset, decimals, memo, T, expiry, min_final, hints))
        digest, sig = sign(key, b)
        valid.append({
            "description": desc, "private_key": key, "payee": payee.hex(), "payment_hash": payment_hash.hex(),
            "amount": amount, "asset": asset, "decimals": decimals, "memo": memo, "created": T, "expiry": expiry,
            "min_final_expiry": min_final, "route_hints": hints, "body_hex": b.hex(), "signing_digest": digest.hex(),
            "signature": sig.hex(), "invoice": PREFIX + b32(b + sig), "now": T + 1,
        })

    good = valid[0]
    good_raw = bytes.fromhex(good["body_hex"]) + bytes.fromhex(good["signature"])
    payee0 = address(KEYS[0])

    def signed_with(fields, key=KEYS[0]):
        b = body(fields)
        return PREFIX + b32(b + sign(key, b)[1])

    base = wire_fields(payee0, b"\x10" * 32, "1000000", "USDC", 6, "coffee", T, 3_600_000, 3_600_000, [])
    reordered = dict(base)
    reordered = {"payee": reordered.pop("payee"), **reordered}
    unknown = dict(base, extra=1)
    v2 = dict(base, v=2)
    zero = dict(base, amount="0")
    leading = dict(base, amount="0100")
    big_memo = dict(base, memo="m" * 257)
    tampered = bytearray(good_raw)
    memo_at = tampered.find("coffee".encode())
    tampered[memo_at] ^= 0x20  # 'c' -> 'C'
    odd_bits = PREFIX + b32(good_raw)[:-1] + "7"  # last character with non-zero trailing bits
    invalid += [
        {"description": "another prefix", "invoice": "lnbc1" + b32(good_raw), "now": T + 1, "expected": "invoice_wrong_prefix"},
        {"description": "version in the prefix", "invoice": "pminv2" + b32(good_raw), "now": T + 1, "expected": "invoice_wrong_prefix"},
        {"description": "longer than 2048 characters", "invoice": PREFIX + "a" * 2043, "now": T + 1, "expected": "invoice_too_long"},
        {"description": "signed by a key that is not the payee", "invoice": signed_with(base, KEYS[1]), "now": T + 1,
         "expected": "invoice_bad_signature"},
        {"description": "a memo byte changed after signing", "invoice": PREFIX + b32(bytes(tampered)), "now": T + 1,
         "expected": "invoice_bad_signature"},
        {"description": "expired: now = created + expiry", "invoice": good["invoice"], "now": T + 3_600_000,
         "expected": "invoice_expired"},
        {"description": "mixed case", "invoice": good["invoice"][:10] + good["invoice"][10:].upper(), "now": T + 1,
         "expected": "invoice_malformed"},
        {"description": "base32 with non-zero trailing bits", "invoice": odd_bits, "now": T + 1, "expected": "invoice_malformed"},
        {"description": "a character outside the base32 alphabet", "invoice": good["invoice"][:-3] + "1" + good["invoice"][-2:],
         "now": T + 1, "expected": "invoice_malformed"},
        {"description": "shorter than a signature", "invoice": PREFIX + b32(good_raw[-40:]), "now": T + 1, "expected": "invoice_malformed"},
        {"description": "keys out of order (signed)", "invoice": signed_with(reordered), "now": T + 1, "expected": "invoice_malformed"},
        {"description": "an unknown key (signed)", "invoice": signed_with(unknown), "now": T + 1, "expected": "invoice_malformed"},
        {"description": "version 2 (signed)", "invoice": signed_with(v2), "now": T + 1, "expected": "invoice_malformed"},
        {"description": "amount 0 (signed)", "invoice": signed_with(zero), "now": T + 1, "expected": "invoice_malformed"},
        {"description": "amount with a leading zero (signed)", "invoice": signed_with(leading), "now": T + 1, "expected": "invoice_malformed"},
        {"description": "memo of 257 bytes (signed)", "invoice": signed_with(big_memo), "now": T + 1, "expected": "invoice_malformed"},
    ]
    return {"valid": valid, "invalid": invalid}


# ---- routing.md §3, transcribed -------------------------------------------------------------

PPM = 1_000_000
HOUR = 3_600_000


def find_route(edges, params, source, target, amount, now, final_delta):
    incoming = {}
    for i, e in enumerate(edges):
        incoming.setdefault(e["to"], []).append(i)
    INF = None
    label = {target: (0, amount, final_delta, 0, None)}  # cost, amount, delta, hops, next edge
    settled = set()
    heap = [(0, target)]
    while heap:
        c, y = heapq.heappop(heap)
        if y in settled or c != label[y][0]:
            continue
        settled.add(y)
        if y == source:
            break
        cost_y, amount_y, delta_y, hops_y, _ = label[y]
        if hops_y >= params["max_hops"]:
            continue
        for i in incoming.get(y, []):
            e = edges[i]
            x = e["from"]
            if x in settled or not e["enabled"]:
                continue
            if amount_y < e["htlc_min"] or amount_y > e["htlc_max"] or amount_y > e["capacity"]:
                continue
            fee, added = (0, 0) if x == source else (e["fee_base"] + amount_y * e["fee_ppm"] // PPM, e["expiry_delta"])
            amount_x = amount_y + fee
            delta_x = delta_y + added
            if delta_x > params["max_total_expiry"]:
                continue
            risk = amount_x * added * params["risk_ppm_per_hour"] // (PPM * HOUR)
            cost_x = cost_y + fee + risk
            old = label.get(x)
            if old is None or cost_x < old[0] or (cost_x == old[0] and hops_y + 1 < old[3]):
                label[x] = (cost_x, amount_x, delta_x, hops_y + 1, i)
                heapq.heappush(heap, (cost_x, x))
    if source not in settled:
        return None
    hops = []
    node = source
    while node != target:
        e = edges[label[node][4]]
        y = e["to"]
        nxt = amount if y == target else label[edges[label[y][4]]["to"]][1]
        hops.append({"node": y, "channel": e["channel"], "amount": str(label[y][1]), "expiry": now + label[y][2],
                     "fee": str(label[y][1] - nxt)})
        node = y
    return {"hops": hops, "cost": str(label[source][0])}


def routing():
    def e(ch, a, b, base=0, ppm=0, delta=60_000, cap=10**9, lo=0, hi=10**9, enabled=True):
        return {"channel": ch, "from": a, "to": b, "capacity": cap, "fee_base": base, "fee_ppm": ppm, "htlc_min": lo,
                "htlc_max": hi, "expiry_delta": delta, "enabled": enabled}
    # 0 is the payer. Two ways to 9: through 1–2 (cheap but one channel small), through 3 (pricier),
    # through 4–5 (long expiry), a disabled shortcut 0 → 6 → 9, and 7 → 9 reachable only from 8.
    graph = [
        e(1, 0, 1), e(2, 1, 2, base=5, ppm=1_000, delta=120_000), e(3, 2, 9, base=3, ppm=500, delta=60_000, cap=50_000),
        e(4, 0, 3), e(5, 3, 9, base=40, ppm=2_000, delta=30_000),
        e(6, 0, 4), e(7, 4, 5, base=1, delta=600_000_000), e(8, 5, 9, base=1, delta=600_000_000),
        e(9, 0, 6), e(10, 6, 9, enabled=False),
        e(11, 8, 7), e(12, 7, 9, base=1),
        e(13, 1, 3, base=2, ppm=100, delta=45_000, lo=1_000),
    ]
    params = {"max_hops": 10, "max_total_expiry": 14 * 86_400_000, "risk_ppm_per_hour": 10}
    queries = []
    for desc, amount in [("10,000: fees through 1 and 2 (23) beat the long-expiry path's risk (2 + 32)", 10_000),
                         ("60,000: over channel 3's capacity, through 3", 60_000),
                         ("5,000,000: the long-expiry path's lock risk (16,666) outweighs its tiny fees", 5_000_000),
                         ("500: risk rounds to 0, the long-expiry path's fee of 2 wins", 500)]:
        queries.append({"description": desc, "source": 0, "target": 9, "amount": str(amount), "now": T,
                        "final_expiry_delta": 3_600_000,
                        "expected": find_route(graph, params, 0, 9, amount, T, 3_600_000)})
    queries.append({"description": "no path from 9 back to 0", "source": 9, "target": 0, "amount": "1", "now": T,
                    "final_expiry_delta": 3_600_000, "expected": find_route(graph, params, 9, 0, 1, T, 3_600_000)})
    return {"graph": graph, "parameters": params, "queries": queries}


def main():
    outputs = {"invoice.json": invoices(), "routing.json": routing()}
    check = "--check" in sys.argv
    stale = False
    for name, data in outputs.items():
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        path = os.path.join(ROOT, name)
        if check:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    print(f"{name} differs from the generator's output")
                    stale = True
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print(f"wrote {path}")
    sys.exit(1 if stale else 0)


if __name__ == "__main__":
    main()
