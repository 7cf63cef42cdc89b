"""Answers kept for reuse: a request the mock has answered before, byte for byte, is answered
again from what it wrote, with fresh ids and the current time, without routing, parsing,
validating or rendering it again (a load test repeats a few requests many times).

Only operations whose renderer is *repeatable* (render/__init__.py ``REPEATABLE_JSON`` and
``REPEATABLE_STREAM``: the answer is a function of the request, apart from the ids it mints
with ``ctx.fresh_id`` and the clock it reads as ``ctx.now``) are kept, and only successful
answers: JSON bodies, and streams (their frames, paced as they were; a fault rule or header
still shapes them, the fault injector being outside). The key is everything the answer can
depend on: method, path, query, body, and the headers the mock reads (the key headers,
Prefer, Accept, Content-Type, Host) with the scheme, server and root path (the base URL of
served files). Keys are held in this process's memory only, as the request itself was,
and never written anywhere.

A kept answer is a *template*: its bytes cut where each minted id and each ``created`` time
stood. Filling it mints ids of the same prefixes (one new id for each old one, wherever it
recurs) and writes the current time. An answer that carries a time derived from the clock
(``expires_at: now + 3600``) cannot be refilled and is not kept.

An answer is kept the second time its request comes (the first time, only the key's hash is
noted among the last ``SEEN`` hashes): traffic that never repeats a request costs a hash and
keeps nothing. Bounded: ``MAX_ENTRIES`` answers and ``MAX_BYTES`` of keys and templates, least
recently used out first; bodies over ``MAX_BODY`` are never kept. The relay empties it when its
settings change.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from contracts.wire.auth import KEY_HEADERS, SECRET_HEADERS
from mockserver import ids
from mockserver.bodies import read_all
from mockserver.streaming import Steady, frames_out, shaper_of

MAX_BODY = 64 * 1024
"""Request or answer bodies larger than this are never kept."""
MAX_BYTES = 16 * 1024 * 1024
"""Bytes of keys and templates kept in all."""
MAX_ENTRIES = 1024
"""Answers kept in all."""
SEEN = 4096
"""Hashes of requests seen once (an answer is kept the second time its request comes)."""

_HEADERS = frozenset(
    name.encode("latin-1") for name in (*KEY_HEADERS, *SECRET_HEADERS)
) | frozenset((b"prefer", b"accept", b"content-type", b"host"))
"""The request headers an answer can depend on."""
_EPOCH = re.compile(rb"(?<![\d.])\d{10}(?![\d.])")
"""A whole number of ten digits: a Unix time, in seconds, between 2001 and 2286."""
_DERIVED_TIME_SPAN = 10**7
"""A number within this many seconds after the answer's clock is taken for a derived time."""

Key = tuple[Any, ...]
_HEAD_KEY = "relaykit.answer_head"
"""Where ``AnswerCache.head`` leaves a request's head in the ASGI scope state."""


@dataclass(frozen=True, slots=True)
class Template:
    """Bytes with holes: ``parts[0] hole parts[1] hole ...``; a hole is an index into the ids
    (their prefixes in ``prefixes``) or -1 for the time."""

    parts: tuple[bytes, ...]
    holes: tuple[int, ...]
    prefixes: tuple[str, ...]

    @classmethod
    def of(cls, data: bytes, minted: list[str], now: int) -> Template | None:
        """The template of an answer, or None when it cannot be refilled faithfully."""
        for found in _EPOCH.finditer(data):
            if now < int(found.group()) <= now + _DERIVED_TIME_SPAN:
                return None  # a time computed from the clock: refilling would freeze it
        holes: list[tuple[int, int, int]] = []  # (start, end, hole)
        distinct = list(dict.fromkeys(minted))
        for index, minted_id in enumerate(distinct):
            needle = minted_id.encode()
            start = data.find(needle)
            while start != -1:
                holes.append((start, start + len(needle), index))
                start = data.find(needle, start + len(needle))
        stamp = str(now).encode()
        for found in _EPOCH.finditer(data):
            if found.group() == stamp:
                holes.append((found.start(), found.end(), -1))
        holes.sort()
        parts, kinds, at = [], [], 0
        for start, end, hole in holes:
            if start < at:  # overlapping matches: not a shape we can refill
                return None
            parts.append(data[at:start])
            kinds.append(hole)
            at = end
        parts.append(data[at:])
        prefixes = tuple(_prefix(minted_id) for minted_id in distinct)
        return cls(tuple(parts), tuple(kinds), prefixes)

    def fill(self) -> bytes:
        """The answer again, with new ids and the current time (ids and time are written with
        as many characters as before: the answer keeps its length)."""
        if not self.holes:
            return self.parts[0]
        fresh = [f"{prefix}{ids.token(18)}".encode() for prefix in self.prefixes]
        stamp = str(int(time.time())).encode()
        out = [self.parts[0]]
        for hole, part in zip(self.holes, self.parts[1:], strict=True):
            out.append(stamp if hole < 0 else fresh[hole])
            out.append(part)
        return b"".join(out)

    @property
    def size(self) -> int:
        return sum(len(part) for part in self.parts)


