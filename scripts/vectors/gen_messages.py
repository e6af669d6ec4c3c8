#!/usr/bin/env python3
"""Generates Specs/vectors/messages.json with the Python `msgpack` package (an encoder
independent of msgpack-c), so that the Swift tests cross-check two implementations.

Usage: pip install msgpack && python3 scripts/vectors/gen_messages.py
Canonical form (Specs/messages.md §3.3): keys in the documented order, absent optionals
omitted, smallest integer encodings, str as str (fixstr/str8/16/32), bytes as bin
(use_bin_type=True).
"""
import json
import os
import struct

import msgpack

# Field order and kind per message type, exactly as Specs/messages.md lists them.
# kinds: bin (hex in JSON), str, uint, bool, amount (decimal str on the wire and in JSON).
SCHEMAS = {
    1: ("PAYMENT_OPEN", [("channel_id", "bin"), ("sender", "bin"), ("receiver", "bin"), ("asset", "str"),
                         ("decimals", "uint"), ("total_deposit", "amount"), ("challenge_period", "uint"),
                         ("settlement", "str"), ("chain_id", "uint"), ("verifying_contract", "bin"),
                         ("nonce", "uint"), ("timestamp", "uint"), ("signature", "bin")]),
    2: ("PAYMENT_UPDATE", [("channel_id", "bin"), ("nonce", "uint"), ("amount", "amount"), ("timestamp", "uint"),
                           ("task_id", "str"), ("locks", "locks"), ("signature", "bin")]),
    3: ("PAYMENT_CLOSE", [("channel_id", "bin"), ("final_nonce", "uint"), ("final_amount", "amount"),
                          ("cooperative", "bool"), ("timestamp", "uint"), ("signature", "bin"),
                          ("counter_signature", "bin")]),
    4: ("PAYMENT_ACK", [("channel_id", "bin"), ("nonce", "uint"), ("status", "str"), ("reason", "str"),
                        ("error_code", "uint"), ("acks", "acks")]),
    5: ("HTLC_PROPOSE", [("channel_id", "bin"), ("htlc_id", "bin"), ("payment_hash", "bin"), ("amount", "amount"),
                         ("expiry", "uint"), ("onion", "bin"), ("nonce", "uint"), ("voucher_amount", "amount"),
                         ("locks", "locks"), ("timestamp", "uint"), ("signature", "bin")]),
    6: ("HTLC_FULFILL", [("channel_id", "bin"), ("htlc_id", "bin"), ("preimage", "bin"), ("timestamp", "uint")]),
    7: ("HTLC_CANCEL", [("channel_id", "bin"), ("htlc_id", "bin"), ("reason", "uint"), ("failure", "bin"),
                        ("timestamp", "uint")]),
    8: ("CHANNEL_ANNOUNCE", [("channel_id", "bin"), ("peer_a", "bin"), ("peer_b", "bin"), ("capacity", "amount"),
                             ("asset", "str"), ("decimals", "uint"), ("fee_base", "amount"), ("fee_ppm", "uint"),
                             ("expiry_delta", "uint"), ("timestamp", "uint"), ("signature_a", "bin"),
                             ("signature_b", "bin")]),
    9: ("NEGOTIATE_PROPOSE", [("negotiation_id", "bin"), ("service_type", "str"), ("proposed_price", "amount"),
                              ("asset", "str"), ("decimals", "uint"), ("channel_deposit", "amount"),
                              ("timeout", "uint"), ("timestamp", "uint")]),
    10: ("NEGOTIATE_COUNTER", [("negotiation_id", "bin"), ("counter_price", "amount"), ("timestamp", "uint")]),
    11: ("NEGOTIATE_ACCEPT", [("negotiation_id", "bin"), ("timestamp", "uint")]),
    12: ("NEGOTIATE_REJECT", [("negotiation_id", "bin"), ("reason", "str"), ("timestamp", "uint")]),
    15: ("ERROR", [("code", "uint"), ("message", "str"), ("ref_type", "uint")]),
}

CHANNEL = bytes(range(32)).hex()
CHANNEL2 = bytes(range(32, 64)).hex()
CHANNEL3 = ("c3" * 32)
ALICE = ("11" * 20)
BOB = ("22" * 20)
CAROL = ("33" * 20)
ZERO_ADDR = "00" * 20
CONTRACT = "5fbdb2315678afecb367f032d93f642f64180aa3"
SIG_A = "a1" * 32 + "3c" * 32 + "1b"        # v = 27, s in the lower half
SIG_B = "b2" * 32 + "4d" * 32 + "1c"        # v = 28
HTLC = "f0" * 16
NEG = "0123456789abcdef0123456789abcdef"
PREIMAGE = "42" * 32
PAYMENT_HASH = "7c" * 32  # opaque here; SHA-256(preimage) is checked by the HTLC layer, not the codec
ONION = bytes((i * 7 + 3) % 256 for i in range(1366)).hex()  # the whole Sphinx packet (onion.md §2)
HTLC2 = "f1" * 16
T = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms
MAX_AMOUNT = str(2**128 - 1)

