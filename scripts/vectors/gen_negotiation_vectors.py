#!/usr/bin/env python3
"""Generates Specs/vectors/negotiation.json: the signed negotiation steps and SLA violation
statements of Specs/negotiation.md (EIP-712 `NegotiationStep` and `SLAViolation` in the chainless
domain), signed with eth-account, and the wire frames of signed NEGOTIATE_* messages encoded with
Python msgpack: implementations independent of the Swift code.

Usage: pip install eth-account msgpack && python3 scripts/vectors/gen_negotiation_vectors.py [--check]
  --check: regenerate in memory and exit 1 if the file differs (what CI runs).
"""
import json
import os
import struct
import sys

import msgpack
from eth_account import Account
from eth_account._utils.encode_typed_data.encoding_and_hashing import hash_type
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Specs", "vectors", "negotiation.json")
DOMAIN = [("name", "string"), ("version", "string")]
STEP = [("negotiationId", "bytes16"), ("step", "uint8"), ("round", "uint32"), ("buyer", "address"), ("seller", "address"),
        ("service", "string"), ("price", "uint256"), ("unit", "string"), ("asset", "string"), ("decimals", "uint8"),
        ("deposit", "uint256"), ("latencyP99Ms", "uint32"), ("errorRateBps", "uint32"), ("term", "uint32"),
        ("expiresAt", "uint64"), ("offerSignatureHash", "bytes32"), ("timestamp", "uint64")]
VIOLATION = [("negotiationId", "bytes16"), ("seller", "address"), ("buyer", "address"), ("service", "string"),
             ("metric", "uint8"), ("agreed", "uint32"), ("measured", "uint32"), ("samples", "uint32"),
             ("windowStart", "uint64"), ("windowEnd", "uint64"), ("sequence", "uint64"), ("agreementHash", "bytes32")]
BUYER = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
SELLER = "8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f"
T = 1767225600000


def address_of(key):
    return Account.from_key(bytes.fromhex(key)).address.lower()[2:]


def signed(primary, members, message, key):
    types = {"EIP712Domain": [{"name": n, "type": t} for n, t in DOMAIN], primary: [{"name": n, "type": t} for n, t in members]}
    full = {"types": types, "primaryType": primary, "domain": {"name": "Paymesh", "version": "1"}, "message": message}
    signable = encode_typed_data(full_message=full)
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    sig = bytes(Account.sign_typed_data(bytes.fromhex(key), full_message=full).signature)
    assert sig[64] in (27, 28)
    return {"type_hash": hash_type(primary, types).hex(), "struct_hash": signable.body.hex(), "digest": digest.hex(),
            "private_key": key, "address": address_of(key), "signature": sig.hex()}


def step_vector(description, step, rnd, terms, offer_sig, timestamp, key):
    t = terms
    message = {"negotiationId": bytes.fromhex(t["negotiation_id"]), "step": step, "round": rnd,
               "buyer": to_checksum_address("0x" + t["buyer"]), "seller": to_checksum_address("0x" + t["seller"]),
               "service": t["service"], "price": int(t["price"]), "unit": t["unit"], "asset": t["asset"],
               "decimals": t["decimals"], "deposit": int(t["deposit"]), "latencyP99Ms": t["latency_p99_ms"],
               "errorRateBps": t["error_rate_bps"], "term": t["term"], "expiresAt": t["expires_at"],
               "offerSignatureHash": keccak(bytes.fromhex(offer_sig)) if offer_sig else bytes(32), "timestamp": timestamp}
    v = {"description": description, "step": step, "round": rnd, "terms": dict(t), "offer_signature": offer_sig,
         "timestamp": timestamp}
    v.update(signed("NegotiationStep", STEP, message, key))
    return v


def frame(msg_type, data):
    payload = msgpack.packb({"v": 1, "type": msg_type, "data": data}, use_bin_type=True)
    return (struct.pack(">I", len(payload)) + payload).hex()


