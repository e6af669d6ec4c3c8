#!/usr/bin/env python3
"""L402 and A2A on a live Paymesh gateway, with independent clients (Specs/http402.md §10.1, a2a.md).

Run by GatewayL402A2ATests against two real nodes: the gateway node sells `echo`; the payer node
has a channel to it and a route over gossip. Written from the Specs alone:

1. `curl -i` of an unpaid request shows the three challenges (x402 v1 body, v2 PAYMENT-REQUIRED,
   WWW-Authenticate: L402).
2. pymacaroons deserializes the L402 macaroon and verifies its signature and caveats with the
   gateway's root key (HMAC-SHA256(identity secret, "paymesh/l402/root-key/v1"), §10.1); when the
   service declares capabilities (CAPABILITIES, e.g. GET,HEAD,POST), the minted token carries
   `<service>_capabilities=<them>` (§6.4) and a request with another method is 405 / 1325.
3. The invoice is paid through a Paymesh route (`pay request=` on the payer's console); the
   preimage gets the client in, twice (the token is reused); a wrong preimage gets 402 1303.
4. a2a-sdk reads the agent card and drives a paid task: input-required/payment-required, an
   underpaid voucher (payment-failed, INVALID_AMOUNT), a forged one (INVALID_SIGNATURE), then a
   good one (completed, x402.payment.receipts, the skill's answer).

Usage: check_l402_a2a.py GATEWAY_URL SERVICE IDENTITY_KEY_FILE PAYER_CONSOLE PAYER_KEY_HEX CHANNEL_ID NONCE CUMULATIVE [CAPABILITIES]
"""
import asyncio
import base64
import hashlib
import hmac
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import httpx
from a2a.client import A2ACardResolver
from a2a.client.transports.jsonrpc import JsonRpcTransport
from a2a.types import Message, MessageSendParams, Part, Role, Task, TaskState, TextPart
from eth_account import Account
from pymacaroons import Macaroon, Verifier

import check_live_gateway as live
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors"))
from gen_a2a_vectors import voucher_typed_data  # noqa: E402  (the EIP-712 Voucher of Specs/messages.md §5.3)

check = live.check

X402_A2A = "https://github.com/google-agentic-commerce/a2a-x402/blob/main/spec/v0.2"


def text(value):
    """pymacaroons hands caveats out as bytes or str depending on the format."""
    return value.decode() if isinstance(value, bytes) else value


def get(url, headers=None, method="GET", data=None):
    request = urllib.request.Request(url, headers=headers or {}, method=method, data=data)
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode()


def console(path, method, params):
    """One JSON-RPC call on the node's console socket (newline-delimited JSON, Specs/console.md)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(120)
        s.connect(path)
        s.sendall((json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}) + "\n").encode())
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    answer = json.loads(data)
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def sign_voucher(key, requirement, channel_id, nonce, amount, task_id):
    """The channel scheme's payload (Specs/http402.md §4.2), EIP-712 `Voucher` in the domain of `extra`."""
    extra = requirement["extra"]
    timestamp = int(time.time() * 1000)
    typed = voucher_typed_data(int(extra["chainId"]), extra["verifyingContract"], bytes.fromhex(channel_id[2:]), nonce, amount,
                               timestamp, task_id, name=extra.get("name", "Paymesh"), version=extra.get("version", "1"))
    signature = bytes(Account.sign_typed_data(bytes.fromhex(key), full_message=typed).signature)
    payload = {"channelId": channel_id, "nonce": str(nonce), "amount": str(amount),
               "timestamp": str(timestamp), "taskId": task_id, "signature": "0x" + signature.hex()}
    return {"x402Version": 1, "scheme": requirement["scheme"], "network": requirement["network"], "payload": payload}


