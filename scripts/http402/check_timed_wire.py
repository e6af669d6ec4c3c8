#!/usr/bin/env python3
"""The per-second (`unit` = `second`) wire format of a live Paymesh gateway, read raw, written from
Specs/http402.md §12.6 alone (stdlib sockets; eth-account signs the vouchers). Run by
TimedGatewayTests against a real gateway node whose per-second service's upstream streams
`tick <i>\\n` lines (PATH, e.g. /ticks/slow/15/100: 15 lines, one every 100 ms).

1. Unpaid: 402; the v2 PAYMENT-REQUIRED requirement has extra.unit = second, extra.step = S,
   extra.unitPrice = P and amount = S × P; no L402 (no WWW-Authenticate).
2. The first step paid with the request (X-PAYMENT, §4.2): the head at once with the receipt,
   `Trailer: Paymesh-End, Paymesh-Served-Millis, Paymesh-Seconds-Paid`, Paymesh-Continue (32
   lowercase hex), Paymesh-Next-Price = S × P, Paymesh-Seconds-Paid = S, Paymesh-Step-Seconds = S,
   Paymesh-Upstream-Status; the body chunked (Transfer-Encoding: chunked).
3. While it streams, on another connection, one step at a time when less than half a step of paid
   time remains by this client's clock counted from when it sent the first request: the same
   method and target, Paymesh-Continue and a voucher for one more step; 200, empty body,
   Paymesh-Seconds-Paid = previous + S. A top-up with an unknown token: 402 / 1326.
4. The chunked body is read chunk by chunk to the last chunk and its trailer section: Paymesh-End
   = complete, Paymesh-Seconds-Paid = the seconds this client paid, Paymesh-Served-Millis ≤ 1,000 ×
   that; the body is every line the upstream wrote, in order.
5. After the end, the token is refused (1326).

Usage: check_timed_wire.py GATEWAY_HOST:PORT PATH PAYER_KEY_HEX CHANNEL_ID LAST_NONCE CUMULATIVE LINES MAX_STEPS
Prints "timed wire checks: <n> passed; paid <atomic units> in <vouchers> vouchers, last nonce <nonce>".
"""
import base64
import json
import os
import re
import socket
import sys
import threading
import time

from eth_account import Account

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vectors"))
from gen_a2a_vectors import voucher_typed_data  # noqa: E402  (the EIP-712 Voucher of Specs/messages.md §5.3)

checks = 0
lock = threading.RLock()


def check(condition, what):
    global checks
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        os._exit(1)  # also from the top-up thread
    with lock:
        checks += 1


def read_line(reader):
    line = reader.readline(8192)
    check(line.endswith(b"\r\n"), f"a CRLF-terminated line: {line[:80]!r}")
    return line[:-2]


def read_fields(reader):
    """A header or trailer section, to its empty line; names lower-case."""
    fields = {}
    while True:
        line = read_line(reader)
        if not line:
            return fields
        name, colon, value = line.decode("latin-1").partition(":")
        check(colon == ":" and name and name == name.strip(), f"a field line: {line[:80]!r}")
        fields[name.lower()] = value.strip()


def request(address, path, headers):
    """Sends GET PATH with HEADERS; returns (socket, reader, status, header fields)."""
    host, port = address.rsplit(":", 1)
    conn = socket.create_connection((host, int(port)), timeout=30)
    lines = [f"GET {path} HTTP/1.1", f"Host: {address}", "Connection: close"] + [f"{k}: {v}" for k, v in headers.items()]
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    reader = conn.makefile("rb")
    status_line = read_line(reader).decode("latin-1").split(" ")
    check(status_line[0] == "HTTP/1.1" and len(status_line) >= 2, f"status line {status_line}")
    return conn, reader, int(status_line[1]), read_fields(reader)


def whole(address, path, headers):
    """A whole answer with a Content-Length body (the 402s and top-ups)."""
    conn, reader, status, fields = request(address, path, headers)
    body = reader.read(int(fields.get("content-length", "0")))
    conn.close()
    return status, fields, body


def voucher(key, requirement, channel_id, nonce, amount):
    """X-PAYMENT (§4.2, v1): base64 of the scheme's payload, a Voucher signed in the domain of `extra`."""
    extra = requirement["extra"]
    timestamp = int(time.time() * 1000)
    typed = voucher_typed_data(int(extra["chainId"]), extra["verifyingContract"], bytes.fromhex(channel_id[2:]), nonce, amount,
                               timestamp, f"timed-{nonce}", name=extra["name"], version=extra["version"])
    signature = bytes(Account.sign_typed_data(bytes.fromhex(key), full_message=typed).signature)
    payload = {"channelId": channel_id, "nonce": str(nonce), "amount": str(amount), "timestamp": str(timestamp),
               "taskId": f"timed-{nonce}", "signature": "0x" + signature.hex()}
    proof = {"network": requirement["network"], "payload": payload, "scheme": requirement["scheme"], "x402Version": 1}
    return base64.b64encode(json.dumps(proof, separators=(",", ":")).encode()).decode()


