"""The validating proxy: forward traffic both ways and judge each exchange against the contracts.

Each request is resolved to an operation (method, path through the relay prefixes and path
map, body through contracts.selection) and its body checked; the answer is judged by
suites.live. A plain answer is read whole, judged, and sent on with ``x-relaykit-violations``
naming the failed check ids. A stream's headers go out before its body, so there the header
carries only the request's violations; the stream is checked as its events pass through (never
held back), and its own violations are logged and recorded. Every violation is logged as one
redacted line, and the findings go into a run record (source ``proxy#<n>``) written to the
report directory on shutdown and, optionally, every N exchanges.

What the proxy holds to judge is bounded; what it passes on is not: a plain answer over
``max_body_bytes`` is sent on as it comes, unjudged (an ERROR finding says so), a stream is
noted for judging up to the checker's caps (suites/streams.py ``StreamLimits``) and passed on
whole, compressed answers are inflated a piece at a time, and JSON is parsed within bounds
(suites/bounded.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from contracts.model import ContractSet, Operation
from contracts.paths import PrefixMap
from contracts.wire.mediatype import JSON, MULTIPART_FORM, is_event_stream, media_type
from contracts.wire.sse import SseParser
from mockserver.cassette_bodies import parse_form
from mockserver.lifespan import run_lifespan
from mockserver.requests import validation_view
from mockserver.resolution import Resolver
from relaykit.forwarding import (
    Forwarder,
    Incoming,
    bad_gateway,
    forwarded_headers,
    presented_secrets,
    send_body,
    start_response,
)
from reports.rundir import new_run_dir, write_all
from suites import bounded
from suites.findings import Finding, Outcome
from suites.live import LiveAnswer, LiveJudge, violations, with_evidence
from suites.record import OperationInfo, RunRecord
from suites.redact import Redactor
from suites.runner import tool_version
from suites.streams import Arrival, StreamLimits, StreamRecord
from suites.transport import EXCERPT

VIOLATIONS_HEADER = "x-relaykit-violations"
log = logging.getLogger("relaykit.proxy")


@dataclass(frozen=True, slots=True)
class Resolved:
    """The operation a request means, its parsed body and what the request schema checks."""

    op: Operation
    body: Any
    view: Any
    parsed: bool


class ProxyApp:
    """An ASGI app forwarding to ``upstream`` and judging every exchange it forwards."""

    def __init__(
        self,
        upstream: str,
        contracts: ContractSet,
        *,
        report_dir: Path | None = None,
        name: str | None = None,
        every: int = 0,
        path_map: PrefixMap | None = None,
        timeout: float = 600.0,
        max_body_bytes: int = bounded.MAX_BODY_BYTES,
    ) -> None:
        self.forwarder = Forwarder(upstream, timeout)
        self.max_body_bytes = max_body_bytes
        self.contracts = contracts
        self.judge = LiveJudge(contracts)
        self.resolver = Resolver(contracts, path_map)
        self.report_dir, self.name, self.every = report_dir, name, every
        self.run_dir: Path | None = None
        self.findings: list[Finding] = []
        self.operations: dict[str, OperationInfo] = {}
        self.exchanges = 0
        self.unmatched = 0
        self.secrets: set[str] = set()
        self.started = datetime.now(UTC)
        self._clock = time.monotonic()
        self._written_at = 0
        self._write_lock = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await run_lifespan(receive, send, self.aclose)
        elif scope["type"] == "http":
            await self._exchange(scope, receive, send)

    async def aclose(self) -> None:
        """Close the upstream connections and write the run record (when there is news)."""
        await self.forwarder.aclose()
        await self.flush()

    async def flush(self) -> Path | None:
        """Write the run record if exchanges came since the last write; returns the run dir."""
        async with self._write_lock:
            if self.report_dir is None or self.exchanges == self._written_at:
                return self.run_dir
            self._written_at = self.exchanges
            record = self.record()
            if self.run_dir is None:
                self.run_dir = new_run_dir(self.report_dir, self.name)
            run_dir, secrets = self.run_dir, sorted(self.secrets)
            await asyncio.to_thread(write_all, record, run_dir, secrets)
            log.info("run record of %d exchange(s) written to %s", self.exchanges, run_dir)
            return run_dir

    def record(self) -> RunRecord:
        """The run record of what the proxy has seen so far."""
        return RunRecord(
            run={
                "name": self.name or "proxy",
                "started": self.started.isoformat(timespec="seconds"),
                "finished": datetime.now(UTC).isoformat(timespec="seconds"),
                "seconds": round(time.monotonic() - self._clock, 3),
                "target": "proxy",
                "base_url": Redactor(self.secrets).url(self.forwarder.upstream),
                "profile": "",
                "seed": 0,
                "exchanges": self.exchanges,
                "unmatched": self.unmatched,
            },
            operations={
                k: OperationInfo(v.family, v.method, v.path, v.summary, list(v.latency))
                for k, v in self.operations.items()
            },
            findings=list(self.findings),
            tool=tool_version(),
        )

    async def resolve(self, incoming: Incoming) -> Resolved | None:
        """The operation a request means (None for a path no contract has), resolved as the mock
        resolves it (mockserver/resolution.py)."""
        resolution = self.resolver.resolve(incoming.method, incoming.path)
        if not resolution.candidates:
            return None
        content_type = resolution.candidates[0].request.content_type
        body, parsed = await _parse_body(incoming, content_type)
        op = self.resolver.choose(resolution, body)
        return Resolved(op, body, validation_view(op, body) if parsed else None, parsed)

    async def _exchange(self, scope: Scope, receive: Receive, send: Send) -> None:
        incoming = await Incoming.read(scope, receive)
        self.exchanges += 1
        source = f"proxy#{self.exchanges}"
        keys = presented_secrets(incoming)
        self.secrets.update(k for k in keys if len(k) >= 4)
        redactor = Redactor(keys)
        resolved = await self.resolve(incoming)
        if resolved is None:
            self.unmatched += 1
            log.info(
                "%s %s %s: no contract; forwarded unjudged",
                source,
                incoming.method,
                redactor.url(incoming.path),
            )
        asked = self.judge.request(resolved.op, resolved.view, resolved.parsed) if resolved else []
        sent_at = time.monotonic()
        try:
            answer = await self.forwarder.open(incoming)
        except httpx.HTTPError as exc:
            await bad_gateway(send, type(exc).__name__)
            if resolved is not None:
                message = f"no answer from the upstream: {type(exc).__name__}"
                failed = Finding(resolved.op.id, "response.status", Outcome.ERROR, message)
                self._keep(resolved, [*asked, failed], source, incoming, redactor, None, None, 0)
            return
        headers = forwarded_headers(answer.headers.multi_items())
        content_type = media_type(answer.headers.get("content-type"))
        if is_event_stream(content_type):
            await start_response(send, answer.status_code, _flagged(headers, violations(asked)))
            stream = await _pass_stream(answer, send, sent_at)
            live = LiveAnswer(answer.status_code, content_type, stream=stream)
            judged = self._judge(resolved, live)
        else:
            pieces = bounded.aiter_decoded(answer)
            content, ended = await _read_all(answer, pieces, self.max_body_bytes)
            if ended.startswith(OVER_CAP):  # too big to hold: pass it on as it comes, unjudged
                live = LiveAnswer(answer.status_code, content_type, content[:EXCERPT])
                judged = [_broken(resolved, ended)]
                await start_response(send, answer.status_code, _flagged(headers, violations(asked)))
                await send_body(send, content, True)
                await _pass_rest(answer, pieces, send)
            else:
                live = LiveAnswer(answer.status_code, content_type, content)
                judged = self._judge(resolved, live)
                if ended:
                    judged.append(_broken(resolved, ended))
                await start_response(
                    send, answer.status_code, _flagged(headers, violations(asked + judged))
                )
                await send_body(send, content, False)
        if resolved is not None:
            view = _response_view(answer, live, redactor)
            elapsed = time.monotonic() - sent_at
            self._keep(
                resolved, asked + judged, source, incoming, redactor, view, live.stream, elapsed
            )
        if self.every and self.exchanges % self.every == 0:
            await self.flush()

    def _judge(self, resolved: Resolved | None, answer: LiveAnswer) -> list[Finding]:
        if resolved is None:
            return []
        try:
            return self.judge.response(resolved.op, resolved.body, answer)
        except Exception as exc:  # a judging bug must not break the traffic it watches
            log.exception("judging %s failed", resolved.op.id)
            message = f"the check broke: {type(exc).__name__}: {exc}"
            return [Finding(resolved.op.id, "proxy.judge", Outcome.ERROR, message)]

    def _keep(
        self,
        resolved: Resolved,
        findings: list[Finding],
        source: str,
        incoming: Incoming,
        redactor: Redactor,
        response: dict[str, Any] | None,
        stream: StreamRecord | None,
        elapsed: float,
    ) -> None:
        op = resolved.op
        request = _request_view(incoming, redactor)
        kept = with_evidence(findings, source, request, response, stream, redactor.text)
        for f in kept:
            if f.outcome in (Outcome.FAIL, Outcome.ERROR):
                log.warning(
                    "%s %s %s %s: %s", source, op.id, f.check_id, f.outcome.value, f.message
                )
        self.findings += kept
        info = self.operations.setdefault(
            op.id, OperationInfo(op.family, op.method, op.path, op.summary)
        )
        if elapsed:
            info.latency.append(elapsed)


async def _parse_body(incoming: Incoming, content_type: str) -> tuple[Any, bool]:
    """(body, parsed): a JSON object or a form as a dict; parsed False when it cannot be read."""
    if content_type == "none" or incoming.method in ("GET", "HEAD", "DELETE"):
        return None, True
    if content_type == MULTIPART_FORM:
        form = await parse_form(incoming.header("content-type"), incoming.body)
        return form, form is not None
    if content_type != JSON:
        return None, True
    try:
        body = bounded.loads(incoming.body)
    except ValueError:
        return None, False
    return (body, True) if isinstance(body, dict) else (None, False)


async def _pass_stream(answer: httpx.Response, send: Send, sent_at: float) -> StreamRecord:
    """Relay a stream chunk by chunk, noting each event as it completes (up to the checker's
    stream caps: past them it is passed on, not noted)."""
    record = StreamRecord(headers_at=time.monotonic() - sent_at)
    caps = StreamLimits()
    parser = SseParser()
    client_gone = False
    try:
        async for chunk in bounded.aiter_decoded(answer):
            at = time.monotonic() - sent_at
            record.total_bytes += len(chunk)
            if record.ended == "eof":
                for event in parser.feed(chunk):
                    if event.dispatched and len(record.arrivals) < caps.events:
                        record.arrivals.append(Arrival(at, event.event, event.data))
                if len(record.arrivals) >= caps.events:
                    record.ended, record.detail = "events", f"noted the first {caps.events} events"
                elif record.total_bytes >= caps.bytes:
                    record.ended = "bytes"
                    record.detail = f"noted the first {bounded.size(caps.bytes)}"
            if not client_gone:
                try:
                    await send_body(send, chunk, True)
                except OSError:
                    client_gone = True
    except httpx.HTTPError as exc:
        if record.ended == "eof":
            record.ended, record.detail = "transport", f"{type(exc).__name__}: {exc}"
    finally:
        await answer.aclose()
    at = time.monotonic() - sent_at
    for event in parser.feed(b"", final=True):  # an event ended by a last lone CR
        if event.dispatched and record.ended == "eof" and len(record.arrivals) < caps.events:
            record.arrivals.append(Arrival(at, event.event, event.data))
    if not client_gone:
        with contextlib.suppress(OSError):
            await send_body(send, b"", False)
    return record


OVER_CAP = "the body went over max_body_bytes"


async def _read_all(
    answer: httpx.Response, pieces: AsyncIterator[bytes], limit: int
) -> tuple[bytes, str]:
    """The whole body, and why reading stopped early ('' when it did not); a body over
    ``limit`` stops there with the answer still open (the rest is for ``_pass_rest``)."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in pieces:
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                return b"".join(chunks), f"{OVER_CAP} ({bounded.size(limit)}): passed on unjudged"
    except httpx.HTTPError as exc:
        await answer.aclose()
        return b"".join(chunks), f"the upstream broke off the body: {type(exc).__name__}"
    await answer.aclose()
    return b"".join(chunks), ""


