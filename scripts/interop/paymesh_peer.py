#!/usr/bin/env python3
"""An independent Paymesh (wire protocol paymesh/1) peer, written only from Specs/*.md.

Layers (Specs/README.md): TCP -> [u16 BE length || Noise message]* (transport.md)
-> Noise_XX_25519_ChaChaPoly_SHA256 with the paymesh/1 prologue and identity proofs
-> one byte stream of yamux frames (mux.md) -> per stream a protocol header (streams.md)
-> on /paymesh/payments/1 [u32 BE length || msgpack envelope]* (messages.md).

Modes:
  dial   --host H --port P [--expect 0xADDR] --vectors Specs/vectors/messages.json
  listen [--host H] --port P --print-address
  selftest --vectors Specs/vectors/messages.json   (message codec against every vector)

Exit status: 0 success, 1 protocol/interop deviation (reason on stderr), 3 missing packages.
Public libraries only: noiseprotocol (Noise), eth-account (secp256k1 / EIP-191), msgpack.
"""
import argparse
import asyncio
import json
import secrets
import struct
import sys

try:
    import msgpack
    from eth_account import Account
    from eth_account.messages import encode_defunct
    from eth_utils import to_checksum_address
    from noise.connection import Keypair, NoiseConnection
    from cryptography.hazmat.primitives.asymmetric import x25519
    from cryptography.hazmat.primitives import serialization
except ImportError as exc:  # the Swift test turns this exit status into a clear failure
    print(f"MISSING-PYTHON-PACKAGES: {exc}; run: pip install noiseprotocol eth-account msgpack",
          file=sys.stderr)
    sys.exit(3)


class ProtocolError(Exception):
    """A deviation from the specification by the remote peer (or a failed interop check)."""


TRACE = bool(__import__("os").environ.get("PAYMESH_TRACE"))
TYPE_NAMES = ("Data", "WindowUpdate", "Ping", "GoAway")


def trace(direction, ftype, flags, sid, length):
    if TRACE:
        names = "|".join(n for n, b in (("SYN", 1), ("ACK", 2), ("FIN", 4), ("RST", 8)) if flags & b)
        log(f"{direction} {TYPE_NAMES[ftype]}[{names}] stream={sid} length={length}")


def log(*args):
    print("[py-peer]", *args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# transport.md: framing, Noise XX, identity proof
# ---------------------------------------------------------------------------------------------

NOISE_NAME = b"Noise_XX_25519_ChaChaPoly_SHA256"
PROLOGUE = b"paymesh/1"                      # 7061796d6573682f31, no terminator
MAX_NOISE_MESSAGE = 65535
TAG = 16
MAX_PLAINTEXT = MAX_NOISE_MESSAGE - TAG     # 65519
MAX_PROOF = 1024
MAX_MSG2 = 32 + 48 + MAX_PROOF + TAG        # 1120
MAX_MSG3 = 48 + MAX_PROOF + TAG             # 1088
HANDSHAKE_TIMEOUT = 10.0
NONCE_LIMIT = 1 << 62
SIGNED_PREFIX = "paymesh-noise-static-key:"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


async def read_noise_frame(reader, max_len=MAX_NOISE_MESSAGE):
    """One [u16 BE length || message] frame; None on a clean EOF at a frame boundary."""
    try:
        head = await reader.readexactly(2)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise ProtocolError("connection closed inside a frame length")
    (length,) = struct.unpack(">H", head)
    if length == 0:
        raise ProtocolError("zero-length Noise frame")
    if length > max_len:
        raise ProtocolError(f"Noise frame of {length} bytes exceeds {max_len}")
    try:
        return await reader.readexactly(length)
    except asyncio.IncompleteReadError:
        raise ProtocolError("connection closed inside a Noise frame")


def frame(message: bytes) -> bytes:
    assert 0 < len(message) <= MAX_NOISE_MESSAGE
    return struct.pack(">H", len(message)) + message


def check_signature_form(sig: bytes):
    if len(sig) != 65:
        raise ProtocolError("signature is not 65 bytes")
    r, s, v = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:64], "big"), sig[64]
    if v not in (27, 28):
        raise ProtocolError(f"signature v = {v}, not 27/28")
    if not (1 <= r < SECP256K1_N) or not (1 <= s <= (SECP256K1_N - 1) // 2):
        raise ProtocolError("signature r/s out of range or high s (EIP-2)")


class Identity:
    """secp256k1 identity key (peer id = Ethereum address) and an X25519 Noise static key."""

    def __init__(self, identity_private: bytes = None, static_private: bytes = None):
        self.account = Account.from_key(identity_private or secrets.token_bytes(32))
        self.address = bytes.fromhex(self.account.address[2:])
        sk = (x25519.X25519PrivateKey.from_private_bytes(static_private) if static_private
              else x25519.X25519PrivateKey.generate())
        self.static_private = sk.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                               serialization.NoEncryption())
        self.static_public = sk.public_key().public_bytes(serialization.Encoding.Raw,
                                                          serialization.PublicFormat.Raw)

    @property
    def text(self):
        return to_checksum_address("0x" + self.address.hex())

    def proof(self, features=("payments/1",)) -> bytes:
        text = SIGNED_PREFIX + self.static_public.hex()  # 25 + 64 = 89 bytes
        sig = bytes(self.account.sign_message(encode_defunct(text=text)).signature)
        check_signature_form(sig)
        # keys written in the order v, addr, sig, features (transport.md §4.1)
        out = msgpack.packb({"v": 1, "addr": self.address, "sig": sig, "features": list(features)},
                            use_bin_type=True)
        assert len(out) <= MAX_PROOF
        return out


class _Pairs(list):
    """A msgpack map kept as its ordered (key, value) pairs, so duplicates stay visible."""


def _unpack_pairs(data: bytes):
    return msgpack.unpackb(data, raw=False, strict_map_key=False, use_list=True,
                           object_pairs_hook=_Pairs)


