#!/usr/bin/env python3
"""Generates Specs/vectors/htlc.json: EIP-712 `ConditionalVoucher` signatures (Specs/messages.md
§5.7) made with eth-account, independent of the Swift code, and the claim rule of §5.8 applied to
them (what the local ledger pays the payee).

Usage: pip install eth-account && python3 scripts/vectors/gen_htlc_vectors.py

Each vector: `domain` (chainId, verifyingContract as lowercase hex), `voucher` (channel_id, nonce,
amount, timestamp, locks[] each {htlc_id, payment_hash, amount, expiry}; bin as lowercase hex,
amounts as decimal str), `type_hash`, `lock_type_hash`, `struct_hash`, `digest`, `signer`
{private_key, address}, `signature` (r ‖ s ‖ v, v ∈ {27, 28}, RFC 6979), and `claims[]`:
{description, preimages (hex, one per lock or null), at (claim time, ms), claimable (decimal str)}.
"""
import hashlib
import json
import os

from eth_account import Account
from eth_account._utils.encode_typed_data.encoding_and_hashing import hash_type
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Specs", "vectors", "htlc.json")
DOMAIN = [("name", "string"), ("version", "string"), ("chainId", "uint256"), ("verifyingContract", "address")]
VOUCHER = [("channelId", "bytes32"), ("nonce", "uint64"), ("amount", "uint256"), ("timestamp", "uint64"),
           ("locks", "Lock[]")]
LOCK = [("htlcId", "bytes16"), ("paymentHash", "bytes32"), ("amount", "uint256"), ("expiry", "uint64")]
KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
T = 1767225600000


def preimage(i):
    return bytes([i]) * 32


def lock(i, amount, expiry):
    return {"htlc_id": (bytes([0xf0 + i]) * 16).hex(), "payment_hash": hashlib.sha256(preimage(i)).hexdigest(),
            "amount": str(amount), "expiry": expiry}


def claimable(voucher, preimages, at):
    """§5.8: amount minus every lock without a matching preimage shown before its expiry."""
    total = int(voucher["amount"])
    for l, p in zip(voucher["locks"], preimages):
        ok = p is not None and hashlib.sha256(bytes.fromhex(p)).hexdigest() == l["payment_hash"] and at < l["expiry"]
        if not ok:
            total -= int(l["amount"])
    return str(total)


def vector(description, chain_id, contract, voucher, claims):
    domain = {"name": "Paymesh", "version": "1", "chainId": chain_id,
              "verifyingContract": to_checksum_address("0x" + contract)}
    types = {"EIP712Domain": [{"name": n, "type": t} for n, t in DOMAIN],
             "ConditionalVoucher": [{"name": n, "type": t} for n, t in VOUCHER],
             "Lock": [{"name": n, "type": t} for n, t in LOCK]}
    message = {"channelId": bytes.fromhex(voucher["channel_id"]), "nonce": voucher["nonce"],
               "amount": int(voucher["amount"]), "timestamp": voucher["timestamp"],
               "locks": [{"htlcId": bytes.fromhex(l["htlc_id"]), "paymentHash": bytes.fromhex(l["payment_hash"]),
                          "amount": int(l["amount"]), "expiry": l["expiry"]} for l in voucher["locks"]]}
    full = {"types": types, "primaryType": "ConditionalVoucher", "domain": domain, "message": message}
    signable = encode_typed_data(full_message=full)
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    signed = Account.sign_typed_data(bytes.fromhex(KEY), full_message=full)
    sig = bytes(signed.signature)
    assert bytes(signed.message_hash) == digest and sig[64] in (27, 28)
    address = Account.from_key(bytes.fromhex(KEY)).address.lower()[2:]
    assert Account.recover_message(signable, signature=sig).lower()[2:] == address
    return {
        "description": description,
        "domain": {"chainId": chain_id, "verifyingContract": contract},
        "voucher": voucher,
        "type_hash": hash_type("ConditionalVoucher", types).hex(),
        "lock_type_hash": hash_type("Lock", types).hex(),
        "struct_hash": signable.body.hex(),
        "digest": digest.hex(),
        "signer": {"private_key": KEY, "address": address},
        "signature": sig.hex(),
        "claims": [{"description": d, "preimages": p, "at": at, "claimable": claimable(voucher, p, at)}
                   for d, p, at in claims],
    }


def main():
    cid = keccak(b"htlc-channel").hex()
    one = {"channel_id": cid, "nonce": 4, "amount": "1250", "timestamp": T + 4,
           "locks": [lock(1, 1000, T + 600_000)]}
    big = 2**64 + 5
    two = {"channel_id": cid, "nonce": 2**63 - 1, "amount": str(2**65), "timestamp": T + 9,
           "locks": [lock(2, 7, T + 300_000), lock(1, big, T + 600_000)]}
    vectors = [
        vector("one lock, chainId 0, no contract", 0, "00" * 20, one, [
            ("preimage shown before expiry", [preimage(1).hex()], T + 599_999),
            ("no preimage", [None], T + 10),
            ("preimage shown at expiry (too late)", [preimage(1).hex()], T + 600_000),
            ("wrong preimage", [preimage(9).hex()], T + 10),
        ]),
        vector("two locks, amounts above 2^64, nonce 2^63 - 1, chainId 84532 with a contract", 84532,
               "5fbdb2315678afecb367f032d93f642f64180aa3", two, [
            ("both preimages", [preimage(2).hex(), preimage(1).hex()], T + 10),
            ("only the second lock's preimage", [None, preimage(1).hex()], T + 10),
            ("first lock expired, second shown", [preimage(2).hex(), preimage(1).hex()], T + 300_000),
            ("none", [None, None], T + 10),
        ]),
    ]
    with open(OUT, "w") as f:
        json.dump({"vectors": vectors}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {os.path.abspath(OUT)}: {len(vectors)} vectors")


if __name__ == "__main__":
    main()
