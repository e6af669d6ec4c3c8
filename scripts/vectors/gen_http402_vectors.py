#!/usr/bin/env python3
"""Generates Specs/vectors/http402.json (Specs/http402.md §9) with implementations independent of
the Swift code: pymacaroons mints the macaroons, eth-account signs the channel-scheme vouchers
(EIP-712 `Voucher`, Specs/messages.md §5.3), and the proof headers are built from the spec's text.

Usage: pip install pymacaroons eth-account && python3 scripts/vectors/gen_http402_vectors.py
"""
import base64
import hashlib
import json
import os

from eth_account import Account
from eth_utils import keccak, to_checksum_address
from pymacaroons import Macaroon, MACAROON_V2

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Specs", "vectors", "http402.json")

PAYER_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
PAYEE_KEY = "8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f"
FORGER_KEY = bytes(range(1, 33)).hex()
OTHER_PAYEE = "0x" + "22" * 20
T = 1767225600000


def address(key):
    return Account.from_key(bytes.fromhex(key)).address


def b64(obj):
    return base64.b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode()


# --- L402 macaroons (pymacaroons, libmacaroons v2 binary) --------------------------------------
def l402_identifier(payment_hash, token_id):
    return b"\x00\x00" + payment_hash + token_id


def macaroon_vector(description, root_key, location, identifier, caveats):
    m = Macaroon(location=location, identifier=identifier, key=root_key, version=MACAROON_V2)
    for c in caveats:
        m.add_first_party_caveat(c)
    return {
        "description": description,
        "root_key": root_key.hex(),
        "location": location,
        "identifier": identifier.hex(),
        "caveats": caveats,
        "signature": m.signature,
        "serialized_hex": base64.urlsafe_b64decode(m.serialize() + "==").hex(),
        "base64url": m.serialize(),
    }


ROOT = hashlib.sha256(b"paymesh http402 vector root key").digest()
PREIMAGE = hashlib.sha256(b"paymesh http402 vector preimage").digest()
PAYMENT_HASH = hashlib.sha256(PREIMAGE).digest()
TOKEN_ID = hashlib.sha256(b"paymesh http402 vector token id").digest()
L402_ID = l402_identifier(PAYMENT_HASH, TOKEN_ID)
NOW = 1767225600  # unix seconds

macaroons = [
    macaroon_vector("L402 token, three caveats", ROOT, "paymesh", L402_ID,
                    ["services=search:0", "search_capabilities=query,stream", f"search_valid_until={NOW + 3600}"]),
    macaroon_vector("no caveats, empty location (pymacaroons writes an empty location field)", ROOT, "", b"plain id", []),
    macaroon_vector("two services, later caveat narrows", ROOT, "paymesh", L402_ID,
                    ["services=search:0,llm:1", f"llm_valid_until={NOW + 60}", f"search_valid_until={NOW + 10}",
                     "search_capabilities=query"]),
]


def credential(mac_b64url, preimage):
    return f"L402 {mac_b64url}:{preimage.hex()}"


def l402_case(description, mac, preimage, service, now, expect, capability=None, root=ROOT):
    return {"description": description, "root_key": root.hex(), "authorization": credential(mac, preimage),
            "service": service, "capability": capability, "now": now, "expect": expect}


main = macaroons[0]["base64url"]
two = macaroons[2]["base64url"]
l402 = [
    l402_case("valid token and preimage", main, PREIMAGE, "search", NOW, "ok"),
    l402_case("valid at the last second", main, PREIMAGE, "search", NOW + 3600, "ok", capability="stream"),
    l402_case("expired", main, PREIMAGE, "search", NOW + 3601, 1324),
    l402_case("wrong service", main, PREIMAGE, "llm", NOW, 1325),
    l402_case("capability not granted", main, PREIMAGE, "search", NOW, 1325, capability="admin"),
    l402_case("wrong preimage", main, bytes(32), "search", NOW, 1303),
    l402_case("wrong root key", main, PREIMAGE, "search", NOW, 1303, root=bytes(32)),
    l402_case("second service of two", two, PREIMAGE, "llm", NOW + 60, "ok"),
    l402_case("narrower caveat of the other service expired: still ok for llm", two, PREIMAGE, "llm", NOW + 30, "ok"),
    l402_case("narrower caveat expired", two, PREIMAGE, "search", NOW + 11, 1324),
]

# A tampered macaroon: pymacaroons token with a caveat removed but the signature kept.
tampered = Macaroon(location="paymesh", identifier=L402_ID, key=ROOT, version=MACAROON_V2)
tampered.add_first_party_caveat("services=search:0")
full_sig = Macaroon.deserialize(main).signature
tampered_bin = bytearray(base64.urlsafe_b64decode(tampered.serialize() + "=="))
tampered_bin[-32:] = bytes.fromhex(full_sig)
l402.append(l402_case("caveat stripped, signature of the full token kept", base64.urlsafe_b64encode(bytes(tampered_bin)).decode().rstrip("="),
                      PREIMAGE, "search", NOW, 1303))

# --- Channel scheme (eth-account signs the EIP-712 Voucher) --------------------------------------
CHAIN_ID = 84532
CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
CHANNEL_ID = keccak(b"paymesh http402 vector channel")
VOUCHER_TYPES = {
    "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                     {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
    "Voucher": [{"name": "channelId", "type": "bytes32"}, {"name": "nonce", "type": "uint64"},
                {"name": "amount", "type": "uint256"}, {"name": "timestamp", "type": "uint64"},
                {"name": "taskIdHash", "type": "bytes32"}],
}


