"""The recording proxy: forward every request upstream, stream the answer back as it arrives,
and write one cassette per exchange (mockserver/cassettes.py) with every key redacted.

Redaction uses ``suites.redact.Redactor`` (the rules every run record is written with), fed the
keys each request presents, so a key the upstream echoes in a body is masked there too; the
cassette format itself lives in mockserver, which knows nothing of suites.

What is kept for a cassette is bounded, what is passed on is not: a body over
``max_body_bytes`` is kept as its size and hash, a stream's events past the checker's caps
(suites/streams.py ``StreamLimits``) are passed on unrecorded, a compressed answer is inflated
a piece at a time, and JSON too deep to parse safely is kept as text (suites/bounded.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from starlette.types import Receive, Scope, Send

from contracts.wire.mediatype import is_event_stream
from contracts.wire.sse import SseParser
from mockserver.cassette_bodies import encode_body, encode_request_body
from mockserver.cassettes import (
    HOP_BY_HOP,
    Cassette,
    RecordedEvent,
    RecordedRequest,
    RecordedResponse,
    next_seq,
    write_cassette,
)
from mockserver.lifespan import run_lifespan
from relaykit.forwarding import (
    Forwarder,
    Incoming,
    bad_gateway,
    forwarded_headers,
    presented_secrets,
    send_body,
    start_response,
)
from suites import bounded
from suites.redact import Redactor
from suites.streams import StreamLimits

log = logging.getLogger("relaykit.record")


class Recorder:
    """An ASGI app recording the exchanges it forwards to ``upstream`` into ``out_dir``."""

    def __init__(
        self,
        upstream: str,
        out_dir: Path,
        timeout: float = 600.0,
        max_body_bytes: int = bounded.MAX_BODY_BYTES,
    ) -> None:
        self.forwarder = Forwarder(upstream, timeout)
        self.max_body_bytes = max_body_bytes
        self.stream_caps = StreamLimits()
        self.out_dir = out_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        self._next = next_seq(out_dir)
        self.written: list[Path] = []

    async def aclose(self) -> None:
        """Close the upstream connections."""
        await self.forwarder.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await run_lifespan(receive, send, self.aclose)
            return
        if scope["type"] != "http":
            return
        incoming = await Incoming.read(scope, receive)
        seq, self._next = self._next, self._next + 1
        sent_at = time.monotonic()
        try:
            answer = await self.forwarder.open(incoming)
        except httpx.HTTPError as exc:
            log.warning("not recorded: %s %s: %s", incoming.method, incoming.path, exc)
            await bad_gateway(send, type(exc).__name__)
            return
        headers = forwarded_headers(answer.headers.multi_items())
        await start_response(send, answer.status_code, headers)
        response = RecordedResponse(answer.status_code, headers)
        await self._relay(answer, response, send)
        cassette = Cassette(
            request=RecordedRequest(
                incoming.method,
                incoming.path,
                incoming.query,
                [(k.lower(), v) for k, v in incoming.headers if k.lower() not in HOP_BY_HOP],
                await encode_request_body(incoming.header("content-type"), incoming.body),
            ),
            response=response,
            seq=seq,
            recorded=datetime.now(UTC).isoformat(timespec="seconds"),
            upstream=self.forwarder.upstream,
            elapsed=time.monotonic() - sent_at,
        )
        path = write_cassette(self.out_dir, cassette, Redactor(presented_secrets(incoming)))
        self.written.append(path)
        log.info("recorded %s %s -> %s", incoming.method, incoming.path, path.name)

    async def _relay(self, answer: httpx.Response, response: RecordedResponse, send: Send) -> None:
        """Pass the body on chunk by chunk, noting a stream's events as they complete; what
        is kept for the cassette stops at the caps, what is passed on does not."""
        stream = is_event_stream(answer.headers.get("content-type", ""))
        splitter = SseParser() if stream else None
        events: list[RecordedEvent] = []
        chunks: list[bytes] = []
        digest, size, cut = hashlib.sha256(), 0, ""
        client_gone = False
        started = time.monotonic()
        try:
            async for chunk in bounded.aiter_decoded(answer):
                size += len(chunk)
                if splitter is not None and not cut:
                    at = time.monotonic() - started
                    for b in splitter.feed(chunk):
                        if len(events) < self.stream_caps.events:
                            events.append(RecordedEvent.of(at, b.raw, b.event, b.data, b.id))
                    cut = self._stream_cut(len(events), size)
                elif splitter is None:
                    digest.update(chunk)
                    if size <= self.max_body_bytes:
                        chunks.append(chunk)
                if not client_gone:
                    try:
                        await send_body(send, chunk, True)
                    except OSError:  # the client went away; keep recording what comes
                        client_gone = True
        except httpx.HTTPError as exc:
            response.ended = f"upstream {type(exc).__name__}"
        finally:
            await answer.aclose()
        if client_gone and response.ended == "eof":
            response.ended = "client disconnected"
        if not client_gone:
            with contextlib.suppress(OSError):
                await send_body(send, b"", False)
        if splitter is not None:
            at = time.monotonic() - started
            for b in splitter.feed(b"", final=True):
                events.append(RecordedEvent.of(at, b.raw, b.event, b.data, b.id))
            response.events, response.tail = events, splitter.tail()
            if cut and response.ended == "eof":
                response.ended = cut
        elif size > self.max_body_bytes:
            response.body = {"size": size, "sha256": digest.hexdigest()}
            if response.ended == "eof":
                limit = bounded.size(self.max_body_bytes)
                response.ended = f"body over max_body_bytes ({limit}): kept as size and hash"
        else:
            content = b"".join(chunks)
            # JSON too deep or too big to parse safely is kept as its text
            kind = "text/plain" if bounded.refusal(content) else response.content_type
            response.body = encode_body(kind, content)

    def _stream_cut(self, events: int, size: int) -> str:
        """Why the cassette keeps no more of a stream ('' while it keeps it all)."""
        caps = self.stream_caps
        if events >= caps.events:
            return f"cassette cut after {caps.events} events: the rest passed on unrecorded"
        if size >= caps.bytes:
            limit = bounded.size(caps.bytes)
            return f"cassette cut after {limit}: the rest passed on unrecorded"
        return ""
