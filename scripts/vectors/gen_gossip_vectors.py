#!/usr/bin/env python3
"""Generates Specs/vectors/gossip.json: frames of /paymesh/gossip/1 and signed gossip messages
(Specs/gossip.md), made with Python msgpack, eth-account and eth-keys, independent of the Swift code.

Usage: python3 scripts/vectors/gen_gossip_vectors.py

- frames[]: {name, type, data (bin as hex), hex} — a conforming implementation decodes `hex`
  (length prefix included) to exactly that frame and encodes the frame to exactly `hex`.
- messages[]: {description, private_key, origin, topic, kind, timestamp, payload (bin as hex,
  amounts decimal str), body_hex, signing_digest, signature, id}. eth-account signs with RFC 6979
  nonces, so a conforming signer reproduces `signature` byte for byte.
- invalid_frames[]: {description, hex, expected} — `expected` is the error kind (gossip.md §3.1, §5).
"""
import json
import os
import struct

import msgpack
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data
from eth_keys import keys as eth_keys
from eth_utils import keccak, to_checksum_address

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Specs", "vectors", "gossip.json")
KEYS = [
    "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
    "8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f",
    bytes(range(1, 33)).hex(),
]
T = 1767225600000
TAG = b"paymesh-gossip-1:"
TOPICS = {1: "paymesh/channels/1", 2: "paymesh/channels/1", 3: "paymesh/nodes/1", 4: "paymesh/services/1"}
ANNOUNCEMENT = [("channelId", "bytes32"), ("peerA", "address"), ("peerB", "address"), ("capacity", "uint256"),
                ("asset", "string"), ("decimals", "uint8"), ("feeBase", "uint256"), ("feePpm", "uint32"),
                ("expiryDelta", "uint64"), ("timestamp", "uint64")]
BIN_KEYS = {"channel_id", "peer_a", "peer_b", "signature_a", "signature_b", "onion_key", "origin", "body", "signature"}


def address_of(key_hex):
    return Account.from_key(bytes.fromhex(key_hex)).address.lower()[2:]


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def wire(fields):
    """JSON fields (bin as hex) to msgpack-ready values, keeping key order."""
    out = {}
    for k, v in fields.items():
        if k in BIN_KEYS:
            out[k] = bytes.fromhex(v)
        elif k == "ids":
            out[k] = [bytes.fromhex(x) for x in v]
        elif k == "announce":
            out[k] = wire(v)
        else:
            out[k] = v
    return out


def framed(payload):
    return struct.pack(">I", len(payload)) + payload


def frame(type_id, data):
    return framed(pack({"v": 1, "type": type_id, "data": wire(data)}))


def signed_announce(ka, kb):
    (pa, ka), (pb, kb) = sorted([(address_of(ka), ka), (address_of(kb), kb)])
    f = {"channel_id": keccak(b"gossip-channel-1").hex(), "peer_a": pa, "peer_b": pb, "capacity": "5000000",
         "asset": "USDC", "decimals": 6, "fee_base": "1", "fee_ppm": 100, "expiry_delta": 600000, "timestamp": T}
    cs = lambda h: to_checksum_address("0x" + h)
    msg = {"channelId": bytes.fromhex(f["channel_id"]), "peerA": cs(pa), "peerB": cs(pb), "capacity": 5000000,
           "asset": "USDC", "decimals": 6, "feeBase": 1, "feePpm": 100, "expiryDelta": 600000, "timestamp": T}
    full = {"types": {"EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"}],
                      "ChannelAnnouncement": [{"name": n, "type": t} for n, t in ANNOUNCEMENT]},
            "primaryType": "ChannelAnnouncement", "domain": {"name": "Paymesh", "version": "1"}, "message": msg}
    f["signature_a"] = bytes(Account.sign_typed_data(bytes.fromhex(ka), full_message=full).signature).hex()
    f["signature_b"] = bytes(Account.sign_typed_data(bytes.fromhex(kb), full_message=full).signature).hex()
    return f


def message(description, key, kind, payload, timestamp=T):
    origin = address_of(key)
    body = pack({"v": 1, "topic": TOPICS[kind], "origin": bytes.fromhex(origin), "timestamp": timestamp,
                 "kind": kind, "payload": wire(payload)})
    signable = encode_defunct(primitive=TAG + body)
    signed = Account.sign_message(signable, private_key=bytes.fromhex(key))
    sig = bytes(signed.signature)
    assert len(sig) == 65 and sig[64] in (27, 28)
    assert Account.recover_message(signable, signature=sig).lower()[2:] == origin
    return {"description": description, "private_key": key, "origin": origin, "topic": TOPICS[kind], "kind": kind,
            "timestamp": timestamp, "payload": payload, "body_hex": body.hex(),
            "signing_digest": bytes(signed.message_hash).hex(), "signature": sig.hex(), "id": keccak(body).hex()}


