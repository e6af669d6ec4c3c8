#!/usr/bin/env python3
"""Generates the PaymeshCrypto known-answer vectors in Tests/Vectors/crypto/.

Independent implementations: pycryptodome (Keccak-256), Python hashlib (BLAKE2b),
eth-keys / eth-account (secp256k1, EIP-55, EIP-191, EIP-712; RFC 6979 deterministic signing).
Usage: python3 -m venv v && v/bin/pip install eth-account eth-keys && v/bin/python3 scripts/vectors/gen_eth_vectors.py
"""
import hashlib
import json
import os

from Crypto.Hash import keccak
from eth_account import Account
from eth_account.messages import encode_defunct, encode_typed_data, _hash_eip191_message
from eth_keys import keys

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "Vectors", "crypto")


def k256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def pattern(n: int) -> bytes:
    """Test input: byte i is i mod 251."""
    return bytes(i % 251 for i in range(n))


def write(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")


def keccak_vectors():
    lengths = list(range(0, 140)) + [199, 200, 271, 272, 273, 407, 408, 409, 1000, 4096]
    return [{"input": pattern(n).hex(), "hash": k256(pattern(n)).hex()} for n in lengths]


def blake2b_vectors():
    out = []
    for n in [0, 1, 3, 63, 64, 127, 128, 129, 255, 256, 1000]:
        for key_len in [0, 1, 32, 64]:
            for out_len in [1, 16, 20, 32, 64]:
                key = bytes(range(key_len))
                h = hashlib.blake2b(pattern(n), key=key, digest_size=out_len).hexdigest()
                # input = pattern(inputLength), key = 00 01 02 … (keyLength bytes)
                out.append({"inputLength": n, "keyLength": key_len, "outlen": out_len, "hash": h})
    return out


PRIVATE_KEYS = [
    "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318",  # eth-account docs
    k256(b"cow").hex(),                                                   # EIP-712 example signer
    "0000000000000000000000000000000000000000000000000000000000000001",
    "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140",  # n - 1
] + [k256(b"paymesh-key-%d" % i).hex() for i in range(8)]

MESSAGES = ["", "hello", "I♥SF", "héllo wörld ✓ 🚀", "x" * 200, "\x00\x01\x02binary"]


def key_vectors():
    out = []
    for sk in PRIVATE_KEYS:
        pk = keys.PrivateKey(bytes.fromhex(sk)).public_key
        out.append({
            "privateKey": sk,
            "publicKeyUncompressed": "04" + pk.to_bytes().hex(),
            "publicKeyCompressed": pk.to_compressed_bytes().hex(),
            "address": pk.to_checksum_address(),
        })
    return out


def personal_vectors():
    out = []
    for sk in PRIVATE_KEYS[:6]:
        for m in MESSAGES:
            msg = m.encode("utf-8")
            signable = encode_defunct(primitive=msg)
            signed = Account.sign_message(signable, private_key=bytes.fromhex(sk))
            out.append({
                "privateKey": sk,
                "message": msg.hex(),
                "hash": _hash_eip191_message(signable).hex(),
                "signature": signed.signature.hex().removeprefix("0x"),
                "address": Account.from_key(sk).address,
            })
    return out


def typed(domain, types, primary, message):
    return {"domain": domain, "types": types, "primaryType": primary, "message": message}


def eip712_vectors():
    mail = typed(
        {"name": "Ether Mail", "version": "1", "chainId": 1,
         "verifyingContract": "0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
        {"Person": [{"name": "name", "type": "string"}, {"name": "wallet", "type": "address"}],
         "Mail": [{"name": "from", "type": "Person"}, {"name": "to", "type": "Person"},
                  {"name": "contents", "type": "string"}]},
        "Mail",
        {"from": {"name": "Cow", "wallet": "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},
         "to": {"name": "Bob", "wallet": "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},
         "contents": "Hello, Bob!"})
    voucher_types = {
        "Voucher": [
            {"name": "payer", "type": "address"}, {"name": "payee", "type": "address"},
            {"name": "amount", "type": "uint256"}, {"name": "channelId", "type": "bytes32"},
            {"name": "nonce", "type": "uint64"}, {"name": "final", "type": "bool"},
            {"name": "memo", "type": "string"}, {"name": "extra", "type": "bytes"},
            {"name": "asset", "type": "Asset"}],
        "Asset": [{"name": "symbol", "type": "string"}, {"name": "decimals", "type": "uint8"}],
    }
    zero = "0x0000000000000000000000000000000000000000"
    v1 = typed(
        {"name": "Paymesh", "version": "1", "chainId": 8453, "verifyingContract": zero},
        voucher_types, "Voucher",
        {"payer": Account.from_key(PRIVATE_KEYS[4]).address, "payee": Account.from_key(PRIVATE_KEYS[5]).address,
         "amount": 2**64 + 12345, "channelId": "0x" + k256(b"channel-1").hex(), "nonce": 2**64 - 1,
         "final": False, "memo": "coffee ☕", "extra": "0x", "asset": {"symbol": "USDC", "decimals": 6}})
    v2 = typed(
        {"name": "Paymesh", "version": "1", "chainId": 1, "verifyingContract": zero},
        voucher_types, "Voucher",
        {"payer": Account.from_key(PRIVATE_KEYS[6]).address, "payee": zero,
         "amount": 2**256 - 1, "channelId": "0x" + "00" * 32, "nonce": 0,
         "final": True, "memo": "", "extra": "0x" + pattern(70).hex(), "asset": {"symbol": "ETH", "decimals": 18}})
    v3 = typed(
        {"name": "Paymesh"},
        {"Ping": [{"name": "value", "type": "uint128"}, {"name": "tag", "type": "bytes4"}]}, "Ping",
        {"value": 2**128 - 1, "tag": "0xdeadbeef"})
    out = []
    for sk, t in [(PRIVATE_KEYS[1], mail), (PRIVATE_KEYS[4], v1), (PRIVATE_KEYS[6], v2), (PRIVATE_KEYS[7], v3)]:
        signable = encode_typed_data(full_message={**t, "types": {**t["types"], "EIP712Domain": domain_type(t["domain"])}})
        signed = Account.sign_message(signable, private_key=bytes.fromhex(sk))
        out.append({
            "privateKey": sk, "domain": t["domain"], "types": t["types"], "primaryType": t["primaryType"],
            "message": stringify_ints(t["message"]),
            "domainSeparator": signable.header.hex(), "hashStruct": signable.body.hex(),
            "digest": _hash_eip191_message(signable).hex(),
            "signature": signed.signature.hex().removeprefix("0x"),
        })
    return out


def domain_type(domain):
    order = [("name", "string"), ("version", "string"), ("chainId", "uint256"),
             ("verifyingContract", "address"), ("salt", "bytes32")]
    return [{"name": n, "type": t} for n, t in order if n in domain]


def stringify_ints(v):
    """JSON numbers above 2^53 lose precision in many decoders: uints are written as decimal strings."""
    if isinstance(v, dict):
        return {k: stringify_ints(x) for k, x in v.items()}
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return str(v)
    return v


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write("keccak256.json", keccak_vectors())
    write("blake2b.json", blake2b_vectors())
    write("secp256k1_keys.json", key_vectors())
    write("eip191_personal_sign.json", personal_vectors())
    write("eip712.json", eip712_vectors())