def verify_proof(payload: bytes, remote_static: bytes, own_address: bytes, expected: bytes | None):
    """transport.md §4.3. Returns (address, features)."""
    if len(payload) > MAX_PROOF:
        raise ProtocolError("identity proof exceeds 1024 bytes")
    try:
        obj = _unpack_pairs(payload)
    except Exception as exc:
        raise ProtocolError(f"identity proof is not one msgpack object: {exc}")
    if not isinstance(obj, _Pairs):
        raise ProtocolError("identity proof is not a map")
    seen = {}
    for key, value in obj:
        if isinstance(key, str) and key in ("v", "addr", "sig", "features"):
            if key in seen:
                raise ProtocolError(f"identity proof repeats key {key!r}")
            seen[key] = value
    for key in ("v", "addr", "sig", "features"):
        if key not in seen:
            raise ProtocolError(f"identity proof lacks {key!r}")
    v, addr, sig, features = seen["v"], seen["addr"], seen["sig"], seen["features"]
    if isinstance(v, bool) or not isinstance(v, int) or v != 1:
        raise ProtocolError(f"identity proof v = {v!r}")
    if not isinstance(addr, bytes) or len(addr) != 20:
        raise ProtocolError("identity proof addr is not bin(20)")
    if not isinstance(sig, bytes) or len(sig) != 65:
        raise ProtocolError("identity proof sig is not bin(65)")
    if not isinstance(features, list) or len(features) > 32 or not all(
            isinstance(f, str) and len(f.encode()) <= 64 for f in features):
        raise ProtocolError("identity proof features is not an array of <= 32 str of <= 64 bytes")
    check_signature_form(sig)
    text = SIGNED_PREFIX + remote_static.hex()
    try:
        signer = Account.recover_message(encode_defunct(text=text), signature=sig)
    except Exception as exc:
        raise ProtocolError(f"identity proof signature does not recover: {exc}")
    if bytes.fromhex(signer[2:]) != addr:
        raise ProtocolError(f"identity proof signed by {signer}, but addr is 0x{addr.hex()}")
    if addr == own_address:
        raise ProtocolError("self-connection (peer has our address)")
    if expected is not None and addr != expected:
        raise ProtocolError(f"peer is 0x{addr.hex()}, expected 0x{expected.hex()}")
    return addr, features


class NoiseTransport:
    """A completed handshake: sends and receives transport messages (transport.md §5)."""

    def __init__(self, reader, writer, conn: NoiseConnection, peer: bytes, features):
        self.reader, self.writer, self.conn = reader, writer, conn
        self.peer, self.peer_features = peer, features
        self.sent = 0
        self.received = 0

    @classmethod
    async def handshake(cls, reader, writer, identity: Identity, initiator: bool, expected=None):
        return await asyncio.wait_for(cls._handshake(reader, writer, identity, initiator, expected),
                                      HANDSHAKE_TIMEOUT)

    @classmethod
    async def _handshake(cls, reader, writer, identity, initiator, expected):
        conn = NoiseConnection.from_name(NOISE_NAME)
        conn.set_as_initiator() if initiator else conn.set_as_responder()
        conn.set_keypair_from_private_bytes(Keypair.STATIC, identity.static_private)
        conn.set_prologue(PROLOGUE)
        conn.start_handshake()
        if initiator:
            m1 = bytes(conn.write_message(b""))                   # -> e
            assert len(m1) == 32
            writer.write(frame(m1))
            await writer.drain()
            m2 = await read_noise_frame(reader, MAX_MSG2)           # <- e, ee, s, es + proof_r
            if m2 is None:
                raise ProtocolError("connection closed during the handshake")
            if len(m2) < 32 + 48 + TAG:
                raise ProtocolError(f"message 2 has {len(m2)} bytes")
            hs = conn.noise_protocol.handshake_state
            payload = bytes(conn.read_message(m2))
            remote_static = hs.rs.public_bytes
            peer, features = verify_proof(payload, remote_static, identity.address, expected)
            m3 = bytes(conn.write_message(identity.proof()))       # -> s, se + proof_i
            writer.write(frame(m3))
            await writer.drain()
        else:
            m1 = await read_noise_frame(reader, 32)
            if m1 is None:
                raise ProtocolError("connection closed during the handshake")
            if len(m1) != 32:
                raise ProtocolError(f"message 1 has {len(m1)} bytes, not 32")
            conn.read_message(m1)
            m2 = bytes(conn.write_message(identity.proof()))
            writer.write(frame(m2))
            await writer.drain()
            m3 = await read_noise_frame(reader, MAX_MSG3)
            if m3 is None:
                raise ProtocolError("connection closed during the handshake")
            if len(m3) < 48 + TAG:
                raise ProtocolError(f"message 3 has {len(m3)} bytes")
            hs = conn.noise_protocol.handshake_state
            payload = bytes(conn.read_message(m3))
            remote_static = hs.rs.public_bytes
            peer, features = verify_proof(payload, remote_static, identity.address, expected)
        if not conn.handshake_finished:
            raise ProtocolError("Noise handshake did not finish after three messages")
        if TRACE:
            log(f"handshake message sizes: {len(m1)}, {len(m2)}, {len(m3)}; peer features {features}")
        return cls(reader, writer, conn, peer, features)

    def send(self, data: bytes):
        """Encrypts and writes (synchronously, so callers keep frame order) 1..65519-byte pieces."""
        for i in range(0, len(data), MAX_PLAINTEXT):
            if self.sent >= NONCE_LIMIT - 1:
                raise ProtocolError("send nonce limit reached")
            self.writer.write(frame(self.conn.encrypt(bytes(data[i:i + MAX_PLAINTEXT]))))
            self.sent += 1

    async def receive(self):
        """The next transport plaintext, or None on EOF at a frame boundary."""
        message = await read_noise_frame(self.reader)
        if message is None:
            return None
        if self.received >= NONCE_LIMIT:
            raise ProtocolError("receive nonce limit reached")
        try:
            plaintext = self.conn.decrypt(message)
        except Exception as exc:
            raise ProtocolError(f"transport message does not decrypt: {exc}")
        self.received += 1
        if len(plaintext) == 0:
            raise ProtocolError("zero-length transport plaintext")
        return plaintext


