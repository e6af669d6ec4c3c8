#!/usr/bin/env python3
"""Generates Specs/vectors/onion.json: a 3-hop Sphinx onion with Paymesh hop payloads, each
hop's peeling, a failure from the second hop, and malformed payloads (Specs/onion.md).

An implementation independent of PaymeshOnion: secp256k1 arithmetic written here in pure
Python, ChaCha20 from pycryptodome, HMAC/SHA-256 from the standard library, msgpack from the
`msgpack` package (packb(use_bin_type=True), the canonical form of Specs/messages.md §3).
It is first checked against the BOLT 4 vector in Tests/Vectors/bolt04/.
Usage: pip install pycryptodome msgpack && python3 scripts/vectors/gen_onion_vectors.py
"""
import hashlib
import hmac
import json
import os

import msgpack
from Crypto.Cipher import ChaCha20

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
OUT = os.path.join(ROOT, "Specs", "vectors", "onion.json")

# secp256k1 (SEC 2 §2.4.1)
P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)


def add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0:
        return None
    if a == b:
        lam = 3 * a[0] * a[0] * pow(2 * a[1], P - 2, P) % P
    else:
        lam = (b[1] - a[1]) * pow(b[0] - a[0], P - 2, P) % P
    x = (lam * lam - a[0] - b[0]) % P
    return (x, (lam * (a[0] - x) - a[1]) % P)


def mul(k, pt):
    r = None
    while k:
        if k & 1:
            r = add(r, pt)
        pt = add(pt, pt)
        k >>= 1
    return r


def ser(pt):
    return bytes([2 + (pt[1] & 1)]) + pt[0].to_bytes(32, "big")