VALID = [
    (1, dict(channel_id=CHANNEL, sender=ALICE, receiver=BOB, asset="USDC", decimals=6, total_deposit="100000000",
             challenge_period=3600, settlement="local-ledger", chain_id=0, verifying_contract=ZERO_ADDR, nonce=0,
             timestamp=T, signature=SIG_A)),
    (1, dict(channel_id=CHANNEL, sender=ALICE, receiver=BOB, asset="ETH", decimals=18,
             total_deposit="1000000000000000000", challenge_period=86400, settlement="eip155-escrow",
             chain_id=84532, verifying_contract=CONTRACT, nonce=7, timestamp=T, signature=SIG_A)),
    (2, dict(channel_id=CHANNEL, nonce=1, amount="250", timestamp=T + 1, signature=SIG_A)),
    (2, dict(channel_id=CHANNEL, nonce=300, amount=MAX_AMOUNT, timestamp=T + 2, task_id="task-7f3a: résumé ✓",
             signature=SIG_A)),
    (3, dict(channel_id=CHANNEL, final_nonce=300, final_amount="75000", cooperative=False, timestamp=T + 3,
             signature=SIG_B)),
    (3, dict(channel_id=CHANNEL, final_nonce=300, final_amount="75000", cooperative=True, timestamp=T + 3,
             signature=SIG_B, counter_signature=SIG_A)),
    (4, dict(channel_id=CHANNEL, nonce=1, status="accepted")),
    (4, dict(channel_id=CHANNEL, nonce=2, status="rejected", reason="nonce not increasing", error_code=1105)),
    (5, dict(channel_id=CHANNEL, htlc_id=HTLC, payment_hash=PAYMENT_HASH, amount="1000", expiry=T + 600_000,
             onion=ONION, nonce=4, voucher_amount="1250", locks=[], timestamp=T + 4, signature=SIG_A)),
    (6, dict(channel_id=CHANNEL, htlc_id=HTLC, preimage=PREIMAGE, timestamp=T + 5)),
    (7, dict(channel_id=CHANNEL, htlc_id=HTLC, reason=1401, failure="", timestamp=T + 6)),
    (7, dict(channel_id=CHANNEL, htlc_id=HTLC, reason=1403, failure=("e5" * 300), timestamp=T + 6)),
    (8, dict(channel_id=CHANNEL, peer_a=ALICE, peer_b=BOB, capacity="5000000", asset="USDC", decimals=6,
             fee_base="1", fee_ppm=100, expiry_delta=600_000, timestamp=T + 7, signature_a=SIG_A,
             signature_b=SIG_B)),
    (9, dict(negotiation_id=NEG, service_type="llm-inference/gpt", proposed_price="2500", asset="USDC", decimals=6,
             channel_deposit="1000000", timeout=300, timestamp=T + 8)),
    (10, dict(negotiation_id=NEG, counter_price="3000", timestamp=T + 9)),
    (11, dict(negotiation_id=NEG, timestamp=T + 10)),
    (12, dict(negotiation_id=NEG, reason="price too low", timestamp=T + 11)),
    (12, dict(negotiation_id=NEG, reason="", timestamp=T + 11)),
    (15, dict(code=1500, message="unsupported message type 99", ref_type=99)),
    (15, dict(code=1100, message="Insufficient funds in channel")),
    # A coalesced acknowledgement (messages.md §4.4.1, /paymesh/payments/2): CHANNEL at nonce 9, then
    # CHANNEL2 at 7 and CHANNEL3 at 2^32 (a uint32 nonce).
    (4, dict(channel_id=CHANNEL, nonce=9, status="accepted", acks=[[CHANNEL2, 7], [CHANNEL3, 2**32]])),
    # HTLCs (messages.md §4.5, §4.2, /paymesh/payments/3): a conditional voucher that also keeps HTLC2
    # locked (amount above 2^64), and the payer's conditional PAYMENT_UPDATE answering a fulfil.
    (5, dict(channel_id=CHANNEL, htlc_id=HTLC, payment_hash=PAYMENT_HASH, amount=str(2**64 + 5), expiry=T + 600_000,
             onion=ONION, nonce=2**63 - 1, voucher_amount=str(2**65), locks=[HTLC2], timestamp=T + 4, signature=SIG_A)),
    (2, dict(channel_id=CHANNEL, nonce=301, amount="1500", timestamp=T + 12, locks=[HTLC, HTLC2], signature=SIG_A)),
]