# ---------------------------------------------------------------------------------------------
# mux.md: yamux
# ---------------------------------------------------------------------------------------------

T_DATA, T_WINDOW, T_PING, T_GOAWAY = 0, 1, 2, 3
SYN, ACK, FIN, RST = 0x1, 0x2, 0x4, 0x8
INITIAL_WINDOW = 256 * 1024
MAX_DATA_IN = 16 * 1024 * 1024
MAX_DATA_OUT = 64 * 1024
HEADER = struct.Struct(">BBHII")


def validate_header(buf):
    """Decodes a 12-byte yamux header, checked in the order of mux.md §1 "Header validation"."""
    version, ftype, flags, sid, length = HEADER.unpack_from(buf)
    if version != 0:
        raise ProtocolError("badVersion")
    if ftype > 3:
        raise ProtocolError("unknownType")
    if flags & ~0xF:
        raise ProtocolError("invalidFlags")
    if ftype in (T_DATA, T_WINDOW) and sid == 0:
        raise ProtocolError("streamFrameOnSession")
    if ftype in (T_PING, T_GOAWAY) and sid != 0:
        raise ProtocolError("sessionFrameOnStream")
    if ftype in (T_DATA, T_WINDOW) and flags & SYN and flags & ACK:
        raise ProtocolError("invalidFlags")
    if ftype == T_PING and flags not in (SYN, ACK):
        raise ProtocolError("invalidFlags")
    if ftype == T_GOAWAY and flags:
        raise ProtocolError("invalidFlags")
    if ftype == T_DATA and length > MAX_DATA_IN:
        raise ProtocolError("frameTooLarge")
    return ftype, flags, sid, length


class StreamReset(Exception):
    pass


class Stream:
    def __init__(self, session, sid, inbound):
        self.session, self.id, self.inbound = session, sid, inbound
        self.send_window = INITIAL_WINDOW
        self.recv_window = INITIAL_WINDOW
        self.consumed = 0            # read by the application, not yet returned in a WindowUpdate
        self.buffer = bytearray()
        self.syn_pending = not inbound   # opener: SYN on the first frame
        self.ack_pending = inbound       # acceptor: ACK on the first frame
        self.peer_acked = inbound
        self.fin_received = self.fin_sent = self.reset = False
        self.changed = asyncio.Event()   # data, FIN, RST or window arrived

    def _flags(self, extra=0):
        flags = extra
        if self.syn_pending:
            flags |= SYN
            self.syn_pending = False
        if self.ack_pending:
            flags |= ACK
            self.ack_pending = False
        return flags

    def accept(self):
        """ACK an inbound stream, returning what was consumed so far (mux.md §3, §5)."""
        if self.ack_pending:
            self._window_update(self._flags())

    def reject(self):
        self.session.send_frame(T_WINDOW, RST, self.id, 0)
        self.reset = True
        self.session.forget(self.id)

    def _window_update(self, flags):
        delta = self.consumed if not self.fin_received else 0
        self.consumed -= delta
        self.recv_window += delta
        self.session.send_frame(T_WINDOW, flags, self.id, delta)

    async def write(self, data: bytes):
        data = memoryview(bytes(data))
        while len(data) or self.syn_pending:
            if self.reset:
                raise StreamReset(f"stream {self.id} was reset")
            if self.fin_sent:
                raise ProtocolError("write after close")
            n = min(len(data), MAX_DATA_OUT, self.send_window)
            if n == 0 and len(data):
                self.changed.clear()
                await self.changed.wait()
                continue
            self.send_window -= n
            self.session.send_frame(T_DATA, self._flags(), self.id, n, data[:n])
            data = data[n:]
            await self.session.drain()

    async def read(self, max_bytes=1 << 20) -> bytes:
        """Some bytes, or b'' once the peer has sent FIN and everything was read."""
        while not self.buffer:
            if self.reset:
                raise StreamReset(f"stream {self.id} was reset")
            if self.fin_received or self.session.closed:
                return b""
            self.changed.clear()
            await self.changed.wait()
        out = bytes(self.buffer[:max_bytes])
        del self.buffer[:max_bytes]
        self.consumed += len(out)
        if self.consumed >= INITIAL_WINDOW // 2 and not self.fin_received and not self.ack_pending:
            self._window_update(0)
        return out

    async def read_exactly(self, n) -> bytes:
        out = bytearray()
        while len(out) < n:
            chunk = await self.read(n - len(out))
            if not chunk:
                raise ProtocolError(f"stream {self.id} ended after {len(out)} of {n} bytes")
            out += chunk
        return bytes(out)

    def close(self):
        """Half-close (FIN); also accepts an inbound stream not yet ACKed."""
        if self.fin_sent or self.reset:
            return
        self.fin_sent = True
        self.session.send_frame(T_DATA, self._flags(FIN), self.id, 0)
        self.session.maybe_free(self)