def l402(base, service, identity_file, payer_console, capabilities):
    url = f"{base}/{service}/l402"
    # 1. curl -i: the three challenges in one answer.
    shown = subprocess.run(["curl", "-si", url], capture_output=True, text=True, timeout=30).stdout
    print(shown.split("\r\n\r\n")[0])
    check(shown.startswith("HTTP/1.1 402"), "curl -i: 402")
    check(re.search(r"(?im)^payment-required: ", shown), "curl -i: PAYMENT-REQUIRED (x402 v2)")
    check(re.search(r'(?im)^www-authenticate: L402 macaroon="[^"]+", invoice="pminv1[^"]+"', shown), "curl -i: WWW-Authenticate L402")
    check('"x402Version":1' in shown, "curl -i: the x402 v1 body")

    status, headers, _ = get(url)
    match = re.fullmatch(r'L402 macaroon="([^"]+)", invoice="([^"]+)"', headers["www-authenticate"])
    mac_b64, invoice = match.group(1), match.group(2)
    # The same challenge again (no new invoice for a GET loop, §10.1).
    check(get(url)[1]["www-authenticate"] == headers["www-authenticate"], "an unpaid retry gets the same challenge")

    # 2. pymacaroons: caveats and signature under the gateway's root key.
    secret = bytes.fromhex(open(identity_file).read().strip())
    root_key = hmac.new(secret, b"paymesh/l402/root-key/v1", hashlib.sha256).digest()
    macaroon = Macaroon.deserialize(mac_b64.replace("+", "-").replace("/", "_"))  # the header is standard base64
    identifier = macaroon.identifier_bytes
    check(len(identifier) == 66 and identifier[:2] == b"\x00\x00", "identifier: version 0, 66 bytes")
    caveats = [text(c.caveat_id) for c in macaroon.first_party_caveats()]
    check(caveats[0] == f"services={service}:0", f"services caveat: {caveats}")
    if capabilities:
        check(caveats[1:-1] == [f"{service}_capabilities={capabilities}"], f"the declared capabilities are minted: {caveats}")
    else:
        check(len(caveats) == 2, f"no capabilities caveat when none is declared: {caveats}")
    valid_until = int(caveats[-1].split("=")[1])
    check(caveats[-1].startswith(f"{service}_valid_until=") and valid_until > time.time(), "valid_until in the future")
    verifier = Verifier()
    verifier.satisfy_exact(f"services={service}:0")
    if capabilities:
        verifier.satisfy_exact(f"{service}_capabilities={capabilities}")
    verifier.satisfy_general(lambda c: text(c).startswith(f"{service}_valid_until=") and int(text(c).split("=")[1]) >= time.time())
    check(verifier.verify(macaroon, root_key), "pymacaroons verifies the signature with the root key")
    try:
        refused = not Verifier().verify(macaroon, root_key)
    except Exception:
        refused = True
    check(refused, "unsatisfied caveats fail in pymacaroons too")

    # 3. Pay the invoice over a route from the payer node; the preimage gets us in.
    paid = console(payer_console, "pay", {"request": invoice})
    check(paid["status"] == "succeeded" and paid["preimage"], f"routed payment: {paid}")
    preimage = paid["preimage"].removeprefix("0x")
    check(hashlib.sha256(bytes.fromhex(preimage)).digest() == identifier[2:34], "SHA-256(preimage) = payment hash")
    for attempt in ("first", "reused"):
        status, headers, body = get(url, {"Authorization": f"L402 {mac_b64}:{preimage}"})
        check(status == 200 and body == "upstream GET /api/l402", f"{attempt} L402 request: {status} {body}")
    status, headers, body = get(url, {"Authorization": f"L402 {mac_b64}:{'00' * 32}"})
    check(status == 402 and headers.get("paymesh-error-code") == "1303", f"wrong preimage: {status} {headers.get('paymesh-error-code')}")
    # A pymacaroons-serialized (URL-safe, unpadded) form of the same token works too.
    status, _, _ = get(url, {"Authorization": f"L402 {macaroon.serialize()}:{preimage}"})
    check(status == 200, "the pymacaroons serialization is accepted")
    # 4. A holder attenuates the token (§6.4) with pymacaroons: the gateway checks the request's
    # capability, its method (§10.1), against the added caveat: GET is served, POST is 1325.
    narrowed = Macaroon.deserialize(macaroon.serialize())
    narrowed.add_first_party_caveat(f"{service}_capabilities=GET,HEAD")
    narrowed_auth = {"Authorization": f"L402 {narrowed.serialize()}:{preimage}"}
    status, _, body = get(url, narrowed_auth)
    check(status == 200 and body == "upstream GET /api/l402", f"attenuated token, GET: {status} {body}")
    status, headers, _ = get(url, narrowed_auth, method="POST", data=b"x")
    check(status == 402 and headers.get("paymesh-error-code") == "1325", f"attenuated token, POST: {status} {headers.get('paymesh-error-code')}")
    status, _, body = get(url, {"Authorization": f"L402 {mac_b64}:{preimage}"}, method="POST", data=b"x")
    check(status == 200 and body.startswith("upstream POST /api/l402"), f"the token as minted, POST: {status} {body}")
    # 5. A method the service does not declare: 405 with Allow and 1325, whatever the credential.
    if capabilities:
        status, headers, body = get(url, {"Authorization": f"L402 {mac_b64}:{preimage}"}, method="DELETE")
        check(status == 405 and headers.get("paymesh-error-code") == "1325", f"undeclared DELETE: {status} {headers}")
        check(headers.get("allow") == capabilities.replace(",", ", "), f"Allow: {headers.get('allow')}")
        check(json.loads(body)["error"].startswith("1325 SERVICE_NOT_AUTHORIZED"), f"405 body: {body}")


