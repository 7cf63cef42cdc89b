"""Read what a relay sends within caps, and parse it as JSON only when parsing cannot blow up.

A body is read a chunk at a time against a byte cap and a wall-clock deadline. Compressed
bodies are inflated here, never by httpx: zlib is asked for at most ``PIECE`` bytes at a time
(``max_length``), so a gzip bomb is inflated only up to the cap, never whole. JSON is parsed
only once its size, nesting depth and number of values, counted on the bytes first, are within
bounds: a 200,000-deep array is refused with a reason instead of raising RecursionError in the
parser or in whatever walks the result (schema validation, field paths, redaction).
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from itertools import accumulate
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the profile imports this module's cap: keep it light to import
    import httpx

    from suites.deadline import Deadline

MAX_BODY_BYTES = 16 * 1024 * 1024
"""Default cap on a response body, after decoding (``limits.max_body_bytes``)."""
MAX_JSON_DEPTH = 64
"""Arrays and objects nested deeper than this are not parsed (API answers nest < 20)."""
MAX_JSON_VALUES = 1_000_000
"""Values (counted by commas and brackets) a JSON text may hold: ~100 bytes each once parsed."""
PIECE = 64 * 1024
"""Most bytes one inflating step may produce."""
_WBITS = {"gzip": zlib.MAX_WBITS | 16, "x-gzip": zlib.MAX_WBITS | 16, "deflate": zlib.MAX_WBITS}
"""The content codings read here (the ones the transport asks for)."""
_QUOTED = re.compile(rb'"[^"]*"')
_STRUCTURE = b"[]{},"
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in _STRUCTURE)
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


class JsonRefused(ValueError):
    """A JSON text not parsed because it is too big, too deep or holds too many values."""


def shape(raw: bytes) -> tuple[int, int]:
    """(deepest nesting, number of values) of a JSON text, counted on its bytes outside strings
    without parsing it (C-speed bytes operations, no recursion)."""
    # escaped backslashes first, then escaped quotes: what is left of a string has no quote
    plain = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = _QUOTED.sub(b"", plain).translate(None, _NOT_STRUCTURE)
    values = skeleton.count(b",") + skeleton.count(b"[") + skeleton.count(b"{") + 1
    brackets = skeleton.replace(b",", b"")
    depth = max(accumulate(map(_STEP.__getitem__, brackets)), default=0)
    return depth, values


def check_json(raw: bytes, max_bytes: int = MAX_BODY_BYTES) -> None:
    """Raise JsonRefused when ``raw`` is too big, too deep or too many to parse safely."""
    if len(raw) > max_bytes:
        raise JsonRefused(f"{len(raw):,} bytes of JSON, over the {size(max_bytes)} cap")
    depth, values = shape(raw)
    if depth > MAX_JSON_DEPTH:
        raise JsonRefused(f"JSON nested {depth:,} deep, over the {MAX_JSON_DEPTH} levels read")
    if values > MAX_JSON_VALUES:
        raise JsonRefused(f"about {values:,} JSON values, over the {MAX_JSON_VALUES:,} read")


def loads(data: bytes | str, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """``json.loads`` within bounds; raises ValueError (JsonRefused when out of bounds)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    check_json(raw, max_bytes)
    return json.loads(data)


def json_or_none(data: bytes | str) -> Any:
    """The parsed JSON, or None when it is not JSON or is out of bounds."""
    try:
        return loads(data)
    except ValueError:
        return None


def refusal(data: bytes) -> str:
    """Why a body that looks like JSON (an array or object) is not parsed: too big, too deep,
    too many values ('' when it would be parsed, or does not look like JSON at all)."""
    if data[:1024].lstrip()[:1] not in (b"[", b"{"):
        return ""
    try:
        check_json(data)
    except JsonRefused as exc:
        return str(exc)
    return ""


def why_not_json(data: bytes) -> str:
    """Why a body is not parsed as JSON, as a sentence: out of bounds, or what the parser
    said ('' when it parses)."""
    try:
        loads(data)
    except JsonRefused as exc:
        return f"the body was not parsed: {exc}"
    except ValueError as exc:  # UnicodeDecodeError included
        return f"the body is not JSON ({str(exc)[:120]})"
    return ""