def sign_voucher(key, nonce, amount, timestamp, task_id=None, channel_id=CHANNEL_ID):
    message = {"channelId": channel_id, "nonce": nonce, "amount": amount, "timestamp": timestamp,
               "taskIdHash": keccak(task_id.encode()) if task_id is not None else bytes(32)}
    full = {"types": VOUCHER_TYPES, "primaryType": "Voucher",
            "domain": {"name": "Paymesh", "version": "1", "chainId": CHAIN_ID,
                       "verifyingContract": to_checksum_address(CONTRACT)},
            "message": message}
    sig = bytes(Account.sign_typed_data(bytes.fromhex(key), full_message=full).signature)
    payload = {"channelId": "0x" + channel_id.hex(), "nonce": str(nonce), "amount": str(amount),
               "timestamp": str(timestamp), "signature": "0x" + sig.hex()}
    if task_id is not None:
        payload["taskId"] = task_id
    return payload


NETWORK = f"eip155:{CHAIN_ID}"
PRICE = 250
PAYEE = address(PAYEE_KEY)
REQUIREMENTS_V2 = {"scheme": "paymesh-channel", "network": NETWORK, "asset": "USDC", "amount": str(PRICE),
                   "payTo": PAYEE, "maxTimeoutSeconds": 60,
                   "extra": {"name": "Paymesh", "version": "1", "chainId": str(CHAIN_ID),
                             "verifyingContract": CONTRACT, "decimals": 6, "unit": "call"}}
CHANNEL = {"channel_id": CHANNEL_ID.hex(), "payer": address(PAYER_KEY), "payee": PAYEE, "asset": "USDC", "decimals": 6,
           "chain_id": CHAIN_ID, "verifying_contract": CONTRACT, "deposit": "1000000",
           "latest_nonce": 4, "latest_amount": "1000"}


def x_payment(payload, scheme="paymesh-channel", network=NETWORK, version=1):
    return b64({"x402Version": version, "scheme": scheme, "network": network, "payload": payload})


def payment_signature(payload, accepted=None):
    return b64({"x402Version": 2, "accepted": accepted or REQUIREMENTS_V2, "payload": payload,
                "resource": {"url": "http://127.0.0.1:8402/svc/search", "description": "search", "mimeType": "application/json"}})


def case(description, header, value, expect, increment=None, pay_to=None):
    c = {"description": description, "header": header, "value": value, "expect": expect}
    if increment is not None:
        c["increment"] = str(increment)
    if pay_to is not None:
        c["pay_to"] = pay_to
    return c


good = sign_voucher(PAYER_KEY, 5, 1250, T, task_id="req-1")
channel_cases = [
    case("v1 X-PAYMENT, exactly the price", "X-PAYMENT", x_payment(good), "ok", increment=250),
    case("v2 PAYMENT-SIGNATURE, more than the price", "PAYMENT-SIGNATURE",
         payment_signature(sign_voucher(PAYER_KEY, 9, 2000, T)), "ok", increment=1000),
    case("replay of the accepted nonce", "X-PAYMENT", x_payment(sign_voucher(PAYER_KEY, 4, 1250, T)), 1323),
    case("older nonce", "X-PAYMENT", x_payment(sign_voucher(PAYER_KEY, 3, 5000, T)), 1323),
    case("underpaid", "X-PAYMENT", x_payment(sign_voucher(PAYER_KEY, 5, 1249, T)), 1302),
    case("amount decreased", "X-PAYMENT", x_payment(sign_voucher(PAYER_KEY, 5, 10, T)), 1302),
    case("above the deposit", "X-PAYMENT", x_payment(sign_voucher(PAYER_KEY, 5, 1000001, T)), 1100),
    case("forged: signed by another key", "X-PAYMENT", x_payment(sign_voucher(FORGER_KEY, 5, 1250, T)), 1101),
    case("tampered amount after signing", "X-PAYMENT", x_payment(dict(good, amount="999999")), 1101),
    case("wrong payee in accepted", "PAYMENT-SIGNATURE",
         payment_signature(good, dict(REQUIREMENTS_V2, payTo=to_checksum_address(OTHER_PAYEE))), 1322),
    case("requirements for another payee (channel is not to it)", "X-PAYMENT", x_payment(good), 1322,
         pay_to=to_checksum_address(OTHER_PAYEE)),
    case("another scheme", "X-PAYMENT", x_payment(good, scheme="exact"), 1321),
    case("another network", "X-PAYMENT", x_payment(good, network="eip155:1"), 1321),
    case("unknown channel", "X-PAYMENT",
         x_payment(sign_voucher(PAYER_KEY, 5, 1250, T, channel_id=keccak(b"another channel"))), 1000),
    case("v2 header carrying x402Version 1", "PAYMENT-SIGNATURE", x_payment(good), 1320),
    case("not base64", "X-PAYMENT", "%%%not-base64%%%", 1320),
    case("base64 of not JSON", "X-PAYMENT", base64.b64encode(b"{nope").decode(), 1320),
    case("nonce with a leading zero", "X-PAYMENT", x_payment(dict(good, nonce="05")), 1320),
    case("signature too short", "X-PAYMENT", x_payment(dict(good, signature="0x" + "ab" * 64)), 1320),
    case("oversize header", "X-PAYMENT", "A" * 8196, 1320),
]

out = {
    "description": "Specs/http402.md §9: L402 macaroons made by pymacaroons, channel-scheme proofs signed by eth-account",
    "macaroons": macaroons,
    "l402": l402,
    "channel": CHANNEL,
    "requirements": REQUIREMENTS_V2,
    "channel_cases": channel_cases,
}
with open(OUT, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print(f"wrote {OUT}: {len(macaroons)} macaroons, {len(l402)} L402 cases, {len(channel_cases)} channel cases")