class Session:
    def __init__(self, transport: NoiseTransport, dialer: bool):
        self.t = transport
        self.dialer = dialer
        self.next_id = 1 if dialer else 2
        self.streams = {}
        self.last_peer_syn = 0
        self.accept_queue = asyncio.Queue()
        self.pings = {}
        self.next_ping = 1
        self.goaway_sent = False
        self.peer_goaway = None      # code of the GoAway received
        self.closed = False
        self.error = None            # ProtocolError that ended the session
        self.eof = False             # remote closed TCP at a frame boundary
        self._reader_task = None

    # -- sending ------------------------------------------------------------------------------
    def send_frame(self, ftype, flags, sid, length, payload=b""):
        if self.closed:
            raise ProtocolError("session is closed")
        trace("->", ftype, flags, sid, length)
        self.t.send(HEADER.pack(0, ftype, flags, sid, length) + bytes(payload))

    async def drain(self):
        await self.t.writer.drain()

    def start(self):
        self._reader_task = asyncio.create_task(self._read_loop())

    async def open_stream(self, protocol_id: str, first=b"") -> Stream:
        if self.peer_goaway is not None:
            raise ProtocolError("goAwayReceived: the peer accepts no new streams")
        sid = self.next_id
        self.next_id += 2
        stream = Stream(self, sid, inbound=False)
        self.streams[sid] = stream
        await stream.write(encode_protocol_header(protocol_id) + bytes(first))
        return stream

    async def ping(self, timeout=10.0):
        value = self.next_ping
        self.next_ping += 1
        fut = asyncio.get_running_loop().create_future()
        self.pings[value] = fut
        self.send_frame(T_PING, SYN, 0, value)
        await self.drain()
        try:
            await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            raise ProtocolError(f"keepaliveTimeout: ping {value} unanswered after {timeout} s")
        return value

    async def go_away(self, code=0):
        if not self.goaway_sent and not self.closed:
            self.goaway_sent = True
            self.send_frame(T_GOAWAY, 0, 0, code)
            await self.drain()

    async def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.t.writer.close()
                await self.t.writer.wait_closed()
            except Exception:
                pass
        if self._reader_task and self._reader_task is not asyncio.current_task():
            self._reader_task.cancel()
        self._wake_all()

    def _wake_all(self):
        for s in list(self.streams.values()):
            s.changed.set()
        for f in self.pings.values():
            if not f.done():
                f.set_exception(ProtocolError("session closed"))

    def forget(self, sid):
        self.streams.pop(sid, None)

    def maybe_free(self, stream):
        if stream.fin_sent and stream.fin_received:
            self.forget(stream.id)

    # -- receiving ----------------------------------------------------------------------------
    async def _read_loop(self):
        buf = bytearray()
        try:
            while True:
                while True:
                    consumed = self._parse_one(buf)
                    if consumed == 0:
                        break
                    del buf[:consumed]
                chunk = await self.t.receive()
                if chunk is None:
                    if buf:
                        raise ProtocolError("connection closed inside a yamux frame")
                    self.eof = True
                    break
                buf += chunk
        except ProtocolError as exc:
            self.error = exc
            log("protocol error:", exc)
            try:
                if not self.closed:
                    self.send_frame(T_GOAWAY, 0, 0, 1)
                    await self.drain()
            except Exception:
                pass
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            self.error = ProtocolError(f"connection lost: {exc}")
        finally:
            self.closed = True
            self._wake_all()
            await self.accept_queue.put(None)

    def _parse_one(self, buf) -> int:
        if len(buf) < 12:
            return 0
        ftype, flags, sid, length = validate_header(buf)
        total = 12 + (length if ftype == T_DATA else 0)
        if len(buf) < total:
            return 0
        payload = bytes(buf[12:total])
        trace("<-", ftype, flags, sid, length)
        if ftype == T_PING:
            if flags == SYN:
                self.send_frame(T_PING, ACK, 0, length)
            else:
                fut = self.pings.pop(length, None)
                if fut and not fut.done():
                    fut.set_result(length)
        elif ftype == T_GOAWAY:
            self.peer_goaway = length
            log(f"GoAway received, code {length}")
        else:
            self._stream_frame(ftype, flags, sid, length, payload)
        return total

    def _peer_parity(self, sid):
        return (sid % 2 == 0) if self.dialer else (sid % 2 == 1)

    def _stream_frame(self, ftype, flags, sid, length, payload):
        stream = self.streams.get(sid)
        if flags & SYN:
            if not self._peer_parity(sid):
                raise ProtocolError("streamIDParity")
            if stream is not None:
                raise ProtocolError("streamIDReuse")
            if sid <= self.last_peer_syn:
                raise ProtocolError("streamIDNotIncreasing")
            self.last_peer_syn = sid
            if self.goaway_sent:
                self.send_frame(T_WINDOW, RST, sid, 0)
                return
            stream = Stream(self, sid, inbound=True)
            self.streams[sid] = stream
            self.accept_queue.put_nowait(stream)
        elif stream is None:
            unopened = (sid > self.last_peer_syn) if self._peer_parity(sid) else (sid >= self.next_id)
            if unopened:
                raise ProtocolError("frameForUnopenedStream")
            return  # a stream that is gone: the frame was in flight
        if flags & ACK:
            stream.peer_acked = True
        if flags & RST:
            stream.reset = True
            self.forget(sid)
            stream.changed.set()
            return
        if ftype == T_WINDOW:
            if stream.send_window + length > 0xFFFFFFFF:
                raise ProtocolError("windowOverflow")
            stream.send_window += length
        else:
            if length:
                if stream.fin_received:
                    raise ProtocolError("dataAfterFin")
                if length > stream.recv_window:
                    raise ProtocolError("windowExceeded")
                stream.recv_window -= length
                stream.buffer += payload
        if flags & FIN:
            stream.fin_received = True
            self.maybe_free(stream)
        stream.changed.set()


# ---------------------------------------------------------------------------------------------
# streams.md: protocol header
# ---------------------------------------------------------------------------------------------

PAYMENTS = "/paymesh/payments/1"


def encode_protocol_header(protocol_id: str) -> bytes:
    raw = protocol_id.encode("ascii")
    if not 1 <= len(raw) <= 255 or any(not 0x21 <= b <= 0x7E for b in raw):
        raise ValueError("bad protocol id")
    return bytes([len(raw)]) + raw


async def read_protocol_header(stream: Stream):
    """Returns the protocol id, or None when the header is invalid."""
    n = (await stream.read_exactly(1))[0]
    if n == 0:
        return None
    raw = await stream.read_exactly(n)
    if any(not 0x21 <= b <= 0x7E for b in raw):
        return None
    return raw.decode("ascii")


# ---------------------------------------------------------------------------------------------
# messages.md: envelope and the 13 message types
# ---------------------------------------------------------------------------------------------

MAX_FRAME = 1_048_576
U64 = (1 << 64) - 1