def main():
    k0, k1, k2 = KEYS
    onion = eth_keys.PrivateKey(keccak(b"onion-key-0")).public_key.to_compressed_bytes().hex()
    announce = signed_announce(k0, k1)
    messages = [
        message("channel announce, published by peer_a", sorted([k0, k1], key=address_of)[0], 1, announce),
        message("channel update from one end", k1, 2,
                {"channel_id": announce["channel_id"], "fee_base": "2", "fee_ppm": 250, "htlc_min": "1",
                 "htlc_max": "5000000", "expiry_delta": 600000, "enabled": True}, T + 20000),
        message("node announcement", k2, 3,
                {"alias": "alice ☕", "addresses": ["127.0.0.1:9735", "[::1]:9735"],
                 "features": ["payments/1", "gossip/1"], "onion_key": onion}),
        message("service, per token, HTTP endpoint and agent card", k2, 4,
                {"name": "llm-inference", "description": "chat completions", "unit": "token", "price": "15",
                 "asset": "USDC", "decimals": 6, "endpoint": "https://alice.example/v1",
                 "agent_card": "https://alice.example/.well-known/agent.json", "expires": T + 86400000}),
        message("service, per call over the mesh, price above 2^64", k0, 4,
                {"name": "translate", "description": "", "unit": "call", "price": str(2**64 + 1), "asset": "ETH",
                 "decimals": 18, "endpoint": "mesh", "expires": T + 3600000}),
        message("service withdrawal (expires = timestamp)", k0, 4,
                {"name": "translate", "description": "", "unit": "call", "price": "0", "asset": "ETH",
                 "decimals": 18, "endpoint": "mesh", "expires": T + 60000}, T + 60000),
    ]
    ids = [m["id"] for m in messages[:3]]
    frames = []

    def add(name, type_id, data):
        frames.append({"name": name, "type": type_id, "data": data, "hex": frame(type_id, data).hex()})

    add("subscribe", 1, {"topic": "paymesh/channels/1"})
    add("unsubscribe", 2, {"topic": "paymesh/services/1"})
    add("publish", 3, {"body": messages[2]["body_hex"], "signature": messages[2]["signature"]})
    add("ihave", 4, {"topic": "paymesh/channels/1", "ids": ids})
    add("iwant", 5, {"ids": ids[:1]})
    add("graft", 6, {"topic": "paymesh/nodes/1"})
    add("prune", 7, {"topic": "paymesh/nodes/1", "backoff": 60})
    add("announce_signatures (complete)", 8, {"announce": announce})
    # A payer's proposal (gossip.md §7.5): the other end's slot holds the placeholder r = s = 1, v = 27.
    placeholder = "00" * 31 + "01" + "00" * 31 + "01" + "1b"
    proposal = dict(announce)
    proposal["signature_b"] = placeholder
    add("announce_signatures (proposal)", 8, {"announce": proposal})
    # Graph sync (gossip.md §8.5).
    add("sync_request", 9, {"limit": 20000})
    add("sync_message", 10, {"body": messages[0]["body_hex"], "signature": messages[0]["signature"]})
    add("sync_end", 11, {"count": 1})

    def raw(obj):
        return framed(pack(obj)).hex()

    pub = {"body": bytes.fromhex(messages[2]["body_hex"]), "signature": bytes.fromhex(messages[2]["signature"])}
    bad_sig = bytes.fromhex(messages[3]["signature"])  # a valid signature, of another body
    invalid = [
        {"description": "length 0", "hex": "00000000", "expected": "badFrameLength"},
        {"description": "length 65537", "hex": "00010001", "expected": "badFrameLength"},
        {"description": "not msgpack", "hex": framed(b"\xc1").hex(), "expected": "malformedFrame"},
        {"description": "envelope is an array", "hex": raw([1, 1, {}]), "expected": "malformedFrame"},
        {"description": "version 2", "hex": raw({"v": 2, "type": 1, "data": {"topic": "t"}}), "expected": "unsupportedVersion"},
        {"description": "announce_signatures without announce", "hex": raw({"v": 1, "type": 8, "data": {}}), "expected": "malformedFrame"},
        {"description": "announce_signatures with peer_a > peer_b",
         "hex": raw({"v": 1, "type": 8, "data": {"announce": dict(wire(announce), peer_a=bytes.fromhex(announce["peer_b"]), peer_b=bytes.fromhex(announce["peer_a"]))}}),
         "expected": "malformedFrame"},
        {"description": "type 12", "hex": raw({"v": 1, "type": 12, "data": {}}), "expected": "unknownFrameType"},
        {"description": "sync_request with limit 0", "hex": raw({"v": 1, "type": 9, "data": {"limit": 0}}), "expected": "malformedFrame"},
        {"description": "sync_end without count", "hex": raw({"v": 1, "type": 11, "data": {}}), "expected": "malformedFrame"},
        {"description": "topic with a space", "hex": raw({"v": 1, "type": 1, "data": {"topic": "a b"}}), "expected": "malformedFrame"},
        {"description": "topic 65 bytes", "hex": raw({"v": 1, "type": 6, "data": {"topic": "t" * 65}}), "expected": "malformedFrame"},
        {"description": "prune backoff 0", "hex": raw({"v": 1, "type": 7, "data": {"topic": "t", "backoff": 0}}), "expected": "malformedFrame"},
        {"description": "ihave with no ids", "hex": raw({"v": 1, "type": 4, "data": {"topic": "t", "ids": []}}), "expected": "malformedFrame"},
        {"description": "iwant id of 31 bytes", "hex": raw({"v": 1, "type": 5, "data": {"ids": [bytes(31)]}}), "expected": "malformedFrame"},
        {"description": "iwant with 501 ids", "hex": raw({"v": 1, "type": 5, "data": {"ids": [bytes(32)] * 501}}), "expected": "malformedFrame"},
        {"description": "duplicate key", "hex": framed(b"\x83\xa1v\x01\xa4type\x01\xa4data\x82\xa5topic\xa1a\xa5topic\xa1b").hex(), "expected": "malformedFrame"},
        {"description": "publish signature with v = 29", "hex": raw({"v": 1, "type": 3, "data": {"body": pub["body"], "signature": pub["signature"][:64] + b"\x1d"}}), "expected": "malformedFrame"},
        {"description": "publish body kind 3 on the services topic",
         "hex": raw({"v": 1, "type": 3, "data": {"body": pack({"v": 1, "topic": "paymesh/services/1", "origin": bytes(20), "timestamp": T, "kind": 3, "payload": {}}), "signature": pub["signature"]}}),
         "expected": "malformedMessage"},
        {"description": "publish body with a float timestamp",
         "hex": raw({"v": 1, "type": 3, "data": {"body": pack({"v": 1, "topic": "paymesh/nodes/1", "origin": bytes(20), "timestamp": 1.5, "kind": 3, "payload": {}}), "signature": pub["signature"]}}),
         "expected": "malformedMessage"},
        {"description": "publish: valid body, signature of another body", "hex": raw({"v": 1, "type": 3, "data": {"body": pub["body"], "signature": bad_sig}}), "expected": "invalidSignature"},
    ]
    tolerated = [
        {"description": "unknown keys in envelope and data, wide integers",
         "hex": framed(pack({"x": [1, 2], "v": 1, "type": 6, "data": {"topic": "paymesh/nodes/1", "extra": None}})).hex(),
         "canonical_hex": frame(6, {"topic": "paymesh/nodes/1"}).hex()},
        {"description": "uint32 backoff",
         "hex": framed(b"\x83\xa1v\x01\xa4type\x07\xa4data\x82\xa5topic\xafpaymesh/nodes/1\xa7backoff\xce\x00\x00\x00\x3c").hex(),
         "canonical_hex": frame(7, {"topic": "paymesh/nodes/1", "backoff": 60}).hex()},
    ]
    out = {
        "description": "Frames and signed messages of /paymesh/gossip/1 (Specs/gossip.md), made with Python msgpack and eth-account",
        "generator": "scripts/vectors/gen_gossip_vectors.py",
        "signing_tag": TAG.decode(),
        "frames": frames,
        "tolerated": tolerated,
        "messages": messages,
        "invalid_frames": invalid,
    }
    with open(OUT, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=2, ensure_ascii=False)
        fh.write("\n")


if __name__ == "__main__":
    main()