def wire_fields(type_id, fields):
    """JSON fields -> ordered dict of msgpack values, in schema order."""
    _, schema = SCHEMAS[type_id]
    known = {k for k, _ in schema}
    assert set(fields) <= known, set(fields) - known
    out = {}
    for key, kind in schema:
        if key not in fields:
            continue
        v = fields[key]
        if kind == "bin":
            v = bytes.fromhex(v)
        elif kind == "locks":  # [htlc_id hex, ...] -> [bin(16), ...]
            v = [bytes.fromhex(x) for x in v]
        elif kind == "acks":  # [[channel_id hex, nonce], ...] -> [[bin(32), uint], ...]
            v = [[bytes.fromhex(c), n] for c, n in v]
        out[key] = v
    return out


def envelope(type_id, data, v=1):
    return {"v": v, "type": type_id, "data": data}


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def frame_of(type_id, fields):
    return frame(pack(envelope(type_id, wire_fields(type_id, fields))))


def with_field(type_id, base, **changes):
    d = wire_fields(type_id, base)
    for k, v in changes.items():
        if v is DELETE:
            del d[k]
        else:
            d[k] = v
    return frame(pack(envelope(type_id, d)))


DELETE = object()
UPDATE = VALID[2][1]
OPEN = VALID[0][1]
ANNOUNCE = VALID[12][1]


