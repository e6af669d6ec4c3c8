#!/usr/bin/env python3
"""Generates Specs/vectors/handshake.json: a complete Paymesh handshake transcript with fixed keys,
made with independent implementations (the `noiseprotocol` package for Noise, `eth-account` for
the identity proofs, `msgpack` for the payload), so that the Swift tests cross-check Specs/transport.md.

    pip install noiseprotocol eth-account msgpack && python3 scripts/vectors/gen_handshake_vector.py
"""
import hashlib, json, struct, sys
import msgpack
from eth_account import Account
from eth_account.messages import encode_defunct
from noise.connection import NoiseConnection, Keypair
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives import serialization

PROTOCOL = b"Noise_XX_25519_ChaChaPoly_SHA256"
PROLOGUE = b"paymesh/1"

def fixed(label: str) -> bytes:
    return hashlib.sha256(b"paymesh test vector " + label.encode()).digest()

def x25519_public(priv: bytes) -> bytes:
    k = X25519PrivateKey.from_private_bytes(priv)
    return k.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

def proof(identity_priv: bytes, noise_static_pub: bytes, features):
    acct = Account.from_key(identity_priv)
    text = "paymesh-noise-static-key:" + noise_static_pub.hex()
    signed = Account.sign_message(encode_defunct(text=text), private_key=identity_priv)
    sig = signed.signature  # r || s || v, v in {27, 28}
    assert len(sig) == 65 and sig[64] in (27, 28)
    payload = msgpack.packb({"v": 1, "addr": bytes.fromhex(acct.address[2:]), "sig": bytes(sig),
                             "features": features}, use_bin_type=True)
    return acct.address, text, bytes(sig), payload

def main(out_path: str):
    keys = {r: {"identity": fixed(r + " identity"), "static": fixed(r + " static"),
                "ephemeral": fixed(r + " ephemeral")} for r in ("initiator", "responder")}
    conns = {}
    for role in ("initiator", "responder"):
        c = NoiseConnection.from_name(PROTOCOL)
        c.set_as_initiator() if role == "initiator" else c.set_as_responder()
        c.set_prologue(PROLOGUE)
        c.set_keypair_from_private_bytes(Keypair.STATIC, keys[role]["static"])
        c.set_keypair_from_private_bytes(Keypair.EPHEMERAL, keys[role]["ephemeral"])
        c.start_handshake()
        conns[role] = c
    proofs = {}
    for role, feats in (("initiator", ["payments/1"]), ("responder", ["payments/1", "gossip/1"])):
        pub = x25519_public(keys[role]["static"])
        addr, text, sig, payload = proof(keys[role]["identity"], pub, feats)
        proofs[role] = {"address": addr, "noise_static_public": pub.hex(), "signed_text": text,
                        "signature": sig.hex(), "features": feats, "payload": payload.hex()}
    messages = []
    def send(sender, receiver, payload, handshake=True):
        if handshake:
            ct = conns[sender].write_message(payload)
            got = conns[receiver].read_message(ct)
        else:
            ct = conns[sender].encrypt(payload)
            got = conns[receiver].decrypt(ct)
        assert got == payload
        messages.append({"sender": sender, "payload": payload.hex(), "noise_message": ct.hex(),
                         "wire": (struct.pack(">H", len(ct)) + ct).hex()})
    send("initiator", "responder", b"")
    send("responder", "initiator", bytes.fromhex(proofs["responder"]["payload"]))
    send("initiator", "responder", bytes.fromhex(proofs["initiator"]["payload"]))
    assert conns["initiator"].handshake_finished and conns["responder"].handshake_finished
    hh = conns["initiator"].get_handshake_hash()
    assert hh == conns["responder"].get_handshake_hash()
    # Transport messages, a valid yamux exchange (mux.md, streams.md): the initiator opens
    # stream 1 (WindowUpdate + SYN, delta 0), the responder pings (SYN, value 7), and the
    # initiator sends the stream's protocol header in a Data frame on stream 1.
    header = bytes([len(b"/paymesh/payments/1")]) + b"/paymesh/payments/1"
    send("initiator", "responder", struct.pack(">BBHII", 0, 1, 0x0001, 1, 0), handshake=False)
    send("responder", "initiator", struct.pack(">BBHII", 0, 2, 0x0001, 0, 7), handshake=False)
    send("initiator", "responder", struct.pack(">BBHII", 0, 0, 0, 1, len(header)) + header, handshake=False)
    out = {
        "description": "Paymesh handshake transcript (Specs/transport.md) made with noiseprotocol, eth-account and msgpack",
        "protocol_name": PROTOCOL.decode(), "prologue": PROLOGUE.hex(),
        "initiator": {"identity_private": keys["initiator"]["identity"].hex(),
                      "static_private": keys["initiator"]["static"].hex(),
                      "ephemeral_private": keys["initiator"]["ephemeral"].hex(), **proofs["initiator"]},
        "responder": {"identity_private": keys["responder"]["identity"].hex(),
                      "static_private": keys["responder"]["static"].hex(),
                      "ephemeral_private": keys["responder"]["ephemeral"].hex(), **proofs["responder"]},
        "handshake_hash": hh.hex(),
        "messages": messages,
    }
    with open(out_path, "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")

if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "Specs/vectors/handshake.json")
