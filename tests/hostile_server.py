"""A relay that misbehaves on purpose, one way per mode, written at the level of raw bytes.

Most modes break HTTP itself (a body shorter than its Content-Length, 5,000 headers, a reset
mid-body, a response dripped a byte at a time), so this is an asyncio socket server, not an
ASGI app. Every request gets the same misbehaviour, whatever its path. Used by
tests/test_hostile_relays.py (a test per mode) and bench/bench_hostile.py (the issue's table).

    with hostile_relay("gzip-bomb") as url:
        ...  # point relaykit check at url
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import struct
import threading
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import cache

MIB = 1024 * 1024
BOMB_MIB = 2048
"""The gzip bomb inflates to this many MiB of zeros (about 2 MB on the wire)."""
HUGE_JSON_BYTES = 60 * 1000 * 1000
DEEP = 200_000
CHUNK = json.dumps(
    {"id": "chatcmpl-hostile", "object": "chat.completion.chunk", "created": 1, "model": "m",
     "choices": [{"index": 0, "delta": {"content": "na"}, "finish_reason": None}]}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Options:
    """Pacing of the slow modes (seconds)."""

    drip: float = 2.0
    """slowloris: one byte of the response (headers included) every this many seconds."""
    stream_drip: float = 0.2
    """drip-stream: one byte of an event that never ends every this many seconds."""
    event_gap: float = 0.01
    """endless-sse: seconds between events."""


class Conn:
    """One client connection: the request just read and a way to answer."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, options: Options
    ) -> None:
        self.reader, self.writer, self.options = reader, writer, options
        self.path = "/"

    async def read_request(self) -> bool:
        """Read one request (headers and a Content-Length body); False when the client left."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return False
        lines = head.decode("latin-1").split("\r\n")
        self.path = lines[0].split(" ")[1] if len(lines[0].split(" ")) > 1 else "/"
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip() or 0)
        if length:
            await self.reader.readexactly(length)
        return True

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def head(self, status: str, headers: list[tuple[str, str]]) -> None:
        lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers), "", ""]
        await self.send("\r\n".join(lines).encode("latin-1"))

    async def answer(self, status: str, content_type: str, body: bytes) -> None:
        headers = [("content-type", content_type), ("content-length", f"{len(body)}")]
        await self.head(status, headers)
        await self.send(body)

    async def forever(self) -> None:
        """Hold the connection open, sending nothing, until the client goes."""
        await self.reader.read()


Mode = Callable[[Conn], Awaitable[bool]]
"""Answers one request; True to read another request on the same connection."""
MODES: dict[str, Mode] = {}


def mode(name: str) -> Callable[[Mode], Mode]:
    def register(f: Mode) -> Mode:
        MODES[name] = f
        return f

    return register


@mode("random-json")
async def _random_json(c: Conn) -> bool:
    await c.answer("200 OK", "application/json", random.Random(7).randbytes(4096))
    return True


@mode("html-502")
async def _html_502(c: Conn) -> bool:
    page = b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    await c.answer("502 Bad Gateway", "text/html", page + b"</h1></center></body></html>")
    return True


@mode("deep-json")
async def _deep_json(c: Conn) -> bool:
    await c.answer("200 OK", "application/json", b"[" * DEEP + b"]" * DEEP)
    return True


@mode("short-body")
async def _short_body(c: Conn) -> bool:
    """Content-Length promises 100,000 bytes; 1,000 come, then the connection closes."""
    await c.head("200 OK", [("content-type", "application/json"), ("content-length", "100000")])
    await c.send(b'{"object": "list", "data": [' + b" " * 972)
    return False


@mode("wrong-length")
async def _wrong_length(c: Conn) -> bool:
    """Content-Length says 10; 1,000 bytes follow on a kept-alive connection, so the next
    answer read on it starts in the middle of this body."""
    body = json.dumps({"object": "list", "data": [], "pad": "x" * 940}).encode()
    await c.head("200 OK", [("content-type", "application/json"), ("content-length", "10")])
    await c.send(body)
    return True


@mode("redirect-loop")
async def _redirect_loop(c: Conn) -> bool:
    await c.head("302 Found", [("location", c.path), ("content-length", "0")])
    return True


@mode("many-headers")
async def _many_headers(c: Conn) -> bool:
    body = b'{"object": "list", "data": []}'
    headers = [(f"x-h-{i}", "1") for i in range(5000)]
    headers += [("content-type", "application/json"), ("content-length", f"{len(body)}")]
    await c.head("200 OK", headers)
    await c.send(body)
    return True


@mode("invalid-utf8")
async def _invalid_utf8(c: Conn) -> bool:
    body = b'{"object": "list", "id": "\xff\xfe\xc3", "data": []}'
    await c.answer("200 OK", "application/json", body)
    return True


@mode("endless-sse")
async def _endless_sse(c: Conn) -> bool:
    await c.head("200 OK", [("content-type", "text/event-stream"), ("connection", "close")])
    frame = f"data: {CHUNK}\n\n".encode()
    while True:
        await c.send(frame)
        await asyncio.sleep(c.options.event_gap)


@mode("slowloris")
async def _slowloris(c: Conn) -> bool:
    """The whole answer, status line first, one byte every ``drip`` seconds."""
    body = b'{"object": "list", "data": []}'
    answer = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )
    for i in range(len(answer)):
        await c.send(answer[i : i + 1])
        await asyncio.sleep(c.options.drip)
    return True


@mode("huge-json")
async def _huge_json(c: Conn) -> bool:
    """A 60 MB JSON list of models, written as it is made (never held whole)."""
    item = b'{"id": "hostile-model", "object": "model", "created": 1, "owned_by": "x"},'
    block = item * (MIB // len(item))
    opening, closing = b'{"object": "list", "data": [', b'{"id": "last", "object": "model"}]}'
    blocks, pad = divmod(HUGE_JSON_BYTES - len(opening) - len(closing), len(block))
    headers = [("content-type", "application/json"), ("content-length", f"{HUGE_JSON_BYTES}")]
    await c.head("200 OK", headers)
    await c.send(opening)
    for _ in range(blocks):
        await c.send(block)
    await c.send(b" " * pad + closing)
    return True


@mode("gzip-bomb")
async def _gzip_bomb(c: Conn) -> bool:
    """2 GiB of zeros as JSON-typed gzip: about 2 MB on the wire."""
    head, segment, tail = gzip_bomb_parts()
    size = len(head) + BOMB_MIB * len(segment) + len(tail)
    headers = [("content-type", "application/json"), ("content-encoding", "gzip")]
    await c.head("200 OK", [*headers, ("content-length", f"{size}")])
    await c.send(head)
    for _ in range(BOMB_MIB):
        await c.send(segment)
    await c.send(tail)
    return True


@cache
def gzip_bomb_parts() -> tuple[bytes, bytes, bytes]:
    """(gzip header, one MiB of zeros deflated, end block + trailer): a full flush after
    each MiB resets the compressor, so every MiB deflates to the same bytes and the bomb is
    written segment by segment, never held or compressed whole."""
    zeros = bytes(MIB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    deflate.compress(zeros)
    deflate.flush(zlib.Z_FULL_FLUSH)
    segment = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(BOMB_MIB):
        crc = zlib.crc32(zeros, crc)
    trailer = deflate.flush() + struct.pack("<II", crc, (BOMB_MIB * MIB) & 0xFFFFFFFF)
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff", segment, trailer


@mode("never-answers")
async def _never_answers(c: Conn) -> bool:
    await c.forever()
    return False


@mode("one-event-then-silence")
async def _one_event(c: Conn) -> bool:
    await c.head("200 OK", [("content-type", "text/event-stream"), ("connection", "close")])
    await c.send(f"data: {CHUNK}\n\n".encode())
    await c.forever()
    return False


@mode("drip-stream")
async def _drip_stream(c: Conn) -> bool:
    """An event stream whose first event never ends: a byte every ``stream_drip`` seconds."""
    await c.head("200 OK", [("content-type", "text/event-stream"), ("connection", "close")])
    await c.send(b"data: ")
    while True:
        await c.send(b"n")
        await asyncio.sleep(c.options.stream_drip)


@mode("reset-mid-body")
async def _reset(c: Conn) -> bool:
    """Half of a promised body, then a TCP reset (SO_LINGER 0)."""
    await c.head("200 OK", [("content-type", "application/json"), ("content-length", "10000")])
    await c.send(b'{"object": "list", "data": [' + b" " * 4972)
    sock = c.writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.writer.transport.abort()
    return False


async def _serve_connection(
    handler: Mode, options: Options, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    conn = Conn(reader, writer, options)
    try:
        while await conn.read_request():
            if not await handler(conn):
                break
    except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
        pass  # the client went away (that is how most modes end), or the server stops
    finally:
        writer.close()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await writer.wait_closed()


@contextlib.contextmanager
def hostile_relay(name: str | Mode, options: Options | None = None) -> Iterator[str]:
    """Serve mode ``name`` (or a handler of one's own) on a free loopback port until the
    block ends; yields its URL."""
    handler = MODES[name] if isinstance(name, str) else name
    opts = options or Options()
    if name == "gzip-bomb":
        gzip_bomb_parts()  # made before serving: the first request must not wait for it
    loop = asyncio.new_event_loop()
    started = threading.Event()
    state: dict[str, object] = {}

    async def main() -> None:
        server = await asyncio.start_server(
            lambda r, w: _serve_connection(handler, opts, r, w), "127.0.0.1", 0
        )
        state["port"] = server.sockets[0].getsockname()[1]
        state["server"] = server
        started.set()
        async with server:
            await server.serve_forever()

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(main())
        left = asyncio.all_tasks(loop)  # connections still open: end them before closing
        for task in left:
            task.cancel()

        async def ended() -> None:
            await asyncio.gather(*left, return_exceptions=True)

        loop.run_until_complete(ended())
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError(f"the hostile relay ({name}) did not start")
    try:
        yield f"http://127.0.0.1:{state['port']}"
    finally:

        def stop() -> None:
            for task in asyncio.all_tasks(loop):
                task.cancel()

        loop.call_soon_threadsafe(stop)
        thread.join(10)


# --- a measured run of relaykit check against one of them ----------------------------------


@dataclass(frozen=True, slots=True)
class Measured:
    """How a `relaykit check` child process ended."""

    code: int
    """Exit code (-9: killed by the safety net)."""
    seconds: float
    peak_rss_mib: float
    """The child's own peak resident set (ru_maxrss of wait4 on its pid)."""
    stdout: str
    stderr: str


LAUNCHER = """
import os, sys
report, args = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, "-m", "relaykit", *args])
_, status, usage = os.wait4(pid, 0)
with open(report, "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status) % 256)
"""
"""Runs relaykit in a grandchild and writes its ru_maxrss. Linux counts a process's memory
before exec in its ru_maxrss, and a child of the test process starts as a copy of it (which
may hold hundreds of MiB): forked from this small launcher instead, the grandchild's peak is
its own."""


def measured_check(
    args: list[str], env: dict[str, str], cwd: str, safety_net: float = 300.0
) -> Measured:
    """Run ``python -m relaykit ARGS`` in ``cwd`` and measure it: wall time, exit code and
    its own peak RSS (wait4 on its pid, from a small launcher: see LAUNCHER; never
    RUSAGE_CHILDREN, which mixes in every other child). ``safety_net`` seconds kill a run
    that hangs (the whole process group); it is no assertion of speed."""
    import os
    import signal
    import subprocess
    import sys
    import tempfile
    import time

    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryDirectory() as tmp,
    ):
        report = os.path.join(tmp, "maxrss")
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, report, *args],
            stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True,
        )  # fmt: skip
        killer = threading.Timer(safety_net, lambda: os.killpg(child.pid, signal.SIGKILL))
        killer.start()
        try:
            code = child.wait()
        finally:
            killer.cancel()
        seconds = time.monotonic() - started
        try:
            with open(report) as found:
                peak_kib = int(found.read())
        except (OSError, ValueError):
            peak_kib = 0  # killed by the safety net: the exit code says so
        out.seek(0)
        err.seek(0)
        return Measured(
            code,
            seconds,
            peak_kib / 1024,  # KiB on Linux
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )
