#!/usr/bin/env python3
"""Generates Specs/vectors/signatures.json: EIP-712 signatures of the four signed Paymesh structs
(Specs/messages.md §5) made with eth-account, an implementation independent of the Swift code.

Usage: pip install eth-account && python3 scripts/vectors/gen_signature_vectors.py

Every vector gives the wire fields of the message (bin as lowercase hex, amounts as decimal str,
as in vectors/messages.json, without the signature fields), the EIP-712 domain, the type hash,
domain separator, struct hash and digest, and one entry per signature: its role (the wire field it
fills), the signer's private key and address and the 65-byte signature r ‖ s ‖ v (v ∈ {27, 28}).
eth-account signs with RFC 6979 nonces, so the signatures are reproducible byte for byte.
"""
import json
import os

from eth_account import Account
from eth_account._utils.encode_typed_data.encoding_and_hashing import hash_type
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Specs", "vectors", "signatures.json")

# Member lists exactly as Specs/messages.md §5 writes the structs.
DOMAIN_CHANNEL = [("name", "string"), ("version", "string"), ("chainId", "uint256"),
                  ("verifyingContract", "address")]
DOMAIN_ANNOUNCEMENT = [("name", "string"), ("version", "string")]
STRUCTS = {
    "ChannelOpen": [("channelId", "bytes32"), ("payer", "address"), ("payee", "address"), ("asset", "string"),
                    ("decimals", "uint8"), ("deposit", "uint256"), ("challengePeriod", "uint64"),
                    ("settlement", "string"), ("nonce", "uint64"), ("timestamp", "uint64")],
    "Voucher": [("channelId", "bytes32"), ("nonce", "uint64"), ("amount", "uint256"), ("timestamp", "uint64"),
                ("taskIdHash", "bytes32")],
    "ChannelClose": [("channelId", "bytes32"), ("finalNonce", "uint64"), ("finalAmount", "uint256"),
                     ("cooperative", "bool"), ("timestamp", "uint64")],
    "ChannelAnnouncement": [("channelId", "bytes32"), ("peerA", "address"), ("peerB", "address"),
                            ("capacity", "uint256"), ("asset", "string"), ("decimals", "uint8"),
                            ("feeBase", "uint256"), ("feePpm", "uint32"), ("expiryDelta", "uint64"),
                            ("timestamp", "uint64")],
}

# Fixed test keys (never use them for anything else). Key 1 is the eth-account docs' example key.
KEYS = [
    "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",
    "8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f",
    bytes(range(1, 33)).hex(),
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140",  # n − 1, the largest key
]
ZERO_ADDRESS = "00" * 20
CONTRACT = "5fbdb2315678afecb367f032d93f642f64180aa3"
U64_MAX = 2**64 - 1
U128_MAX = 2**128 - 1
T = 1767225600000


def address_of(key_hex):
    return Account.from_key(bytes.fromhex(key_hex)).address.lower()[2:]


def channel(seed):
    return keccak(seed.encode()).hex()


def domain_of(chain_id, contract_hex):
    if chain_id is None:
        return {"name": "Paymesh", "version": "1"}
    return {"name": "Paymesh", "version": "1", "chainId": chain_id,
            "verifyingContract": to_checksum_address("0x" + contract_hex)}


