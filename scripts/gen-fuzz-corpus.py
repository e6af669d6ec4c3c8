#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target to Fuzz/Corpus/<Target>/ and the same files as
regression inputs to Fuzz/Regressions/<Target>/ (named seed-*; crashers found by fuzzing sit
next to them under other names and are never touched here).

Seeds come from Specs/vectors/*.json plus hand-made edge cases. The input layouts are those of
Fuzz/README.md: most targets start with a FuzzInput header byte (high nibble = number of
chunk-size bytes that follow, low nibble = mode). Standard library only; deterministic.
    python3 scripts/gen-fuzz-corpus.py
"""
import json
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(ROOT, "Specs", "vectors")
MAX_FILE = 70_000


def load(name):
    with open(os.path.join(VECTORS, name)) as f:
        return json.load(f)


def slug(text):
    out = "".join(c if c.isalnum() else "-" for c in text.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")[:48]


def header(mode=0, chunks=()):
    assert 0 <= mode < 16 and len(chunks) < 16 and all(0 <= c < 256 for c in chunks)
    return bytes([len(chunks) << 4 | mode]) + bytes(chunks)


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


# --- yamux frames (Specs/mux.md) ---------------------------------------------------------
SYN, ACK, FIN, RST = 1, 2, 4, 8
DATA, WINDOW, PING, GOAWAY = 0, 1, 2, 3


def yamux(ftype, flags, sid, length, payload=b""):
    return struct.pack(">BBHII", 0, ftype, flags, sid, length) + payload


def ydata(sid, payload, flags=0):
    return yamux(DATA, flags, sid, len(payload), payload)


# --- yamux session scenarios: [header][L][ops][wire] ------------------------------------
# Op byte = arg << 4 | kind (YamuxSessionHarness.Op); stream ops take one more byte that picks
# a stream: index into the streams seen so far, or >= 0xf0 for the raw id (b & 0x0f).
RECV, ACCEPT, WRITE, CONSUMED, CLOSE, RESET, PINGOP, TICK = 0, 3, 4, 5, 6, 7, 8, 9
OPEN, GOAWAYOP, FLUSH, CONSUMEALL, ADVANCE, OPENWRITE = 10, 11, 12, 13, 14, 15
# Indices into YamuxSessionHarness.sizes and .steps.
SIZE = {0: 0, 1: 1, 12: 4, 100: 5, 1000: 6, 4096: 7, 65536: 9, 131072: 11, 262144: 13, 300000: 15}
STEP = {0: 0, 1: 1, 1000: 4, 10000: 7, 30000: 11, 60000: 14}


def op(kind, arg=0, *extra):
    return bytes([arg << 4 | kind]) + bytes(extra)


def session(mode, frames, ops, chunked=True):
    """frames are delivered one per RECV op (chunk sizes = frame sizes, so at most 15 frames
    each under 256 bytes); without chunking the wire is one chunk."""
    wire = b"".join(frames)
    sizes = [len(f) for f in frames] if chunked else []
    assert all(0 < s < 256 for s in sizes) and len(sizes) < 16
    opbytes = b"".join(ops)
    assert len(opbytes) < 256
    return header(mode, sizes) + bytes([len(opbytes)]) + opbytes + wire


def session_seeds():
    seeds = {}
    recv = op(RECV)
    # A full stream life: peer opens 1, we accept and answer, credit, pings, FINs, our stream 2
    # with a write beyond the window, a reset, keepalive and its timeout.
    seeds["stream-life"] = session(0, [
        ydata(1, b"hello", SYN),
        yamux(WINDOW, 0, 1, 1000),
        yamux(PING, SYN, 0, 7),
        yamux(PING, ACK, 0, 42),
        ydata(1, b"", FIN),
        yamux(WINDOW, ACK, 2, 0),
        yamux(WINDOW, 0, 2, 262144),
        yamux(GOAWAY, 0, 0, 0),
    ], [
        recv, op(ACCEPT, 0, 0), op(WRITE, SIZE[100], 0), op(CONSUMED, SIZE[1], 0), recv, recv,
        op(PINGOP, 0, 42), recv, recv, op(CLOSE, 0, 0), op(OPEN, 1), recv,
        op(WRITE, SIZE[300000], 0), recv, op(RESET, 0, 0), op(TICK, STEP[30000]),
        op(TICK, STEP[30000]), op(TICK, STEP[10000]), recv,
    ])
    # Tight limits (mode 1): five SYNs against a backlog of 2 and 4 concurrent streams.
    seeds["tight-limits"] = session(1, [ydata(i, b"x", SYN) for i in (1, 3, 5, 7, 9, 11)], [
        recv, recv, recv, op(ACCEPT, 0, 0), op(ACCEPT, 0, 1), recv, recv, op(OPEN), op(OPEN),
        op(OPENWRITE, SIZE[12]), recv, recv,
    ])
    # Flow control with a 1 MiB window (mode 2): consume to trigger WindowUpdates.
    big = ydata(1, bytes(200), SYN)
    seeds["window-1mib"] = session(2, [big, ydata(1, bytes(200)), ydata(1, bytes(200), FIN)], [
        recv, op(CONSUMED, SIZE[100], 0), recv, op(ACCEPT, 0, 0), op(CONSUMEALL), recv,
        op(CONSUMED, SIZE[131072], 0), op(WRITE, SIZE[65536], 0), op(CLOSE, 0, 0),
    ])
    # Small frames (mode 8, keepalive off with 4): our writes split into 1000-byte frames.
    seeds["small-frames"] = session(12, [ydata(1, b"hi", SYN), yamux(WINDOW, 0, 1, 5000)], [
        recv, op(WRITE, SIZE[4096], 0), recv, op(FLUSH), op(GOAWAYOP, 0), op(OPEN),
        op(GOAWAYOP, 1),
    ])
    # Protocol violations, each ends the session.
    seeds["window-exceeded"] = session(8, [ydata(1, b"a", SYN), yamux(DATA, 0, 1, 262144)], [recv, recv])
    seeds["syn-our-parity"] = session(0, [ydata(2, b"a", SYN)], [recv, op(ACCEPT, 0, 0)])
    seeds["ids-not-increasing"] = session(0, [ydata(5, b"a", SYN), ydata(3, b"b", SYN)], [recv, recv])
    seeds["data-after-fin"] = session(0, [ydata(1, b"a", SYN | FIN), ydata(1, b"b")], [recv, recv])
    seeds["unopened-stream"] = session(0, [ydata(9, b"a")], [recv, op(WRITE, SIZE[1], 0xf9)])
    seeds["window-overflow"] = session(0, [ydata(1, b"", SYN), yamux(WINDOW, 0, 1, 0xffffffff)], [recv, recv])
    seeds["bad-version"] = session(0, [b"\x01" + yamux(PING, SYN, 0, 1)[1:]], [recv, op(PINGOP, 0, 1)])
    seeds["rst-then-late"] = session(0, [ydata(1, b"a", SYN), yamux(WINDOW, RST, 1, 0), ydata(1, b"late")],
                                     [recv, recv, recv, op(CLOSE, 0, 0)])
    # Unknown ids, ping timeout, everything after close.
    seeds["api-unknown-ids"] = session(0, [], [
        op(ACCEPT, 0, 0xf1), op(WRITE, SIZE[1], 0xf3), op(CLOSE, 0, 0xf2), op(RESET, 0, 0xf4),
        op(CONSUMED, SIZE[1], 0xf5), op(PINGOP, 1, 9), op(TICK, STEP[1000]), op(TICK, STEP[10000]),
        op(OPEN), op(WRITE, SIZE[1], 0), op(ACCEPT, 0, 0), op(FLUSH),
    ])
    # The whole stream drip-fed, one byte per chunk, no ops.
    wire = ydata(1, b"hello", SYN) + yamux(PING, SYN, 0, 3) + ydata(1, b"bye", FIN) + yamux(GOAWAY, 0, 0, 0)
    seeds["drip"] = header(0, [1]) + b"\x00" + wire
    seeds["one-chunk"] = header(0) + b"\x00" + wire
    return seeds


# --- msgpack edge cases ------------------------------------------------------------------
def msgpack_seeds():
    nested = lambda depth: b"\x91" * (depth - 1) + b"\x90"
    return {
        "scalars": bytes.fromhex("9fc0c2c37f00ffe0cc80cd0100ce00010000cf0000000100000000d080d18000d280000000d38000000000000000"),
        "floats": bytes.fromhex("94ca3fc00000cb3ff8000000000000cb7ff8000000000001cb8000000000000000"),
        "float32-nan": bytes.fromhex("ca7fc00001"),
        "strs": bytes.fromhex("95a0a3616263d903646566da0003676869") + bytes.fromhex("db00000001") + b"z",
        "bins": bytes.fromhex("93c400c40201ffc5000300ff00"),
        "exts": b"\x96" + b"".join(bytes([0xd4 + i, i + 1]) + bytes(1 << i) for i in range(5))
                + bytes.fromhex("c70106ff"),
        "ext16-empty": bytes.fromhex("c8000007"),
        "map16": bytes.fromhex("de0002a161c0a162c3"),
        "array32": bytes.fromhex("dd0000000201c0"),
        "depth-16": nested(16),
        "depth-17": nested(17),
        "utf8-4byte": bytes.fromhex("a4f09f9880"),
        "utf8-overlong": bytes.fromhex("a2c0af"),
        "utf8-surrogate": bytes.fromhex("a3eda080"),
        "str-canonical-e-acute": bytes.fromhex("92a2c3a9a365cc81"),
        "map-dup-keys": bytes.fromhex("82a16101a16102"),
        "map-nonstr-keys": bytes.fromhex("8301c0c0c291c3"),
        "neg-fixint-as-int8": bytes.fromhex("92d0ffd001"),
        "reserved-c1": b"\xc1",
        "empty": b"",
        "trailing": b"\x01\x02",
        "fixarray-lie": b"\x9f\x01",
        "bin32-lie": bytes.fromhex("c6ffffffff00"),
        "ext32-lie": bytes.fromhex("c9ffffffff0100"),
        "str32-over-limit": bytes.fromhex("db00010001") + b"a" * 8,
        "elements-4096": b"\xdc\x0f\xff" + b"\x00" * 4095,
        "elements-4097": b"\xdc\x10\x00" + b"\x00" * 4096,
    }


def write_target(target, files):
    for base in ("Corpus", "Regressions"):
        d = os.path.join(ROOT, "Fuzz", base, target)
        os.makedirs(d, exist_ok=True)
        prefix = "" if base == "Corpus" else "seed-"
        if base == "Corpus":
            for old in os.listdir(d):
                os.remove(os.path.join(d, old))
        else:
            for old in os.listdir(d):
                if old.startswith("seed-"):
                    os.remove(os.path.join(d, old))
        for name, data in files.items():
            assert len(data) < MAX_FILE, (target, name)
            with open(os.path.join(d, prefix + name), "wb") as f:
                f.write(data)
    print(f"{target}: {len(files)} seeds")


def unique(entries):
    """name → bytes with distinct names (a counter for repeats)."""
    out = {}
    for name, data in entries:
        n, i = name, 2
        while n in out:
            n, i = f"{name}-{i}", i + 1
        out[n] = data
    return out


def main():
    msgs = load("messages.json")
    mux = load("mux-frames.json")
    valid = [(f"{slug(v['name'])}", bytes.fromhex(v["frame_hex"])) for v in msgs["valid"]]
    tolerated = [(f"tolerated-{slug(v['description'])}", bytes.fromhex(v["frame_hex"])) for v in msgs["tolerated"]]
    invalid = [(f"invalid-{slug(v['description'])}", bytes.fromhex(v["frame_hex"])) for v in msgs["invalid"]]
    stream = b"".join(f for _, f in valid)

    # 1. FuzzLengthPrefixFrame: [header][stream bytes]
    lp = [(n, header() + f) for n, f in valid[::3] + tolerated[:1]]
    lp += [("invalid-" + slug(v["description"]), header() + bytes.fromhex(v["frame_hex"]))
           for v in msgs["invalid"][:3]]
    lp += [
        ("stream-one-chunk", header() + stream),
        ("stream-drip", header(0, [1]) + stream[:600]),
        ("stream-chunks-3-7-255", header(0, [3, 7, 255]) + stream),
        ("stream-chunks-4-rest", header(0, [4, 0]) + stream),
        ("max-length-header", header() + struct.pack(">I", 1 << 20) + b"\x80"),
        ("max-plus-one", header() + struct.pack(">I", (1 << 20) + 1)),
        ("truncated-prefix", header() + b"\x00\x00\x01"),
        ("truncated-payload", header() + struct.pack(">I", 100) + bytes(10)),
        ("one-byte-frames", header(0, [5]) + frame(b"\xc0") * 20),
        ("frame-then-zero", header(0, [2]) + frame(b"\x80") + bytes(4)),
        ("empty", b""),
        ("header-only", header(0, [9, 9, 9])),
    ]
    write_target("FuzzLengthPrefixFrame", unique(lp))

    # 2. FuzzMessageDecoder: mode 0 = [header][envelope], mode 1 = [header][frame stream]
    md = [(n, header(0) + f[4:]) for n, f in valid + tolerated]
    md += [(n, header(0) + f[4:]) for n, f in invalid if len(f) > 4]
    md += [
        ("stream-all-valid", header(1) + stream),
        ("stream-drip", header(1, [1]) + b"".join(f for _, f in valid[:3])),
        ("stream-bad-then-good", header(1, [5, 0]) + b"".join(f for n, f in invalid[3:8]) + valid[6][1]),
        ("stream-bad-length", header(1) + valid[0][1] + struct.pack(">I", 0) + valid[1][1]),
    ]
    write_target("FuzzMessageDecoder", unique(md))

    # 3. FuzzMsgpack: the whole input is one msgpack document.
    mp = [(n, f[4:]) for n, f in valid[::2] + tolerated + [x for x in invalid if len(x[1]) > 4][-12:]]
    mp += list(msgpack_seeds().items())
    write_target("FuzzMsgpack", unique(mp))

    # 4. FuzzYamuxFrame: [header][stream bytes]; mode 1 = 4096-byte Data limit.
    yf = [(f"valid-{slug(v['description'])}", header() + bytes.fromhex(v["hex"])) for v in mux["valid"]]
    yf += [(f"invalid-{slug(v['description'])}", header() + bytes.fromhex(v["hex"])) for v in mux["invalid"]]
    all_valid = b"".join(bytes.fromhex(v["hex"]) for v in mux["valid"])
    yf += [
        ("stream-drip", header(0, [1]) + all_valid),
        ("stream-chunks", header(0, [11, 13, 2]) + all_valid),
        ("small-limit-4096", header(1) + ydata(1, bytes(4096)) + ydata(1, bytes(4097))),
        ("split-payload", header(0, [20, 0]) + ydata(3, bytes(300))),
        ("max-header-fields", header() + yamux(WINDOW, 0xf, 0xffffffff, 0xffffffff)),
    ]
    write_target("FuzzYamuxFrame", unique(yf))

    # 5. FuzzYamuxSession: scenarios, and each valid vector frame on its own.
    ys = list(session_seeds().items())
    ys += [(f"frame-{slug(v['description'])}", header() + b"\x00" + bytes.fromhex(v["hex"])) for v in mux["valid"][:10]]
    write_target("FuzzYamuxSession", unique(ys))

    # 6. FuzzNoiseResponder: mode 0 = initiator's TCP bytes, 1 = real message 1 then the payload
    #    (+4: real message 3 too), 2 = payload as the initiator's identity proof, 3 = plaintexts
    #    over an established session (+4: one ciphertext bit flipped).
    hs = load("handshake.json")
    wires = [bytes.fromhex(m["wire"]) for m in hs["messages"]]
    from_initiator = [w for w, m in zip(wires, hs["messages"]) if m["sender"] == "initiator"]
    transcript = b"".join(from_initiator)            # messages 1 and 3, then transport
    proof = bytes.fromhex(hs["initiator"]["payload"])
    transport_frames = b"".join(from_initiator[2:])
    nr = [
        ("raw-transcript", header(0) + transcript),
        ("raw-transcript-drip", header(0, [1]) + transcript),
        ("raw-transcript-chunks", header(0, [7, 2, 0]) + transcript),
        ("raw-message1-only", header(0) + from_initiator[0]),
        ("raw-message1-payload", header(0) + struct.pack(">H", 40) + from_initiator[0][2:] + b"extra123"),
        ("raw-low-order-ephemeral", header(0) + struct.pack(">H", 32) + bytes(32)),
        ("raw-short-message1", header(0) + struct.pack(">H", 31) + bytes(31)),
        ("raw-zero-length", header(0) + b"\x00\x00"),
        ("raw-max-length", header(0) + b"\xff\xff" + bytes(100)),
        ("raw-message1-twice", header(0) + from_initiator[0] * 2),
        ("raw-replayed-message3", header(0) + from_initiator[0] + from_initiator[1] * 2),
        ("real1-then-garbage", header(1) + struct.pack(">H", 64) + bytes(range(64))),
        ("real1-then-vector3", header(1) + from_initiator[1] + transport_frames),
        ("real13-then-transport", header(5) + transport_frames),
        ("real13-then-bad-tag", header(5) + struct.pack(">H", 17) + bytes(17)),
        ("real13-empty-transport", header(5) + struct.pack(">H", 16) + bytes(16)),
        ("proof-valid", header(2) + proof),
        ("proof-empty", header(2)),
        ("proof-not-map", header(2) + b"\x91\x01"),
        ("proof-bad-version", header(2) + proof.replace(b"\xa1v\x01", b"\xa1v\x02", 1)),
        ("proof-short-sig", header(2) + proof.replace(b"\xc4\x41", b"\xc4\x40", 1)[:-1]),
        ("transport-one", header(3) + b"hello"),
        ("transport-many", header(3, [1, 2, 50, 255]) + bytes(range(256)) * 3),
        ("transport-tamper", header(7, [10]) + bytes(range(40))),
        ("transport-large", header(3) + bytes(65_519)),
        ("transport-too-large", header(3) + bytes(65_520)),
    ]
    write_target("FuzzNoiseResponder", unique(nr))
    write_target("FuzzOnionPeel", unique(onion_seeds()))


def onion_seeds():
    """FuzzOnionPeel (Fuzz/README.md): 0 a packet, 1 a route's payloads, 2 a failure, 3 a payload."""
    v = load("onion.json")
    onion = bytes.fromhex(v["onion"])
    seeds = [("packet-vector", header(0) + onion), ("packet-short", header(0) + onion[:-1]),
             ("packet-version-1", header(0) + b"\x01" + onion[1:]),
             ("packet-tampered", header(0) + onion[:600] + bytes([onion[600] ^ 1]) + onion[601:]),
             ("packet-zero", header(0) + bytes(1366))]
    for i, hop in enumerate(v["hops"]):
        seeds.append((f"payload-hop{i}", header(3) + bytes.fromhex(hop["payload_hex"])))
    for bad in v["invalid_payloads"]:
        seeds.append((f"payload-{slug(bad['why'])}", header(3) + bytes.fromhex(bad["hex"])))
    route = b"".join(bytes.fromhex(h["payload_hex"]) for h in v["hops"])
    sizes = [len(bytes.fromhex(h["payload_hex"])) for h in v["hops"]]
    seeds += [("route-vector", header(1, sizes) + route), ("route-one-hop", header(1) + b"x"),
              ("route-twenty", header(1, [30]) + bytes(range(200)) * 3),
              ("route-twenty-one", header(1, [10]) + bytes(range(210))),
              ("route-too-big", header(1, [60]) + bytes(range(200)) * 6),
              ("route-big-payload", header(1, [0]) + bytes(1265))]
    f = v["failure"]
    seeds += [("failure-vector", header(2) + bytes.fromhex(f["packet_at_origin"])),
              ("failure-unwrapped", header(2) + bytes.fromhex(f["packet_from_failing_hop"])),
              ("failure-short", header(2) + bytes(35)), ("failure-long", header(2) + bytes(1025))]
    return seeds

    # FuzzGossipRouter: [header][gossip stream bytes] (Specs/gossip.md); mode bit 0 = heartbeat
    # after every chunk, bit 1 = tiny limits. Seeds: every vector frame, the signed messages as
    # PUBLISH frames, the invalid frames, and streams of several frames cut in various ways.
    gv = load("gossip.json")
    good = [bytes.fromhex(f["hex"]) for f in gv["frames"]]
    bad = [(i["description"], bytes.fromhex(i["hex"])) for i in gv["invalid_frames"]]
    publish = [frame(b"\x83\xa1v\x01\xa4type\x03\xa4data\x82\xa4body\xc5" + struct.pack(">H", len(bytes.fromhex(m["body_hex"])))
                     + bytes.fromhex(m["body_hex"]) + b"\xa9signature\xc4\x41" + bytes.fromhex(m["signature"]))
               for m in gv["messages"]]
    gr = [("frame-" + f["name"], header(0) + bytes.fromhex(f["hex"])) for f in gv["frames"]]
    gr += [("message-" + slug(m["description"]), header(0) + p) for m, p in zip(gv["messages"], publish)]
    gr += [("invalid-" + slug(d), header(0) + b) for d, b in bad]
    stream = b"".join(good) + b"".join(publish)
    gr += [("stream-whole", header(0) + stream), ("stream-drip", header(0, [1]) + stream),
           ("stream-chunks-heartbeats", header(1, [9, 200, 3]) + stream),
           ("stream-tiny-limits", header(3, [0]) + stream + stream),
           ("publish-twice-then-iwant", header(1, [0]) + publish[2] + publish[2] + good[4]),
           ("ihave-then-bad-length", header(0) + good[3] + b"\x00\x00\x00\x00" + good[0])]
    write_target("FuzzGossipRouter", unique(gr))


if __name__ == "__main__":
    main()