def parse(b):
    x = int.from_bytes(b[1:], "big")
    y = pow((x * x * x + 7) % P, (P + 1) // 4, P)
    if (y & 1) != (b[0] & 1):
        y = P - y
    return (x, y)


def sha256(b):
    return hashlib.sha256(b).digest()


def ecdh(k, pt):
    return sha256(ser(mul(k, pt)))


def key(kind, secret):
    return hmac.new(kind.encode(), secret, hashlib.sha256).digest()


def stream(k, n):
    return ChaCha20.new(key=k, nonce=bytes(12)).encrypt(bytes(n))


def xor(a, b):
    return bytes(x ^ y for x, y in zip(a, b))


def bigsize(n):
    if n < 0xFD:
        return bytes([n])
    if n <= 0xFFFF:
        return b"\xfd" + n.to_bytes(2, "big")
    if n <= 0xFFFFFFFF:
        return b"\xfe" + n.to_bytes(4, "big")
    return b"\xff" + n.to_bytes(8, "big")


LEN = 1300


def build(session_key, hops, ad):
    """hops: [(pubkey point, payload bytes)] -> (packet, shared secrets, ephemeral pubkeys)."""
    e = int.from_bytes(session_key, "big")
    secrets, ephemerals = [], []
    for pub, _ in hops:
        E = mul(e, G)
        ss = ecdh(e, pub)
        ephemerals.append(ser(E))
        secrets.append(ss)
        e = e * int.from_bytes(sha256(ser(E) + ss), "big") % N
    sizes = [len(bigsize(len(p))) + len(p) + 32 for _, p in hops]
    filler = b""
    for i in range(len(hops) - 1):
        start = LEN - sum(sizes[:i])
        filler += bytes(sizes[i])
        filler = xor(filler, stream(key("rho", secrets[i]), 2 * LEN)[start:LEN + sizes[i]])
    mix = stream(key("pad", session_key), LEN)
    nxt = bytes(32)
    for i in reversed(range(len(hops))):
        frame = bigsize(len(hops[i][1])) + hops[i][1] + nxt
        mix = (frame + mix)[:LEN]
        mix = xor(mix, stream(key("rho", secrets[i]), LEN))
        if i == len(hops) - 1:
            mix = mix[:LEN - len(filler)] + filler
        nxt = hmac.new(key("mu", secrets[i]), mix + ad, hashlib.sha256).digest()
    return bytes([0]) + ephemerals[0] + mix + nxt, secrets, ephemerals


def peel(packet, priv, ad):
    assert packet[0] == 0 and len(packet) == 1366
    E, mix, mac = packet[1:34], packet[34:34 + LEN], packet[34 + LEN:]
    ss = ecdh(priv, parse(E))
    assert hmac.compare_digest(hmac.new(key("mu", ss), mix + ad, hashlib.sha256).digest(), mac)
    plain = xor(mix + bytes(LEN), stream(key("rho", ss), 2 * LEN))
    n, w = plain[0], 1
    if n >= 0xFD:
        w = {0xFD: 3, 0xFE: 5, 0xFF: 9}[n]
        n = int.from_bytes(plain[1:w], "big")
    payload, nxt = plain[w:w + n], plain[w + n:w + n + 32]
    if nxt == bytes(32):
        return payload, None, ss
    blind = int.from_bytes(sha256(E + ss), "big")
    return payload, bytes([0]) + ser(mul(blind, parse(E))) + plain[w + n + 32:w + n + 32 + LEN] + nxt, ss


def failure(ss, message):
    pad = max(0, 256 - len(message))
    body = len(message).to_bytes(2, "big") + message + pad.to_bytes(2, "big") + bytes(pad)
    pkt = hmac.new(key("um", ss), body, hashlib.sha256).digest() + body
    return xor(pkt, stream(key("ammag", ss), len(pkt)))


def wrap(pkt, ss):
    return xor(pkt, stream(key("ammag", ss), len(pkt)))


def check_bolt04():
    with open(os.path.join(ROOT, "Tests", "Vectors", "bolt04", "bolt04-onion-test.json")) as f:
        v = json.load(f)
    hops = []
    for h in v["generate"]["hops"]:
        p = bytes.fromhex(h["payload"])
        w = 1 if p[0] < 0xFD else {0xFD: 3, 0xFE: 5, 0xFF: 9}[p[0]]
        hops.append((parse(bytes.fromhex(h["pubkey"])), p[w:]))
    ad = bytes.fromhex(v["generate"]["associated_data"])
    pkt, _, _ = build(bytes.fromhex(v["generate"]["session_key"]), hops, ad)
    assert pkt.hex() == v["onion"], "BOLT 4 construction vector"
    for i, priv in enumerate(v["decode"]):
        payload, pkt, _ = peel(pkt, int(priv, 16), ad)
        assert payload == hops[i][1]


def packb(obj):
    return msgpack.packb(obj, use_bin_type=True)


def main():
    check_bolt04()
    privs = [sha256(b"paymesh onion vector hop %d" % i) for i in range(3)]
    session_key = sha256(b"paymesh onion vector session key")
    preimage = sha256(b"paymesh onion vector preimage")
    payment_hash = sha256(preimage)
    ch1, ch2 = sha256(b"channel A-B"), sha256(b"channel B-C")
    t0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z, unix ms
    final_amount = 18446744073709551616000  # above 2^64: amounts are uint128 decimal strings
    # Hop A forwards to B on ch1, B forwards to C on ch2; B charges 1000 + 100 ppm, expiry delta 40 min.
    fee_b = 1000 + final_amount * 100 // 1_000_000
    payloads = [
        {"c": ch1, "a": str(final_amount + fee_b), "e": t0 + 80 * 60_000},
        {"c": ch2, "a": str(final_amount), "e": t0 + 40 * 60_000},
        {"a": str(final_amount), "e": t0 + 40 * 60_000, "t": str(final_amount), "h": payment_hash, "p": preimage},
    ]
    encoded = [packb(p) for p in payloads]
    pubs = [mul(int.from_bytes(k, "big"), G) for k in privs]
    packet, secrets, ephemerals = build(session_key, list(zip(pubs, encoded)), payment_hash)

    hops, pkt = [], packet
    for i in range(3):
        payload, nxt, ss = peel(pkt, int.from_bytes(privs[i], "big"), payment_hash)
        assert payload == encoded[i] and ss == secrets[i]
        shown = {k: (v.hex() if isinstance(v, bytes) else v) for k, v in payloads[i].items()}
        hops.append({
            "private_key": privs[i].hex(), "public_key": ser(pubs[i]).hex(),
            "ephemeral_key": ephemerals[i].hex(), "shared_secret": secrets[i].hex(),
            "payload": shown, "payload_hex": encoded[i].hex(),
            "next_onion": nxt.hex() if nxt else None,
        })
        pkt = nxt

    # The second hop (index 1) cannot add the HTLC on ch2: TEMPORARY_CHANNEL_FAILURE (1408), data = ch2.
    message = (1408).to_bytes(2, "big") + ch2
    from_hop = failure(secrets[1], message)
    at_origin = wrap(from_hop, secrets[0])

    # A uint64 (0xcf) encoding of expiry 1, which canonical msgpack writes as a fixint.
    nonshort = bytes([0x83]) + packb({"c": ch1, "a": "5"})[1:] + packb("e") + b"\xcf" + (1).to_bytes(8, "big")
    invalid = [
        ("not a map", packb([1, 2])),
        ("forward payload with an extra key", packb({"c": ch1, "a": "5", "e": 1, "x": 0})),
        ("keys out of order", packb({"a": "5", "c": ch1, "e": 1})),
        ("channel id of 31 bytes", packb({"c": ch1[:31], "a": "5", "e": 1})),
        ("amount zero", packb({"c": ch1, "a": "0", "e": 1})),
        ("amount with a leading zero", packb({"c": ch1, "a": "05", "e": 1})),
        ("amount as an integer", packb({"c": ch1, "a": 5, "e": 1})),
        ("amount above 2^128 - 1", packb({"c": ch1, "a": str(2**128), "e": 1})),
        ("expiry zero", packb({"c": ch1, "a": "5", "e": 0})),
        ("expiry not in its shortest form", nonshort),
        ("final amount above total", packb({"a": "6", "e": 1, "t": "5", "h": payment_hash})),
        ("final payload without a hash", packb({"a": "5", "e": 1, "t": "5"})),
        ("preimage that does not hash to h", packb({"a": "5", "e": 1, "t": "5", "h": payment_hash, "p": ch1})),
        ("string key that is not a field", packb({"a": "5", "e": 1, "t": "5", "h": payment_hash, "q": ch1})),
        ("truncated", encoded[0][:-1]),
        ("trailing byte", encoded[2] + b"\x00"),
    ]

    doc = {
        "comment": "Paymesh onion (Specs/onion.md): a 3-hop route A -> B -> C with Paymesh payloads; "
                   "associated_data is the payment hash. Generated by scripts/vectors/gen_onion_vectors.py "
                   "(pure-Python secp256k1, pycryptodome ChaCha20, msgpack), checked first against BOLT 4.",
        "session_key": session_key.hex(),
        "associated_data": payment_hash.hex(),
        "preimage": preimage.hex(),
        "hops": hops,
        "onion": packet.hex(),
        "failure": {
            "hop_index": 1, "code": 1408, "data": ch2.hex(), "message": message.hex(),
            "packet_from_failing_hop": from_hop.hex(), "packet_at_origin": at_origin.hex(),
        },
        "invalid_payloads": [{"why": why, "hex": b.hex()} for why, b in invalid],
    }
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
