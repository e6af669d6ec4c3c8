#!/usr/bin/env python3
"""Generates Specs/vectors/a2a.json (Specs/a2a.md §7, http402.md §10.1) from the Specs' text alone:

- `root_keys[]`: the gateway's L402 root key, HMAC-SHA256(identity secret, "paymesh/l402/root-key/v1");
- `payments[]`: A2A `message/send` bodies paying task `task-1` (x402 v1 PaymentPayload in the
  channel scheme, vouchers signed by eth-account) with what the endpoint must do: hand the voucher
  to verification (`"pay"`, with its nonce and amount) or answer with the refusal's code.

Usage: pip install eth-account && python3 scripts/vectors/gen_a2a_vectors.py [--check]
"""
import hashlib
import hmac
import json
import os
import sys

from eth_account import Account
from eth_utils import keccak, to_checksum_address

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Specs", "vectors", "a2a.json")
PAYER_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
CHAIN_ID = 84532
CONTRACT = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
CHANNEL_ID = bytes([0xc4] * 32)
NETWORK = f"eip155:{CHAIN_ID}"
TASK = "task-1"


def root_key(secret_hex):
    return hmac.new(bytes.fromhex(secret_hex), b"paymesh/l402/root-key/v1", hashlib.sha256).hexdigest()


def voucher_typed_data(chain_id, contract, channel_id, nonce, amount, timestamp, task_id, name="Paymesh", version="1"):
    """The EIP-712 `Voucher` of a channel-scheme payload (Specs/messages.md §5.3, http402.md §4.2)."""
    return {
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"}, {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"}, {"name": "verifyingContract", "type": "address"}],
            "Voucher": [{"name": "channelId", "type": "bytes32"}, {"name": "nonce", "type": "uint64"},
                        {"name": "amount", "type": "uint256"}, {"name": "timestamp", "type": "uint64"},
                        {"name": "taskIdHash", "type": "bytes32"}],
        },
        "primaryType": "Voucher",
        "domain": {"name": name, "version": version, "chainId": chain_id, "verifyingContract": to_checksum_address(contract)},
        "message": {"channelId": channel_id, "nonce": nonce, "amount": amount, "timestamp": timestamp,
                    "taskIdHash": keccak(task_id.encode()) if task_id is not None else bytes(32)},
    }


def voucher(nonce, amount, key=PAYER_KEY, timestamp=1767225600000):
    typed = voucher_typed_data(CHAIN_ID, CONTRACT, CHANNEL_ID, nonce, amount, timestamp, TASK)
    signature = bytes(Account.sign_typed_data(bytes.fromhex(key), full_message=typed).signature)
    return {"channelId": "0x" + CHANNEL_ID.hex(), "nonce": str(nonce), "amount": str(amount), "timestamp": str(timestamp),
            "taskId": TASK, "signature": "0x" + signature.hex()}


def body(payload, task=TASK, status="payment-submitted"):
    metadata = {"x402.payment.status": status}
    if payload is not None:
        metadata["x402.payment.payload"] = payload
    return json.dumps({"jsonrpc": "2.0", "id": "req-3", "method": "message/send",
                       "params": {"message": {"kind": "message", "role": "user", "messageId": "m-3", "taskId": task,
                                              "parts": [{"kind": "text", "text": "here is the payment"}],
                                              "metadata": metadata}}}, sort_keys=True)


def payment(description, payload, expect, task=TASK, activated=True, nonce=None, amount=None):
    case = {"description": description, "body": body(payload, task), "activated": activated, "expect": expect}
    if nonce is not None:
        case["nonce"], case["amount"] = nonce, str(amount)
    return case


def channel_payload(v, scheme="paymesh-channel", version=1, network=NETWORK):
    return {"x402Version": version, "scheme": scheme, "network": network, "payload": v}


def main():
    good = voucher(5, 1250)
    short_signature = dict(good, signature=good["signature"][:-2])
    leading_zero = dict(good, amount="01250")
    vectors = {
        "root_keys": [
            {"identity_secret": s, "root_key": root_key(s)}
            for s in ["4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318", "00" * 31 + "01"]
        ],
        "task_id": TASK,
        "payer": Account.from_key(bytes.fromhex(PAYER_KEY)).address,
        "chain_id": CHAIN_ID,
        "verifying_contract": CONTRACT,
        "payments": [
            payment("a channel-scheme voucher: handed to verification", channel_payload(good), "pay", nonce=5, amount=1250),
            payment("another scheme", channel_payload(good, scheme="exact"), 1321),
            payment("x402 version 2 in the A2A payload", channel_payload(good, version=2), 1321),
            payment("a short signature", channel_payload(short_signature), 1320),
            payment("an amount with a leading zero", channel_payload(leading_zero), 1320),
            payment("no payload", None, 1464),
            payment("an unknown task", channel_payload(good), 1460, task="task-9"),
            payment("the extension not activated", channel_payload(good), 1463, activated=False),
        ],
    }

    text = json.dumps(vectors, indent=2, sort_keys=True) + "\n"
    if "--check" in sys.argv:
        if open(OUT).read() != text:
            sys.exit(f"{OUT} is not current: run {sys.argv[0]}")
    else:
        open(OUT, "w").write(text)


if __name__ == "__main__":
    main()