def main():
    terms = {"negotiation_id": "0123456789abcdef0123456789abcdef", "buyer": address_of(BUYER), "seller": address_of(SELLER),
             "service": "echo", "price": "120", "unit": "call", "asset": "USDC", "decimals": 6, "deposit": "5000",
             "latency_p99_ms": 500, "error_rate_bps": 100, "term": 2592000, "expires_at": T + 300000}
    propose = step_vector("proposal, round 0, signed by the buyer", 9, 0, terms, None, T, BUYER)
    countered = dict(terms, price="340282366920938463463374607431768211455", deposit="18446744073709551616",
                     latency_p99_ms=86400000, error_rate_bps=10000, term=1, service="résumé ✓")
    counter = step_vector("counter, round 1, by the seller: amounts above 2^64, non-ASCII service", 10, 1, countered, None, T + 10, SELLER)
    accept = step_vector("accept of the proposal by the seller: covers keccak256 of the proposal's signature", 11, 0, terms,
                         propose["signature"], T + 20, SELLER)
    reject = step_vector("reject at round 1 by the buyer", 12, 1, countered, None, T + 30, BUYER)

    b = bytes.fromhex
    frames = [
        {"description": "signed NEGOTIATE_PROPOSE with every Paymesh field", "type": 9, "frame_hex": frame(9, {
            "negotiation_id": b(terms["negotiation_id"]), "service_type": "echo", "proposed_price": "120", "asset": "USDC",
            "decimals": 6, "channel_deposit": "5000", "timeout": 300, "timestamp": T, "unit": "call", "latency_p99_ms": 500,
            "error_rate_bps": 100, "term": 2592000, "signature": b(propose["signature"])})},
        {"description": "signed NEGOTIATE_COUNTER", "type": 10, "frame_hex": frame(10, {
            "negotiation_id": b(terms["negotiation_id"]), "counter_price": countered["price"], "timestamp": T + 10, "round": 1,
            "channel_deposit": countered["deposit"], "latency_p99_ms": 86400000, "error_rate_bps": 10000, "term": 1,
            "signature": b(counter["signature"])})},
        {"description": "signed NEGOTIATE_ACCEPT", "type": 11, "frame_hex": frame(11, {
            "negotiation_id": b(terms["negotiation_id"]), "timestamp": T + 20, "round": 0, "signature": b(accept["signature"])})},
        {"description": "signed NEGOTIATE_REJECT", "type": 12, "frame_hex": frame(12, {
            "negotiation_id": b(terms["negotiation_id"]), "reason": "too dear", "timestamp": T + 30, "round": 1,
            "signature": b(reject["signature"])})},
    ]

    agreement_hash = keccak(b(propose["signature"]) + b(accept["signature"]))
    statement = {"negotiation_id": terms["negotiation_id"], "seller": address_of(SELLER), "buyer": address_of(BUYER),
                 "service": "echo", "metric": 1, "agreed": 500, "measured": 912, "samples": 100, "window_start": T + 1000,
                 "window_end": T + 61000, "sequence": 1, "agreement_hash": agreement_hash.hex()}
    violation = {"description": "p99 latency 912 ms over the agreed 500 ms, the agreement above", "statement": statement}
    violation.update(signed("SLAViolation", VIOLATION, {
        "negotiationId": b(statement["negotiation_id"]), "seller": to_checksum_address("0x" + statement["seller"]),
        "buyer": to_checksum_address("0x" + statement["buyer"]), "service": "echo", "metric": 1, "agreed": 500, "measured": 912,
        "samples": 100, "windowStart": statement["window_start"], "windowEnd": statement["window_end"], "sequence": 1,
        "agreementHash": agreement_hash}, SELLER))

    out = {"domain": {"name": "Paymesh", "version": "1"}, "steps": [propose, counter, accept, reject], "frames": frames,
           "violations": [violation]}
    text = json.dumps(out, indent=1, ensure_ascii=False) + "\n"
    if "--check" in sys.argv:
        with open(OUT, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit(f"{OUT} is not what {__file__} generates: run it and commit the result")
        return
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