def invalid():
    cases = []

    def add(desc, fr, code):
        cases.append({"description": desc, "frame_hex": fr.hex(), "expected_error_code": code})

    add("zero length prefix", b"\x00\x00\x00\x00", 1501)
    add("length prefix 1048577 (over 1 MiB)", struct.pack(">I", 1_048_577), 1501)
    add("length prefix 0xffffffff", b"\xff\xff\xff\xff" + b"\x00" * 8, 1501)
    add("envelope is an array, not a map", frame(pack([1, 2, {}])), 1501)
    add("envelope is a str", frame(pack("hello")), 1501)
    add("unknown message type 99", frame(pack(envelope(99, {}))), 1500)
    add("unknown message type 13 (unassigned)", frame(pack(envelope(13, {"x": 1}))), 1500)
    add("schema version 2", frame(pack(envelope(2, wire_fields(2, UPDATE), v=2))), 1505)
    add("missing v", frame(pack({"type": 2, "data": wire_fields(2, UPDATE)})), 1501)
    add("missing type", frame(pack({"v": 1, "data": {}})), 1501)
    add("missing data", frame(pack({"v": 1, "type": 2})), 1501)
    add("data is an array", frame(pack({"v": 1, "type": 2, "data": []})), 1501)
    add("type is a str", frame(pack({"v": 1, "type": "2", "data": {}})), 1501)
    add("negative type", frame(pack({"v": 1, "type": -2, "data": {}})), 1501)
    add("PAYMENT_UPDATE missing signature", with_field(2, UPDATE, signature=DELETE), 1501)
    add("PAYMENT_OPEN missing total_deposit", with_field(1, OPEN, total_deposit=DELETE), 1501)
    add("amount with a leading zero \"01\"", with_field(2, UPDATE, amount="01"), 1501)
    add("negative amount \"-1\"", with_field(2, UPDATE, amount="-1"), 1501)
    add("fractional amount \"1.5\"", with_field(2, UPDATE, amount="1.5"), 1501)
    add("amount of 40 digits", with_field(2, UPDATE, amount="1" + "0" * 39), 1501)
    add("amount 2^128 (39 digits, overflows)", with_field(2, UPDATE, amount=str(2**128)), 1501)
    add("empty amount", with_field(2, UPDATE, amount=""), 1501)
    add("amount with a space", with_field(2, UPDATE, amount=" 5"), 1501)
    add("amount as uint instead of str", with_field(2, UPDATE, amount=250), 1501)
    add("amount as float", with_field(2, UPDATE, amount=250.0), 1501)
    add("channel_id of 31 bytes", with_field(2, UPDATE, channel_id=bytes(31)), 1501)
    add("channel_id of 33 bytes", with_field(2, UPDATE, channel_id=bytes(33)), 1501)
    add("channel_id as str", with_field(2, UPDATE, channel_id=CHANNEL), 1501)
    add("signature of 64 bytes", with_field(2, UPDATE, signature=bytes.fromhex(SIG_A)[:64]), 1501)
    add("signature with v = 0", with_field(2, UPDATE, signature=bytes.fromhex(SIG_A[:-2] + "00")), 1501)
    add("signature with high s (EIP-2)", with_field(2, UPDATE, signature=bytes.fromhex("a1" * 32 + "ff" * 32 + "1b")),
        1501)
    add("float where uint expected (nonce 1.0)", with_field(2, UPDATE, nonce=1.0), 1501)
    add("negative nonce", with_field(2, UPDATE, nonce=-1), 1501)
    add("PAYMENT_UPDATE nonce 0", with_field(2, UPDATE, nonce=0), 1501)
    add("task_id of 129 bytes", with_field(2, UPDATE, task_id="x" * 129), 1501)
    add("task_id empty", with_field(2, UPDATE, task_id=""), 1501)
    add("asset id of 33 bytes", with_field(1, OPEN, asset="A" * 33), 1501)
    add("decimals 37", with_field(1, OPEN, decimals=37), 1501)
    add("challenge_period 0", with_field(1, OPEN, challenge_period=0), 1501)
    add("peer_a not less than peer_b", with_field(8, ANNOUNCE, peer_a=bytes.fromhex(CAROL)), 1501)
    add("fee_ppm over 1000000", with_field(8, ANNOUNCE, fee_ppm=1_000_001), 1501)
    add("onion of 1300 bytes (the payload area alone)", with_field(5, VALID[8][1], onion=bytes(1300)), 1501)
    add("onion of 1367 bytes", with_field(5, VALID[8][1], onion=bytes(1367)), 1501)
    add("HTLC_PROPOSE without a signature", with_field(5, VALID[8][1], signature=DELETE), 1501)
    add("HTLC_PROPOSE without locks", with_field(5, VALID[8][1], locks=DELETE), 1501)
    add("HTLC_PROPOSE nonce 0", with_field(5, VALID[8][1], nonce=0), 1501)
    add("HTLC_PROPOSE nonce 2^63", with_field(5, VALID[8][1], nonce=2**63), 1501)
    add("HTLC_PROPOSE voucher_amount below amount", with_field(5, VALID[8][1], voucher_amount="999"), 1501)
    add("HTLC_PROPOSE locks naming its own htlc_id", with_field(5, VALID[8][1], locks=[bytes.fromhex(HTLC)]), 1501)
    add("HTLC_PROPOSE locks repeating an id", with_field(5, VALID[8][1], locks=[bytes.fromhex(HTLC2)] * 2), 1501)
    add("HTLC_PROPOSE locks entry of 15 bytes", with_field(5, VALID[8][1], locks=[bytes(15)]), 1501)
    add("HTLC_PROPOSE with 483 other locks (limit 482)",
        with_field(5, VALID[8][1], locks=[i.to_bytes(16, "big") for i in range(1, 484)]), 1501)
    add("PAYMENT_UPDATE with an empty locks array", with_field(2, UPDATE, locks=[]), 1501)
    add("PAYMENT_UPDATE with locks and task_id", with_field(2, UPDATE, locks=[bytes.fromhex(HTLC)], task_id="t"), 1501)
    add("HTLC amount 0", with_field(5, VALID[8][1], amount="0"), 1501)
    add("ACK status \"maybe\"", with_field(4, VALID[6][1], status="maybe"), 1501)
    add("ACK accepted with error_code", with_field(4, VALID[6][1], error_code=1100), 1501)
    entry = [bytes.fromhex(CHANNEL2), 7]
    add("ACK rejected with acks", with_field(4, VALID[7][1], acks=[entry]), 1501)
    add("ACK with an empty acks array", with_field(4, VALID[6][1], acks=[]), 1501)
    add("ACK with 1024 acks entries (limit 1023)", with_field(4, VALID[6][1], acks=[entry] * 1024), 1501)
    add("ACK acks entry with a 31-byte channel_id", with_field(4, VALID[6][1], acks=[[bytes(31), 7]]), 1501)
    add("ACK acks entry of 3 elements", with_field(4, VALID[6][1], acks=[entry + [1]]), 1501)
    add("ACK acks entry with a negative nonce", with_field(4, VALID[6][1], acks=[[bytes.fromhex(CHANNEL2), -1]]), 1501)
    add("ACK acks as a map", with_field(4, VALID[6][1], acks={"a": 1}), 1501)
    add("close with counter_signature but not cooperative",
        with_field(3, VALID[4][1], counter_signature=bytes.fromhex(SIG_A)), 1501)
    add("ERROR code 999", with_field(15, VALID[18][1], code=999), 1501)
    add("ERROR message of 1025 bytes", with_field(15, VALID[18][1], message="m" * 1025), 1501)
    add("cooperative as uint", with_field(3, VALID[4][1], cooperative=1), 1501)
    # Byte-level damage inside a well-formed frame.
    good = pack(envelope(11, wire_fields(11, VALID[15][1])))
    add("trailing byte after the envelope", frame(good + b"\xc0"), 1501)
    add("truncated envelope", frame(good[:-3]), 1501)
    add("reserved byte 0xc1", frame(b"\xc1"), 1501)
    bad_utf8 = pack(envelope(12, {"negotiation_id": bytes.fromhex(NEG), "reason": "ab", "timestamp": T}))
    bad_utf8 = bad_utf8.replace(b"\xa2ab", b"\xa2\xc3\x28")
    add("invalid UTF-8 in a str", frame(bad_utf8), 1501)
    add("array32 declaring 2^32-1 items in 5 bytes", frame(b"\xdd\xff\xff\xff\xff"), 1501)
    add("map32 declaring 2^32-1 pairs", frame(b"\xdf\xff\xff\xff\xff\xc0"), 1501)
    add("bin32 declaring 4 GiB", frame(b"\xc6\xff\xff\xff\xff\x00"), 1501)
    add("nesting 40 deep", frame(b"\x91" * 40 + b"\xc0"), 1501)
    dup = (b"\x83" + pack("v") + pack(1) + pack("type") + pack(11) + pack("data") +
           b"\x83" + pack("negotiation_id") + pack(bytes.fromhex(NEG)) + pack("timestamp") + pack(T) +
           pack("timestamp") + pack(T + 1))
    add("duplicate key in data", frame(dup), 1501)
    return cases