@dataclass(frozen=True, slots=True)
class Kept:
    """One kept answer: status, headers (without the per-request ``X-Request-Id``), body, and
    what the request resolved to (the journal reads it from the scope). A stream keeps its
    frames joined in ``body`` with each frame's length in ``frames``, and its pacing."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: Template
    resolution: Any
    frames: tuple[int, ...] = ()
    pacing: tuple[float, float] = (0.0, 0.0)
    """(time to first event, interval) in seconds."""

    def filled_frames(self) -> list[bytes]:
        """A kept stream's frames, filled afresh (one set of new ids for them all)."""
        body = self.body.fill()
        out, at = [], 0
        for length in self.frames:
            out.append(body[at : at + length])
            at += length
        return out


class AnswerCache:
    """The kept answers of one relay, least recently used out first."""

    def __init__(self, max_bytes: int = MAX_BYTES, max_entries: int = MAX_ENTRIES) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self._kept: OrderedDict[Key, tuple[Kept, int]] = OrderedDict()
        self._seen: dict[int, None] = {}
        self._heads: dict[Key, int] = {}
        """Kept answers per head (a key without its body)."""
        self._bytes = 0
        self.hits = 0

    def head(self, scope: Scope) -> Key | None:
        """What an answer can depend on, of this request, but its body; None when no answer
        is kept for it. A request is read ahead of the app only then (a refused request keeps
        its body unread, as the journal says: no answer is kept for its key headers)."""
        head = _head(scope)
        scope.setdefault("state", {})[_HEAD_KEY] = head  # for ``key``, once the body is read
        return head if head in self._heads else None

    @staticmethod
    def key(scope: Scope, body: bytes, head: Key | None = None) -> Key:
        """What an answer can depend on, of this request (``head``: its ``head`` if known)."""
        return (*(head or scope.get("state", {}).get(_HEAD_KEY) or _head(scope)), body)

    def get(self, key: Key) -> Kept | None:
        found = self._kept.get(key)
        if found is None:
            return None
        self._kept.move_to_end(key)
        self.hits += 1
        return found[0]

    def wanted(self, key: Key) -> bool:
        """Whether an answer to this request should be kept: it came before (else it is noted
        as seen, and the answer is not kept)."""
        if key in self._kept:
            return False
        seen = hash(key)
        if seen in self._seen:
            del self._seen[seen]
            return True
        self._seen[seen] = None
        if len(self._seen) > SEEN:
            del self._seen[next(iter(self._seen))]
        return False

    def keep(self, key: Key, kept: Kept) -> None:
        """Keep an answer (over the bound, the least recently used go)."""
        size = len(key[-1]) + kept.body.size + 256
        if size > self.max_bytes or key in self._kept:
            return
        self._kept[key] = (kept, size)
        self._heads[key[:-1]] = self._heads.get(key[:-1], 0) + 1
        self._bytes += size
        while self._bytes > self.max_bytes or len(self._kept) > self.max_entries:
            old, (_, gone) = self._kept.popitem(last=False)
            self._bytes -= gone
            left = self._heads.pop(old[:-1]) - 1
            if left:
                self._heads[old[:-1]] = left

    def clear(self) -> None:
        self._kept.clear()
        self._seen.clear()
        self._heads.clear()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._kept)


async def read_small_body(scope: Scope, receive: Receive) -> bytes | None:
    """The request's whole body when it announces at most ``MAX_BODY`` bytes (or none at all
    for a GET), else None, having read nothing."""
    length = None
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = int(value) if value.isdigit() else None
            if length is None:
                return None
        elif name == b"transfer-encoding":
            return None
    if length is None:
        return b"" if scope["method"] in ("GET", "HEAD", "DELETE") else None
    if length > MAX_BODY:
        return None
    return await read_all(receive)


async def send_kept(kept: Kept, scope: Scope, receive: Receive, send: Send) -> None:
    """Write a kept answer, filled afresh: a stream paced as it was, through the fault
    injector's shaper if one is installed for this request."""
    if kept.frames:
        headers = [*kept.headers, (b"x-request-id", ids.hex_token(12).encode())]
        response = StreamingResponse(
            frames_out(kept.filled_frames(), Steady(*kept.pacing), shaper_of(scope)),
            status_code=kept.status,
        )
        response.raw_headers = headers
        await response(scope, receive, send)
        return
    body = kept.body.fill()
    headers = [
        *kept.headers,
        (b"x-request-id", ids.hex_token(12).encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": kept.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _head(scope: Scope) -> Key:
    server = scope.get("server")
    return (
        scope["method"],
        scope["path"],
        scope.get("query_string", b""),
        tuple((k, v) for k, v in scope["headers"] if k in _HEADERS),
        scope.get("scheme"),
        tuple(server) if server else None,  # a list under some test clients
        scope.get("root_path", ""),
    )


def _prefix(minted_id: str) -> str:
    """``chatcmpl-`` of ``chatcmpl-<24 chars>`` (fresh_id appends exactly 24)."""
    return minted_id[:-24]