def main(address, path, key, channel_id, last_nonce, cumulative, lines, max_steps):
    nonce, paid = int(last_nonce), int(cumulative)
    lines, max_steps = int(lines), int(max_steps)

    # 1. The 402 answer asks for one step.
    status, fields, _ = whole(address, path, {})
    check(status == 402 and fields.get("paymesh-error-code") == "1301", f"unpaid: {status} {fields}")
    check("www-authenticate" not in fields, "no L402 for a per-second service")
    required = json.loads(base64.b64decode(fields["payment-required"]))
    requirement = required["accepts"][0]
    extra = requirement["extra"]
    check(requirement["scheme"] == "paymesh-channel" and extra["unit"] == "second", f"requirement {requirement}")
    step, unit_price = int(extra["step"]), int(extra["unitPrice"])
    check(1 <= step <= 60 and int(requirement["amount"]) == step * unit_price, f"amount = step × unitPrice: {requirement}")
    price = step * unit_price

    # 2. The first step with the request: the head at once.
    nonce += 1
    paid += price
    sent = time.monotonic()
    conn, reader, status, head = request(address, path, {"X-PAYMENT": voucher(key, requirement, channel_id, nonce, paid)})
    check(status == 200, f"first step: {status} {head}")
    check(head.get("transfer-encoding", "").lower() == "chunked" and "content-length" not in head, f"chunked: {head}")
    check({t.strip().lower() for t in head.get("trailer", "").split(",")} == {"paymesh-end", "paymesh-served-millis", "paymesh-seconds-paid"},
          f"Trailer: {head.get('trailer')}")
    token = head.get("paymesh-continue", "")
    check(re.fullmatch(r"[0-9a-f]{32}", token) is not None, f"Paymesh-Continue: {token!r}")
    check(head.get("paymesh-next-price") == str(price), f"Paymesh-Next-Price: {head.get('paymesh-next-price')}")
    check(head.get("paymesh-seconds-paid") == str(step) and head.get("paymesh-step-seconds") == str(step), f"seconds: {head}")
    check(head.get("paymesh-upstream-status") == "200", f"Paymesh-Upstream-Status: {head.get('paymesh-upstream-status')}")
    receipt = json.loads(base64.b64decode(head["x-payment-response"]))
    check(receipt["success"] and receipt["amount"] == str(price) and receipt["extra"]["nonce"] == str(nonce), f"receipt {receipt}")

    # 3. Top-ups on another connection while the body streams.
    state = {"seconds": step, "vouchers": 1, "ended": False}

    def top_ups():
        nonlocal nonce, paid
        while True:
            with lock:
                if state["ended"] or state["vouchers"] >= max_steps:
                    return
                due = state["seconds"] - step / 2
            wait = due - (time.monotonic() - sent)
            if wait > 0:
                time.sleep(min(wait, 0.05))
                continue
            status, fields, body = whole(address, path, {"Paymesh-Continue": token,
                                                         "X-PAYMENT": voucher(key, requirement, channel_id, nonce + 1, paid + price)})
            if status == 402 and fields.get("paymesh-error-code") == "1326":
                return  # the answer ended while this top-up was on its way: refused, nothing taken (the trailer tells)
            check(status == 200 and body == b"", f"top-up: {status} {fields} {body[:80]!r}")
            with lock:
                nonce, paid = nonce + 1, paid + price
                state["seconds"] += step
                state["vouchers"] += 1
                check(fields.get("paymesh-seconds-paid") == str(state["seconds"]), f"top-up seconds: {fields}")
            check(fields.get("paymesh-continue") == token and fields.get("paymesh-next-price") == str(price)
                  and fields.get("paymesh-step-seconds") == str(step) and "x-payment-response" in fields, f"top-up head: {fields}")

    payer = threading.Thread(target=top_ups)
    payer.start()
    status, fields, _ = whole(address, path, {"Paymesh-Continue": "00" * 16,
                                              "X-PAYMENT": voucher(key, requirement, channel_id, 2**62, paid + 10 * price)})
    check(status == 402 and fields.get("paymesh-error-code") == "1326", f"unknown token: {status} {fields.get('paymesh-error-code')}")

    # 4. The chunked body to its last chunk, then the trailer section.
    body = b""
    while True:
        size_line = read_line(reader)
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        body += reader.read(size)
        check(reader.read(2) == b"\r\n", "a chunk ends with CRLF")
    trailers = read_fields(reader)
    conn.close()
    with lock:
        state["ended"] = True
    payer.join()
    check(body.decode() == "".join(f"tick {i}\n" for i in range(lines)), f"the body, in order: {body[:200]!r}")
    check(trailers.get("paymesh-end") == "complete", f"Paymesh-End: {trailers}")
    check(trailers.get("paymesh-seconds-paid") == str(state["seconds"]), f"Paymesh-Seconds-Paid {trailers} vs {state['seconds']} paid")
    served = int(trailers.get("paymesh-served-millis", "-1"))
    check(0 <= served <= 1000 * state["seconds"], f"Paymesh-Served-Millis {served} ≤ 1000 × {state['seconds']}")

    # 5. Ended: the token pays for nothing more.
    status, fields, _ = whole(address, path, {"Paymesh-Continue": token,
                                              "X-PAYMENT": voucher(key, requirement, channel_id, nonce + 1, paid + price)})
    check(status == 402 and fields.get("paymesh-error-code") == "1326", f"ended token: {status} {fields.get('paymesh-error-code')}")
    print(f"timed wire checks: {checks} passed; paid {paid - int(cumulative)} in {state['vouchers']} vouchers, last nonce {nonce}")


if __name__ == "__main__":
    main(*sys.argv[1:9])