def eip712_message(struct, f):
    """The struct's member values from the wire fields, per the mapping tables of §5."""
    b = bytes.fromhex
    cs = lambda h: to_checksum_address("0x" + h)
    if struct == "ChannelOpen":
        return {"channelId": b(f["channel_id"]), "payer": cs(f["sender"]), "payee": cs(f["receiver"]),
                "asset": f["asset"], "decimals": f["decimals"], "deposit": int(f["total_deposit"]),
                "challengePeriod": f["challenge_period"], "settlement": f["settlement"], "nonce": f["nonce"],
                "timestamp": f["timestamp"]}
    if struct == "Voucher":
        task = f.get("task_id")
        task_hash = keccak(task.encode("utf-8")) if task is not None else bytes(32)
        return {"channelId": b(f["channel_id"]), "nonce": f["nonce"], "amount": int(f["amount"]),
                "timestamp": f["timestamp"], "taskIdHash": task_hash}
    if struct == "ChannelClose":
        return {"channelId": b(f["channel_id"]), "finalNonce": f["final_nonce"],
                "finalAmount": int(f["final_amount"]), "cooperative": f["cooperative"], "timestamp": f["timestamp"]}
    if struct == "ChannelAnnouncement":
        return {"channelId": b(f["channel_id"]), "peerA": cs(f["peer_a"]), "peerB": cs(f["peer_b"]),
                "capacity": int(f["capacity"]), "asset": f["asset"], "decimals": f["decimals"],
                "feeBase": int(f["fee_base"]), "feePpm": f["fee_ppm"], "expiryDelta": f["expiry_delta"],
                "timestamp": f["timestamp"]}
    raise ValueError(struct)


def vector(description, struct, fields, signers, chain_id=None, contract=ZERO_ADDRESS):
    """signers: [(role, key_hex)]."""
    domain = domain_of(chain_id, contract)
    domain_type = DOMAIN_ANNOUNCEMENT if chain_id is None else DOMAIN_CHANNEL
    types = {"EIP712Domain": [{"name": n, "type": t} for n, t in domain_type],
             struct: [{"name": n, "type": t} for n, t in STRUCTS[struct]]}
    full = {"types": types, "primaryType": struct, "domain": domain, "message": eip712_message(struct, fields)}
    signable = encode_typed_data(full_message=full)
    assert signable.version == b"\x01"
    digest = keccak(b"\x19" + signable.version + signable.header + signable.body)
    signatures = []
    for role, key in signers:
        signed = Account.sign_typed_data(bytes.fromhex(key), full_message=full)
        sig = bytes(signed.signature)
        assert len(sig) == 65 and sig[64] in (27, 28)
        assert bytes(signed.message_hash) == digest
        assert Account.recover_message(signable, signature=sig).lower()[2:] == address_of(key)
        signatures.append({"role": role, "private_key": key, "address": address_of(key), "signature": sig.hex()})
    json_domain = dict(domain)
    if "verifyingContract" in json_domain:
        json_domain["verifyingContract"] = contract
    return {
        "description": description,
        "struct": struct,
        "domain": json_domain,
        "fields": fields,
        "type_hash": hash_type(struct, types).hex(),
        "domain_separator": signable.header.hex(),
        "struct_hash": signable.body.hex(),
        "digest": digest.hex(),
        "signatures": signatures,
    }