def size(n: int) -> str:
    """A byte count as people read it: ``16 MiB``, ``512 KiB``, ``100 bytes``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} bytes"


# --- decoding ----------------------------------------------------------------------------------


class _Inflate:
    """One zlib coding, undone at most PIECE bytes at a time."""

    def __init__(self, coding: str) -> None:
        self.coding = coding
        self._z = zlib.decompressobj(_WBITS[coding])
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data and not self._z.eof:
            try:
                piece = self._z.decompress(data, PIECE)
            except zlib.error:
                if self.coding != "deflate" or self._started:
                    raise
                # "deflate" is sent both zlib-wrapped and raw: retry the first bytes as raw
                self._z = zlib.decompressobj(-zlib.MAX_WBITS)
                self._started = True
                continue
            self._started = True
            data = self._z.unconsumed_tail
            if piece:
                yield piece

    def end(self) -> Iterator[bytes]:
        while not self._z.eof and self._started:
            piece = self._z.decompress(self._z.unconsumed_tail, PIECE)
            if not piece:
                break
            yield piece


class Decoder:
    """Undoes a Content-Encoding (gzip, deflate, or a chain of them) in bounded pieces; codings
    not asked for (br, zstd...) are left as they are, as httpx leaves unknown ones."""

    def __init__(self, content_encoding: str) -> None:
        codings = [c.strip().lower() for c in content_encoding.split(",")]
        self.codings = [c for c in codings if c in _WBITS]
        self._stages = [_Inflate(c) for c in reversed(self.codings)]

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded pieces of one raw chunk; httpx.DecodingError on corrupt data."""
        return self._through(0, data)

    def end(self) -> Iterator[bytes]:
        """What the stages still hold once the raw body has ended."""
        for i, stage in enumerate(self._stages):
            for piece in _decoding(stage.end):
                yield from self._through(i + 1, piece)

    def _through(self, i: int, data: bytes) -> Iterator[bytes]:
        if i == len(self._stages):
            if data:
                yield data
            return
        stage = self._stages[i]
        for piece in _decoding(lambda: stage.feed(data)):
            yield from self._through(i + 1, piece)


def _decoding(pieces: Callable[[], Iterator[bytes]]) -> Iterator[bytes]:
    try:
        yield from pieces()
    except zlib.error as exc:
        import httpx

        raise httpx.DecodingError(f"the body is not valid compressed data: {exc}") from None


# --- reading ---------------------------------------------------------------------------------


class BodyReader:
    """Iterates a streamed response's decoded body in pieces and stops at the first cap:
    ``max_bytes`` of decoded body, or the deadline (checked at every chunk; suites/deadline.py
    also ends each read by it). ``cut`` says which and how much had arrived, ``cut_by`` is
    "cap" or "deadline"; transport errors propagate (httpx.HTTPError)."""

    def __init__(
        self,
        response: httpx.Response,
        max_bytes: int,
        deadline: Deadline | None = None,
        cap_name: str = "max_body_bytes",
    ) -> None:
        self.response = response
        self.max_bytes = max_bytes
        self.deadline = deadline
        self.cap_name = cap_name
        self.wire = 0
        """Bytes read off the connection."""
        self.decoded = 0
        """Bytes of body handed on (after decoding)."""
        self.cut = ""
        """Why reading stopped before the body ended ('' when it ended)."""
        self.cut_by = ""
        self.decoder = Decoder(response.headers.get("content-encoding", ""))

    def __iter__(self) -> Iterator[bytes]:
        declared = self.response.headers.get("content-length", "")
        if not self.decoder.codings and declared.isdigit() and int(declared) > self.max_bytes:
            self.cut_by = "cap"
            self.cut = (
                f"the body went over {self.cap_name} ({size(self.max_bytes)}): its "
                f"Content-Length is {int(declared):,}, so none of it was read"
            )
            return
        if self.response.is_stream_consumed:  # built with its content (in process): decoded
            self.decoder = Decoder("")
            raws: Iterable[bytes] = [self.response.content]
        else:
            raws = self.response.iter_raw()
        for raw in raws:
            self.wire += len(raw)
            for piece in self.decoder.feed(raw):
                if not self._take(piece):
                    return
                yield piece
            if self.late():
                return
        for piece in self.decoder.end():
            if not self._take(piece):
                return
            yield piece

    def _take(self, piece: bytes) -> bool:
        if self.decoded + len(piece) <= self.max_bytes:
            self.decoded += len(piece)
            return True
        self.cut_by = "cap"
        self.cut = f"the body went over {self.cap_name} ({size(self.max_bytes)}) {self.arrived()}"
        self.decoded += len(piece)
        return False

    def late(self) -> bool:
        """True (and ``cut`` set) once the deadline has passed."""
        if self.deadline is None or not self.deadline.passed(slack=0):
            return False
        self.cut_by = "deadline"
        self.cut = f"{self.deadline.name} passed {self.arrived()}"
        return True

    def arrived(self) -> str:
        """How much had arrived, for a message: ``after 3 bytes of body``."""
        read = f"after {self.decoded:,} bytes of body"
        if self.decoder.codings and self.wire != self.decoded:
            read += f" (inflated from {self.wire:,} {'+'.join(self.decoder.codings)} bytes)"
        return read


async def aiter_decoded(response: httpx.Response) -> AsyncIterator[bytes]:
    """A streamed async response's body, decoded in bounded pieces (for the forwarding
    servers: they pass bodies on decoded, and must not inflate a bomb whole either)."""
    decoder = Decoder(response.headers.get("content-encoding", ""))
    async for raw in response.aiter_raw():
        for piece in decoder.feed(raw):
            yield piece
    for piece in decoder.end():
        yield piece