async def _pass_rest(answer: httpx.Response, pieces: AsyncIterator[bytes], send: Send) -> None:
    """Send on what is left of a body, chunk by chunk, holding none of it."""
    try:
        async for chunk in pieces:
            await send_body(send, chunk, True)
    except (httpx.HTTPError, OSError):
        pass  # the upstream broke off or the client went: either way the body ends here
    finally:
        await answer.aclose()
    with contextlib.suppress(OSError):
        await send_body(send, b"", False)


def _broken(resolved: Resolved | None, message: str) -> Finding:
    op_id = resolved.op.id if resolved else "(unmatched)"
    return Finding(op_id, "response.body", Outcome.ERROR, message)


def _flagged(headers: list[tuple[str, str]], failed: list[str]) -> list[tuple[str, str]]:
    return [*headers, (VIOLATIONS_HEADER, ", ".join(failed))] if failed else headers


_REQUEST_NOISE = frozenset({"content-length", "connection", "accept-encoding", "host"})


def _request_view(incoming: Incoming, redactor: Redactor) -> dict[str, Any]:
    query = f"?{incoming.query_string}" if incoming.query_string else ""
    body = incoming.body[:EXCERPT].decode("utf-8", errors="replace")
    if len(incoming.body) > EXCERPT:
        body += f"... ({len(incoming.body)} bytes)"
    return {
        "method": incoming.method,
        "url": redactor.url(incoming.path + query),
        "headers": redactor.headers(
            {k: v for k, v in incoming.headers if k.lower() not in _REQUEST_NOISE}
        ),
        "body": redactor.text(body),
    }


def _response_view(answer: httpx.Response, live: LiveAnswer, redactor: Redactor) -> dict[str, Any]:
    keep = ("content-type", "retry-after", "x-request-id")
    headers = {k: v for k, v in answer.headers.items() if k.lower() in keep}
    view: dict[str, Any] = {"status": answer.status_code, "headers": redactor.headers(headers)}
    if live.stream is None:
        text = live.content[:EXCERPT].decode("utf-8", errors="replace")
        if len(live.content) > EXCERPT:
            text += f"... ({len(live.content)} bytes)"
        view["excerpt"] = redactor.text(text)
    return view