def bin_(n=None, lo=None, hi=None):
    return ("bin", n, lo, hi)


def str_(lo=0, hi=65536, choices=None):
    return ("str", lo, hi, choices)


def uint(lo=0, hi=U64):
    return ("uint", lo, hi)


AMOUNT, BOOL, SIG = ("amount",), ("bool",), ("sig",)
ACKS = ("acks",)  # messages.md §4.4.1: 1..ACK_ENTRIES entries [channel_id bin(32), nonce uint]
ACK_ENTRIES = 1023
LOCKS = ("locks",)  # messages.md §4.2, §4.5: distinct bin(16) htlc ids
MAX_LOCKS = 483
OPT = "optional"

SCHEMA = {
    1: ("PAYMENT_OPEN", [("channel_id", bin_(32)), ("sender", bin_(20)), ("receiver", bin_(20)),
                         ("asset", str_(1, 32)), ("decimals", uint(0, 36)), ("total_deposit", AMOUNT),
                         ("challenge_period", uint(1, 31_536_000)), ("settlement", str_(1, 32)),
                         ("chain_id", uint()), ("verifying_contract", bin_(20)), ("nonce", uint()),
                         ("timestamp", uint()), ("signature", SIG)]),
    2: ("PAYMENT_UPDATE", [("channel_id", bin_(32)), ("nonce", uint(1)), ("amount", AMOUNT),
                           ("timestamp", uint()), ("task_id", str_(1, 128), OPT), ("locks", LOCKS, OPT),
                           ("signature", SIG)]),
    3: ("PAYMENT_CLOSE", [("channel_id", bin_(32)), ("final_nonce", uint()), ("final_amount", AMOUNT),
                          ("cooperative", BOOL), ("timestamp", uint()), ("signature", SIG),
                          ("counter_signature", SIG, OPT)]),
    4: ("PAYMENT_ACK", [("channel_id", bin_(32)), ("nonce", uint()),
                        ("status", str_(choices=("accepted", "rejected"))), ("reason", str_(0, 256), OPT),
                        ("error_code", uint(1000, 1999), OPT), ("acks", ACKS, OPT)]),
    5: ("HTLC_PROPOSE", [("channel_id", bin_(32)), ("htlc_id", bin_(16)), ("payment_hash", bin_(32)),
                         ("amount", AMOUNT), ("expiry", uint()), ("onion", bin_(1366)),
                         ("nonce", uint(1, (1 << 63) - 1)), ("voucher_amount", AMOUNT), ("locks", LOCKS),
                         ("timestamp", uint()), ("signature", SIG)]),
    6: ("HTLC_FULFILL", [("channel_id", bin_(32)), ("htlc_id", bin_(16)), ("preimage", bin_(32)),
                         ("timestamp", uint())]),
    7: ("HTLC_CANCEL", [("channel_id", bin_(32)), ("htlc_id", bin_(16)), ("reason", uint(1000, 1999)),
                        ("failure", bin_(None, 0, 1024)), ("timestamp", uint())]),
    8: ("CHANNEL_ANNOUNCE", [("channel_id", bin_(32)), ("peer_a", bin_(20)), ("peer_b", bin_(20)),
                             ("capacity", AMOUNT), ("asset", str_(1, 32)), ("decimals", uint(0, 36)),
                             ("fee_base", AMOUNT), ("fee_ppm", uint(0, 1_000_000)),
                             ("expiry_delta", uint(1, 2_592_000_000)), ("timestamp", uint()),
                             ("signature_a", SIG), ("signature_b", SIG)]),
    9: ("NEGOTIATE_PROPOSE", [("negotiation_id", bin_(16)), ("service_type", str_(1, 64)),
                              ("proposed_price", AMOUNT), ("asset", str_(1, 32)), ("decimals", uint(0, 36)),
                              ("channel_deposit", AMOUNT), ("timeout", uint(1, 86_400)), ("timestamp", uint())]),
    10: ("NEGOTIATE_COUNTER", [("negotiation_id", bin_(16)), ("counter_price", AMOUNT), ("timestamp", uint())]),
    11: ("NEGOTIATE_ACCEPT", [("negotiation_id", bin_(16)), ("timestamp", uint())]),
    12: ("NEGOTIATE_REJECT", [("negotiation_id", bin_(16)), ("reason", str_(0, 256)), ("timestamp", uint())]),
    15: ("ERROR", [("code", uint(1000, 1999)), ("message", str_(0, 1024)), ("ref_type", uint(), OPT)]),
}


class MessageError(Exception):
    def __init__(self, code, why):
        super().__init__(f"{code}: {why}")
        self.code = code