def main():
    k0, k1, k2, k3 = KEYS
    vectors = []

    # ChannelOpen: signed by the payer (sender); the domain comes from the open's own chain fields.
    def open_fields(key, receiver, chain_id, contract, **over):
        f = {"channel_id": channel("open-1"), "sender": address_of(key), "receiver": receiver, "asset": "USDC",
             "decimals": 6, "total_deposit": "100000000", "challenge_period": 3600, "settlement": "local-ledger",
             "chain_id": chain_id, "verifying_contract": contract, "nonce": 0, "timestamp": T}
        f.update(over)
        return f

    vectors.append(vector("open, chain 1, no contract", "ChannelOpen",
                          open_fields(k0, address_of(k1), 1, ZERO_ADDRESS), [("signature", k0)], 1, ZERO_ADDRESS))
    vectors.append(vector("open, Base Sepolia with contract, deposit 2^128-1, max uint64s", "ChannelOpen",
                          open_fields(k1, address_of(k0), 84532, CONTRACT, total_deposit=str(U128_MAX),
                                      challenge_period=31536000, nonce=U64_MAX, timestamp=U64_MAX, decimals=36,
                                      asset="wETH-ünïcode", settlement="erc20-escrow/v2"),
                          [("signature", k1)], 84532, CONTRACT))
    vectors.append(vector("open, chain id 0 (no chain): chain fields still in the domain", "ChannelOpen",
                          open_fields(k2, address_of(k3), 0, ZERO_ADDRESS, decimals=0, total_deposit="0", nonce=7),
                          [("signature", k2)], 0, ZERO_ADDRESS))

    # Voucher: signed by the channel's payer, in the domain of the channel's open.
    def voucher(nonce, amount, task=None, cid="open-1", ts=T + 1000):
        f = {"channel_id": channel(cid), "nonce": nonce, "amount": str(amount), "timestamp": ts}
        if task is not None:
            f["task_id"] = task
        return f

    vectors.append(vector("voucher, no task id, chain 1", "Voucher", voucher(1, 250), [("signature", k0)], 1))
    vectors.append(vector("voucher, task id, chain 1", "Voucher", voucher(2, 500, "task-42"), [("signature", k0)], 1))
    vectors.append(vector("voucher, amount above 2^64, task id, Base Sepolia + contract", "Voucher",
                          voucher(3, 2**64 + 12345, "inference/gpt-5/req-0001"), [("signature", k1)], 84532, CONTRACT))
    vectors.append(vector("voucher, amount 2^128-1, nonce and timestamp 2^64-1, 128-byte task id", "Voucher",
                          voucher(U64_MAX, U128_MAX, "t" * 128, ts=U64_MAX), [("signature", k3)], 84532, CONTRACT))
    vectors.append(vector("voucher, non-ASCII task id, chain 0", "Voucher",
                          voucher(9, 10**30, "задача-☕"), [("signature", k2)], 0))

    # ChannelClose: closer's signature, and for a cooperative close the other party's counter-signature.
    def close(nonce, amount, coop, ts=T + 5000):
        return {"channel_id": channel("open-1"), "final_nonce": nonce, "final_amount": str(amount),
                "cooperative": coop, "timestamp": ts}

    vectors.append(vector("close, cooperative, closer + counter-signature", "ChannelClose",
                          close(3, 2**64 + 12345, True), [("signature", k1), ("counter_signature", k0)], 1))
    vectors.append(vector("close, non-cooperative, contract, Base Sepolia", "ChannelClose",
                          close(2, 500, False), [("signature", k0)], 84532, CONTRACT))
    vectors.append(vector("close, cooperative, final amount 2^128-1", "ChannelClose",
                          close(U64_MAX, U128_MAX, True, ts=U64_MAX), [("signature", k2), ("counter_signature", k3)],
                          1, CONTRACT))

    # ChannelAnnouncement: the chainless domain; both peers sign, peer_a < peer_b.
    def announce(ka, kb, **over):
        (pa, ka), (pb, kb) = sorted([(address_of(ka), ka), (address_of(kb), kb)])
        f = {"channel_id": channel("announce-1"), "peer_a": pa, "peer_b": pb, "capacity": "5000000", "asset": "USDC",
             "decimals": 6, "fee_base": "1", "fee_ppm": 100, "expiry_delta": 600000, "timestamp": T}
        f.update(over)
        return f, [("signature_a", ka), ("signature_b", kb)]

    f, s = announce(k0, k1)
    vectors.append(vector("announce, both peers", "ChannelAnnouncement", f, s))
    f, s = announce(k2, k3, capacity=str(U128_MAX), fee_base=str(2**64), fee_ppm=1000000, expiry_delta=2592000000,
                    decimals=18, asset="ETH", timestamp=U64_MAX)
    vectors.append(vector("announce, capacity 2^128-1, fee_base 2^64, max ppm and delta", "ChannelAnnouncement", f, s))

    out = {
        "description": "EIP-712 signatures of Paymesh structs (Specs/messages.md §5), made with eth-account",
        "generator": "scripts/vectors/gen_signature_vectors.py",
        "vectors": vectors,
    }
    with open(OUT, "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1, ensure_ascii=False)
        fh.write("\n")


if __name__ == "__main__":
    main()