def tolerated():
    """Frames that are not canonical but valid: they decode to `fields`, and re-encode to the
    canonical frame."""
    out = []
    accept = VALID[15][1]

    def add(desc, type_id, fields, fr):
        out.append({"description": desc, "type": type_id, "name": SCHEMAS[type_id][0], "fields": fields,
                    "frame_hex": fr.hex(), "canonical_frame_hex": frame_of(type_id, fields).hex()})

    data = wire_fields(11, accept)
    data["x_future"] = {"nested": [1, 2.5, None]}
    data[7] = "non-str key"
    env = {"data": data, "extra": True, "type": 11, "v": 1}
    add("unknown keys in envelope and data, keys out of order", 11, accept, frame(pack(env)))
    # timestamp as uint64 (0xcf) instead of its smallest encoding; v as uint8.
    raw = (b"\x83" + pack("v") + b"\xcc\x01" + pack("type") + b"\xcd\x00\x0b" + pack("data") +
           b"\x82" + pack("negotiation_id") + pack(bytes.fromhex(NEG)) + pack("timestamp") +
           b"\xcf" + struct.pack(">Q", accept["timestamp"]))
    add("non-minimal integer encodings", 11, accept, frame(raw))
    upd = VALID[2][1]
    d = wire_fields(2, upd)
    d["task_id"] = None
    add("optional field present as nil", 2, upd, frame(pack(envelope(2, d))))
    return out


def main():
    valid = []
    for type_id, fields in VALID:
        name, _ = SCHEMAS[type_id]
        valid.append({"type": type_id, "name": name, "fields": fields, "frame_hex": frame_of(type_id, fields).hex()})
    assert {v["type"] for v in valid} == set(SCHEMAS), "every type needs a vector"
    doc = {
        "description": "Paymesh payment-stream frames (Specs/messages.md). Generated by "
                       "scripts/vectors/gen_messages.py with Python msgpack " + ".".join(map(str, msgpack.version)) +
                       ". valid: decode to fields and encode back to frame_hex exactly. tolerated: decode to "
                       "fields, re-encode to canonical_frame_hex. invalid: the decoder answers expected_error_code. "
                       "In fields, bins are lowercase hex and amounts decimal strings.",
        "schema_version": 1,
        "valid": valid,
        "tolerated": tolerated(),
        "invalid": invalid(),
    }
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "Specs", "vectors", "messages.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {path}: {len(valid)} valid, {len(doc['tolerated'])} tolerated, {len(doc['invalid'])} invalid")


if __name__ == "__main__":
    main()
