"""The recording proxy: forward every request upstream, stream the answer back as it arrives,
and write one cassette per exchange (mockserver/cassettes.py) with every key redacted.

Redaction uses ``suites.redact.Redactor`` (the rules every run record is written with), fed the
keys each request presents, so a key the upstream echoes in a body is masked there too; the
cassette format itself lives in mockserver, which knows nothing of suites.
"""

from __future__ import annotations

import contextlib
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
from relaykit.forwarding import (
    Forwarder,
    Incoming,
    bad_gateway,
    forwarded_headers,
    presented_secrets,
    run_lifespan,
    send_body,
    start_response,
)
from suites.redact import Redactor

log = logging.getLogger("relaykit.record")


class Recorder:
    """An ASGI app recording the exchanges it forwards to ``upstream`` into ``out_dir``."""

    def __init__(self, upstream: str, out_dir: Path, timeout: float = 600.0) -> None:
        self.forwarder = Forwarder(upstream, timeout)
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
        """Pass the body on chunk by chunk, noting a stream's events as they complete."""
        stream = is_event_stream(answer.headers.get("content-type", ""))
        splitter = SseParser() if stream else None
        events: list[RecordedEvent] = []
        chunks: list[bytes] = []
        client_gone = False
        started = time.monotonic()
        try:
            async for chunk in answer.aiter_bytes():
                if splitter is not None:
                    at = time.monotonic() - started
                    for b in splitter.feed(chunk):
                        events.append(RecordedEvent.of(at, b.raw, b.event, b.data, b.id))
                else:
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
        else:
            response.body = encode_body(response.content_type, b"".join(chunks))