def _is_uint(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _amount_ok(v):
    return (isinstance(v, str) and 1 <= len(v) <= 39 and v.isascii() and v.isdigit()
            and (v == "0" or v[0] != "0") and int(v) <= (1 << 128) - 1)


def _check_field(name, kind, v):
    tag = kind[0]
    bad = MessageError(1501, f"field {name!r} invalid: {v!r}"[:200])
    if tag == "bin":
        _, n, lo, hi = kind
        if not isinstance(v, bytes) or (n is not None and len(v) != n) or (
                n is None and not lo <= len(v) <= hi):
            raise bad
    elif tag == "str":
        _, lo, hi, choices = kind
        if not isinstance(v, str) or not lo <= len(v.encode()) <= hi or (choices and v not in choices):
            raise bad
    elif tag == "uint":
        if not _is_uint(v) or not kind[1] <= v <= kind[2]:
            raise bad
    elif tag == "amount":
        if not _amount_ok(v):
            raise bad
    elif tag == "bool":
        if not isinstance(v, bool):
            raise bad
    elif tag == "acks":
        if not isinstance(v, list) or not 1 <= len(v) <= ACK_ENTRIES or not all(
                isinstance(e, list) and len(e) == 2 and isinstance(e[0], bytes) and len(e[0]) == 32
                and _is_uint(e[1]) and 0 <= e[1] <= U64 for e in v):
            raise bad
    elif tag == "locks":
        if not isinstance(v, list) or len(v) > MAX_LOCKS or not all(
                isinstance(e, bytes) and len(e) == 16 for e in v) or len(set(v)) != len(v):
            raise bad
    elif tag == "sig":
        if not isinstance(v, bytes) or len(v) != 65:
            raise bad
        try:
            check_signature_form(v)
        except ProtocolError:
            raise bad


def _limits_ok(obj, depth=1, count=None):
    """messages.md §3.2 nesting (16) and object count (4096)."""
    count = count if count is not None else [0]
    count[0] += 1
    if count[0] > 4096:
        return False
    if isinstance(obj, (list, _Pairs)):
        if depth > 16:
            return False
        items = obj if not isinstance(obj, _Pairs) else [x for kv in obj for x in kv]
        return all(_limits_ok(x, depth + 1, count) for x in items)
    return True


def decode_payload(payload: bytes):
    """messages.md §3.1: returns (type, fields) with fields in wire form (bytes, str, int, bool)."""
    try:
        obj = msgpack.unpackb(payload, raw=False, strict_map_key=False, use_list=True,
                              object_pairs_hook=_Pairs, max_str_len=65536, max_bin_len=MAX_FRAME,
                              max_ext_len=MAX_FRAME)
    except Exception as exc:
        raise MessageError(1501, f"not one msgpack object: {exc}")
    if not _limits_ok(obj):
        raise MessageError(1501, "nesting or object-count limit exceeded")
    if not isinstance(obj, _Pairs):
        raise MessageError(1501, "envelope is not a map")
    env = {}
    for k, v in obj:
        if isinstance(k, str) and k in ("v", "type", "data"):
            if k in env:
                raise MessageError(1501, f"envelope repeats {k!r}")
            env[k] = v
    if not _is_uint(env.get("v")) or env["v"] < 0 or not _is_uint(env.get("type")) or env["type"] < 0:
        raise MessageError(1501, "v/type missing or not uint")
    if env["v"] != 1:
        raise MessageError(1505, f"v = {env['v']}")
    mtype = env["type"]
    if mtype not in SCHEMA:
        raise MessageError(1500, f"type {mtype}")
    data = env.get("data")
    if not isinstance(data, _Pairs):
        raise MessageError(1501, "data missing or not a map")
    schema = SCHEMA[mtype][1]
    known = {f[0]: f for f in schema}
    fields = {}
    for k, v in data:
        if isinstance(k, str) and k in known:
            if k in fields:
                raise MessageError(1501, f"data repeats {k!r}")
            fields[k] = v
    out = {}
    for spec in schema:
        name, kind, optional = spec[0], spec[1], len(spec) > 2
        v = fields.get(name)
        if v is None:
            if optional:
                continue
            raise MessageError(1501, f"{SCHEMA[mtype][0]} lacks {name!r}")
        _check_field(name, kind, v)
        out[name] = v
    # cross-field rules
    if mtype == 3 and "counter_signature" in out and not out["cooperative"]:
        raise MessageError(1501, "counter_signature on a non-cooperative close")
    if mtype == 4 and "error_code" in out and out["status"] != "rejected":
        raise MessageError(1501, "error_code with status accepted")
    if mtype == 4 and "acks" in out and out["status"] != "accepted":
        raise MessageError(1501, "acks with status rejected")
    if mtype == 5 and int(out["amount"]) == 0:
        raise MessageError(1501, "HTLC amount 0")
    if mtype == 5 and (int(out["voucher_amount"]) < int(out["amount"]) or out["htlc_id"] in out["locks"]
                       or len(out["locks"]) > MAX_LOCKS - 1):
        raise MessageError(1501, "HTLC_PROPOSE voucher_amount or locks")
    if mtype == 2 and "locks" in out and (not out["locks"] or "task_id" in out):
        raise MessageError(1501, "PAYMENT_UPDATE locks")
    if mtype == 8 and not out["peer_a"] < out["peer_b"]:
        raise MessageError(1501, "peer_a not below peer_b")
    return mtype, out


def encode_message(mtype: int, fields: dict) -> bytes:
    """Canonical frame (messages.md §3.3) from wire-form fields."""
    data = {}
    for spec in SCHEMA[mtype][1]:
        if spec[0] in fields:
            data[spec[0]] = fields[spec[0]]
    payload = msgpack.packb({"v": 1, "type": mtype, "data": data}, use_bin_type=True)
    if not 1 <= len(payload) <= MAX_FRAME:
        raise ValueError("payload size")
    return struct.pack(">I", len(payload)) + payload


def split_frames(data: bytes):
    """Splits a payments byte stream into payloads (messages.md §2)."""
    out, i = [], 0
    while i < len(data):
        if len(data) - i < 4:
            raise MessageError(1501, "truncated length prefix")
        (n,) = struct.unpack_from(">I", data, i)
        if n == 0 or n > MAX_FRAME:
            raise MessageError(1501, f"frame length {n}")
        if len(data) - i - 4 < n:
            raise MessageError(1501, "truncated frame")
        out.append(bytes(data[i + 4:i + 4 + n]))
        i += 4 + n
    return out


def json_to_wire(mtype, fields):
    """Vector `fields` (bin as lowercase hex) to wire form."""
    kinds = {s[0]: s[1][0] for s in SCHEMA[mtype][1]}

    def conv(k, v):
        if kinds.get(k) in ("bin", "sig"):
            return bytes.fromhex(v)
        if kinds.get(k) == "acks":
            return [[bytes.fromhex(c), n] for c, n in v]
        if kinds.get(k) == "locks":
            return [bytes.fromhex(x) for x in v]
        return v
    return {k: conv(k, v) for k, v in fields.items()}


def wire_to_json(mtype, fields):
    def conv(v):
        if isinstance(v, bytes):
            return v.hex()
        if isinstance(v, list):
            return [conv(x) for x in v]
        return v
    return {k: conv(v) for k, v in fields.items()}


def load_valid_vectors(path):
    with open(path) as f:
        vectors = json.load(f)
    frames = []
    for v in vectors["valid"]:
        mine = encode_message(v["type"], json_to_wire(v["type"], v["fields"]))
        if mine.hex() != v["frame_hex"]:
            raise ProtocolError(f"our encoding of {v['name']} differs from the vector frame_hex")
        mtype, fields = decode_payload(mine[4:])
        if mtype != v["type"] or wire_to_json(mtype, fields) != v["fields"]:
            raise ProtocolError(f"our decoding of {v['name']} differs from the vector fields")
        frames.append((v["type"], v["fields"], mine))
    types = {t for t, _, _ in frames}
    if len(types) != 13:
        raise ProtocolError(f"vectors cover {len(types)} message types, not 13")
    return frames


def replay_handshake_vector(path):
    """Re-runs Specs/vectors/handshake.json with its fixed keys; returns the number of mismatches."""
    with open(path) as f:
        hv = json.load(f)
    ids, conns = {}, {}
    for role in ("initiator", "responder"):
        r = hv[role]
        ids[role] = Identity(bytes.fromhex(r["identity_private"]), bytes.fromhex(r["static_private"]))
        c = NoiseConnection.from_name(hv["protocol_name"].encode())
        c.set_as_initiator() if role == "initiator" else c.set_as_responder()
        c.set_keypair_from_private_bytes(Keypair.STATIC, ids[role].static_private)
        c.set_keypair_from_private_bytes(Keypair.EPHEMERAL, bytes.fromhex(r["ephemeral_private"]))
        c.set_prologue(PROLOGUE)
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            c.start_handshake()
        conns[role] = c
        if ids[role].text != r["address"] or ids[role].static_public.hex() != r["noise_static_public"]:
            log(f"handshake vector: {role} keys differ")
            return 1
        if ids[role].proof(r["features"]).hex() != r["payload"]:
            log(f"handshake vector: our {role} proof differs")
            return 1
    failures = 0
    for i, m in enumerate(hv["messages"]):
        sender = m["sender"]
        receiver = "responder" if sender == "initiator" else "initiator"
        payload = bytes.fromhex(m["payload"])
        if i < 3:
            noise_msg = bytes(conns[sender].write_message(payload))
            hs = conns[receiver].noise_protocol.handshake_state
            got = bytes(conns[receiver].read_message(noise_msg))
            if i > 0:
                verify_proof(got, hs.rs.public_bytes, ids[receiver].address,
                             ids[sender].address)
        else:
            noise_msg = conns[sender].encrypt(payload)
            got = conns[receiver].decrypt(noise_msg)
        if noise_msg.hex() != m["noise_message"] or frame(noise_msg).hex() != m["wire"] or got != payload:
            failures += 1
            log(f"handshake vector message {i} differs")
    for role in conns:
        if conns[role].get_handshake_hash().hex() != hv["handshake_hash"]:
            failures += 1
            log(f"handshake hash of {role} differs")
    return failures


def check_mux_vectors(path):
    with open(path) as f:
        mv = json.load(f)
    names = {"data": T_DATA, "windowUpdate": T_WINDOW, "ping": T_PING, "goAway": T_GOAWAY}
    bits = {"SYN": SYN, "ACK": ACK, "FIN": FIN, "RST": RST}
    failures = 0
    for v in mv["valid"]:
        raw = bytes.fromhex(v["hex"])
        try:
            ftype, flags, sid, length = validate_header(raw)
        except ProtocolError as exc:
            failures += 1
            log(f"mux valid FAIL {v['description']}: {exc}")
            continue
        want_flags = sum(bits[f] for f in v["flags"])
        payload = raw[12:]
        ok = (ftype == names[v["type"]] and flags == want_flags and sid == v["streamID"]
              and length == v["length"] and payload.hex() == v.get("payloadHex", "")
              and (ftype != T_DATA or len(payload) == length)
              and HEADER.pack(0, ftype, flags, sid, length) + payload == raw)
        if not ok:
            failures += 1
            log(f"mux valid FAIL {v['description']}")
    for v in mv["invalid"]:
        try:
            validate_header(bytes.fromhex(v["hex"]))
            got = None
        except ProtocolError as exc:
            got = str(exc)
        if got != v["error"]:
            failures += 1
            log(f"mux invalid FAIL {v['description']}: got {got}, expected {v['error']}")
    print(f"mux vectors: {len(mv['valid'])} valid, {len(mv['invalid'])} invalid, {failures} failures")
    return failures


def selftest(path, handshake_path=None, mux_path=None):
    with open(path) as f:
        vectors = json.load(f)
    failures = 0
    if mux_path:
        failures += check_mux_vectors(mux_path)
    if handshake_path:
        failures += replay_handshake_vector(handshake_path)
        print(f"handshake vector replayed, {failures} mismatches")
    load_valid_vectors(path)
    for v in vectors["tolerated"]:
        mtype, fields = decode_payload(bytes.fromhex(v["frame_hex"])[4:])
        ok = (mtype == v["type"] and wire_to_json(mtype, fields) == v["fields"]
              and encode_message(mtype, fields).hex() == v["canonical_frame_hex"])
        if not ok:
            failures += 1
            log("tolerated FAIL:", v["description"])
    for v in vectors["invalid"]:
        raw = bytes.fromhex(v["frame_hex"])
        try:
            payloads = split_frames(raw)
            code = None
            for p in payloads:
                decode_payload(p)
        except MessageError as exc:
            code = exc.code
            why = str(exc)
        if code != v["expected_error_code"]:
            failures += 1
            log(f"invalid FAIL: {v['description']}: got {code}, expected {v['expected_error_code']}")
    print(f"selftest: {len(vectors['valid'])} valid, {len(vectors['tolerated'])} tolerated, "
          f"{len(vectors['invalid'])} invalid vectors, {failures} failures")
    return 0 if failures == 0 else 1


# ---------------------------------------------------------------------------------------------
# modes
# ---------------------------------------------------------------------------------------------

def parse_address(text):
    digits = text[2:] if text[:2] in ("0x", "0X") else text
    if len(digits) != 40:
        raise SystemExit(f"--expect: not an address: {text}")
    raw = bytes.fromhex(digits)
    if digits != digits.lower() and digits != digits.upper() and to_checksum_address("0x" + digits) != "0x" + digits:
        raise SystemExit(f"--expect: bad EIP-55 checksum: {text}")
    return raw


async def dial(args):
    identity = Identity()
    print(f"address={identity.text}", flush=True)
    frames = load_valid_vectors(args.vectors)
    stream_bytes = b"".join(f for _, _, f in frames)
    expected = parse_address(args.expect) if args.expect else None

    reader, writer = await asyncio.wait_for(asyncio.open_connection(args.host, args.port), 10)
    transport = await NoiseTransport.handshake(reader, writer, identity, True, expected)
    peer = to_checksum_address("0x" + transport.peer.hex())
    print(f"peer={peer} features={','.join(transport.peer_features)}", flush=True)
    session = Session(transport, dialer=True)
    session.start()
    try:
        stream = await session.open_stream(PAYMENTS, stream_bytes)
        if stream.id != 1:
            raise ProtocolError(f"first dialer stream got id {stream.id}")
        echo = await asyncio.wait_for(stream.read_exactly(len(stream_bytes)), 20)
        if echo != stream_bytes:
            at = next(i for i in range(len(echo)) if echo[i] != stream_bytes[i])
            raise ProtocolError(f"echo differs from what was sent at byte {at}")
        if not stream.peer_acked:
            raise ProtocolError("peer echoed data but never ACKed the stream")
        for (mtype, fields, _), payload in zip(frames, split_frames(echo)):
            got_type, got = decode_payload(payload)
            if got_type != mtype or wire_to_json(got_type, got) != fields:
                raise ProtocolError(f"echoed message of type {mtype} decodes differently")
        print(f"echoed {len(frames)} frames ({len(stream_bytes)} bytes, "
              f"{len({t for t, _, _ in frames})} types) byte for byte", flush=True)
        value = await session.ping(5)
        print(f"ping {value} acknowledged", flush=True)
        stream.close()
        await session.drain()
        rest = await asyncio.wait_for(stream.read(), 10)
        if rest != b"" or not stream.fin_received:
            raise ProtocolError("peer sent bytes after the echo instead of FIN")
        if stream.id in session.streams:
            raise ProtocolError("stream not freed after FIN both ways")
        print("stream closed both ways", flush=True)
        await session.go_away(0)
        if session.error:
            raise session.error
    finally:
        await session.close()
    return 0


async def listen(args):
    identity = Identity()
    done = asyncio.get_running_loop().create_future()

    async def on_connect(reader, writer):
        if done.done():
            writer.close()
            return
        try:
            done.set_result(await serve(identity, reader, writer))
        except Exception as exc:
            if not done.done():
                done.set_exception(exc)

    server = await asyncio.start_server(on_connect, args.host, args.port)
    port = server.sockets[0].getsockname()[1]
    if args.print_address:
        print(f"listening port={port} address={identity.text}", flush=True)
    try:
        return await asyncio.wait_for(done, args.timeout)
    finally:
        server.close()


async def serve(identity, reader, writer):
    transport = await NoiseTransport.handshake(reader, writer, identity, False)
    log(f"handshake done with {to_checksum_address('0x' + transport.peer.hex())}")
    session = Session(transport, dialer=False)
    session.start()
    echoers, results = [], []

    async def echo(stream: Stream):
        protocol_id = await read_protocol_header(stream)
        if protocol_id != PAYMENTS:
            log(f"stream {stream.id}: protocol {protocol_id!r} not supported, RST")
            stream.reject()
            await session.drain()
            return
        stream.accept()
        received = bytearray()
        while True:
            chunk = await stream.read()
            if not chunk:
                break
            received += chunk
            await stream.write(chunk)
        stream.close()
        await session.drain()
        types = [decode_payload(p)[0] for p in split_frames(bytes(received))]
        results.append((stream.id, len(received), types))
        log(f"stream {stream.id}: echoed {len(received)} bytes, {len(types)} valid messages, types {sorted(set(types))}")

    while True:
        stream = await session.accept_queue.get()
        if stream is None:
            break
        echoers.append(asyncio.create_task(echo(stream)))
    errors = [r for r in await asyncio.gather(*echoers, return_exceptions=True) if isinstance(r, BaseException)]
    await session.close()
    if session.error:
        raise session.error
    if errors:
        raise ProtocolError(f"stream failed: {errors[0]!r}")
    if session.peer_goaway != 0:
        raise ProtocolError(f"peer closed without GoAway(0) (got {session.peer_goaway})")
    if not results:
        raise ProtocolError("peer opened no stream")
    print(f"peer closed cleanly after {len(results)} stream(s)", flush=True)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    d = sub.add_parser("dial")
    d.add_argument("--host", default="127.0.0.1")
    d.add_argument("--port", type=int, required=True)
    d.add_argument("--expect")
    d.add_argument("--vectors", required=True)
    l = sub.add_parser("listen")
    l.add_argument("--host", default="127.0.0.1")
    l.add_argument("--port", type=int, default=0)
    l.add_argument("--print-address", action="store_true")
    l.add_argument("--timeout", type=float, default=60)
    s = sub.add_parser("selftest")
    s.add_argument("--vectors", required=True)
    s.add_argument("--handshake-vector")
    s.add_argument("--mux-vectors")
    args = ap.parse_args()
    try:
        if args.mode == "selftest":
            return selftest(args.vectors, args.handshake_vector, args.mux_vectors)
        return asyncio.run(dial(args) if args.mode == "dial" else listen(args))
    except (ProtocolError, MessageError, StreamReset, asyncio.TimeoutError, ConnectionError,
            asyncio.IncompleteReadError, OSError) as exc:
        print(f"FAIL: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