async def a2a(base, service, payer_key, channel_id, nonce, cumulative):
    async with httpx.AsyncClient(timeout=60) as http:
        card = await A2ACardResolver(http, base).get_agent_card()
        extension = next(e for e in card.capabilities.extensions if e.uri == X402_A2A)
        check(extension.required, "the x402 extension is required")
        price = next(p for p in extension.params["pricing"] if p["skill"] == service)
        check(any(s.id == service for s in card.skills), "a skill per service")
        transport = JsonRpcTransport(http, agent_card=card, extensions=[X402_A2A])

        def message(task=None, metadata=None, text="hello a2a"):
            return MessageSendParams(message=Message(
                role=Role.user, parts=[Part(root=TextPart(text=text))], message_id=uuid.uuid4().hex,
                task_id=task.id if task else None, context_id=task.context_id if task else None, metadata=metadata))

        task = await transport.send_message(message(metadata={"paymesh.skill": service}))
        check(isinstance(task, Task) and task.status.state == TaskState.input_required, f"input-required: {task}")
        meta = task.status.message.metadata
        check(meta["x402.payment.status"] == "payment-required", "payment-required")
        requirement = meta["x402.payment.required"]["accepts"][0]
        check(requirement["maxAmountRequired"] == price["amount"], "the card's price is the task's")
        amount = int(requirement["maxAmountRequired"])

        async def pay(payload):
            return await transport.send_message(message(task, {"x402.payment.status": "payment-submitted", "x402.payment.payload": payload}))

        underpaid = await pay(sign_voucher(payer_key, requirement, channel_id, nonce + 1, cumulative + amount - 1, task.id))
        m = underpaid.status.message.metadata
        check(underpaid.status.state == TaskState.input_required and m["x402.payment.status"] == "payment-failed"
              and m["x402.payment.error"] == "INVALID_AMOUNT", f"underpaid: {m}")
        forged = await pay(sign_voucher("11" * 32, requirement, channel_id, nonce + 1, cumulative + amount, task.id))
        m = forged.status.message.metadata
        check(m["x402.payment.error"] == "INVALID_SIGNATURE" and m["paymesh.error.code"] == "1101", f"forged: {m}")
        done = await pay(sign_voucher(payer_key, requirement, channel_id, nonce + 1, cumulative + amount, task.id))
        m = done.status.message.metadata
        check(done.status.state == TaskState.completed and m["x402.payment.status"] == "payment-completed", f"completed: {done}")
        receipt = m["x402.payment.receipts"][0]
        check(receipt["success"] and receipt["amount"] == str(amount) and receipt["extra"]["nonce"] == str(nonce + 1), f"receipt: {receipt}")
        check(done.artifacts[0].parts[0].root.text == "upstream POST /api/", f"the skill's answer: {done.artifacts}")
        # The same voucher again for a new task: a replay.
        again = await transport.send_message(message(metadata={"paymesh.skill": service}))
        replay = await transport.send_message(message(again, {"x402.payment.status": "payment-submitted",
                                                              "x402.payment.payload": sign_voucher(payer_key, requirement, channel_id,
                                                                                                   nonce + 1, cumulative + amount, again.id)}))
        check(replay.status.message.metadata["x402.payment.error"] == "DUPLICATE_NONCE", "a replayed voucher")


def main(base, service, identity_file, payer_console, payer_key, channel_id, nonce, cumulative, capabilities=""):
    l402(base, service, identity_file, payer_console, capabilities)
    asyncio.run(a2a(base, service, payer_key, channel_id, int(nonce), int(cumulative)))
    print(f"l402 and a2a checks: {live.checks} passed")


if __name__ == "__main__":
    main(*sys.argv[1:10])
