"""Fault injection in front of the mock: slow, failing, broken and cut responses, on request.

A pure ASGI middleware (streams pass through as they are sent; nothing is buffered). Per
request, in the ``Prefer`` header beside the app's own preferences::

    Prefer: fault=429, retry-after=2       # 429 in the provider's envelope, Retry-After: 2
    Prefer: fault=503 | 500 | 502 | 524    # errors in the envelope (524: Cloudflare timeout)
    Prefer: latency-ms=200, jitter-ms=50   # wait 150-250 ms before the response
    Prefer: fault=pace, ttfe-ms=300, interval-ms=40, jitter-ms=10   # time each SSE event
    Prefer: fault=cut, after=3             # 3 events, then the connection closes unfinished
    Prefer: fault=malformed, at=2          # the 2nd event's data is invalid JSON
    Prefer: fault=empty                    # 200 with an empty body
    Prefer: fault=reset                    # the connection is reset, no response at all
    Prefer: fault=drip, drip-bytes=16, drip-ms=20   # the body 16 bytes at a time
    Prefer: fault=none                     # no fault, whatever the rules say

``latency-ms`` and ``jitter-ms`` combine with any fault; ``ttfe-ms``/``interval-ms`` are the
app's own pacing unless ``fault=pace`` or ``jitter-ms`` is given. A bad parameter is a 400 in the
envelope naming it. Per server, ``relaykit serve --faults rules.yaml``::

    seed: 7                    # draws for probability and jitter repeat run after run
    rules:                     # the first rule that matches applies; a header overrides them
      - match: {operation: openai.chat.completions.stream}   # and/or path (glob), method
        fault: cut
        after: 3
        probability: 0.5       # optional, 0..1
        times: 10              # optional: apply to the first 10 matching requests only

Every injected response carries ``X-Relaykit-Fault`` (e.g. ``latency=213ms; header``) and the
middleware keeps what it did in ``applied``. Non-stream responses: ``cut`` sends half the body,
``malformed`` replaces its second half with spaces; pacing applies to SSE only.

A stream is faulted frame by frame where it is produced: the middleware installs a
``FrameShaper`` in the request's scope state (mockserver/streaming.py), and the app (or replay)
hands it each frame and takes its pacing instead of its own. The request's operation is
resolved once (mockserver/resolution.py) and found again by the app in the same scope.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import Any, cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.model import ContractSet
from contracts.paths import PrefixMap
from contracts.wire import sse
from contracts.wire.mediatype import is_event_stream
from mockserver.config import MockConfig
from mockserver.errors import error_response
from mockserver.fault_rules import (
    ERROR_KINDS,
    FaultHeaderError,
    FaultRules,
    FaultRulesError,
    FaultSpec,
    load_fault_rules,
    parse_fault_header,
)
from mockserver.resolution import Resolution, Resolver
from mockserver.streaming import Pacing, install_shaper

__all__ = [
    "AppliedFault",
    "FaultMiddleware",
    "FaultRules",
    "FaultRulesError",
    "FaultSpec",
    "load_fault_rules",
]

FAULT_HEADER = b"x-relaykit-fault"
MALFORMED_DATA = '{"relaykit": "malformed event", "choices": ['
"""What ``fault=malformed`` puts in place of an event's data: JSON cut short."""
_FALLBACK_MESSAGES = {524: "A timeout occurred: the origin did not answer in time (524)."}


class _Stop(Exception):
    """Raised through the app's ``send`` to end it once the fault has had its say."""


@dataclass(slots=True)
class AppliedFault:
    """What the injector did to one request; delays in seconds, as slept."""

    method: str
    path: str
    operation: str | None
    source: str
    spec: FaultSpec
    latency: float = 0.0
    ttfe: float | None = None
    gaps: list[float] = field(default_factory=list)
    events: int = 0
    outcome: str = ""


class FaultMiddleware:
    """Wraps an ASGI app; applies the header's fault, else the first matching rule's."""

    def __init__(
        self,
        app: ASGIApp,
        contracts: ContractSet,
        rules: FaultRules | None = None,
        config: MockConfig | None = None,
    ) -> None:
        self.app = app
        self.contracts = contracts
        self.rules = rules
        if rules is not None:
            rules.check_operations(op.id for op in contracts.operations)
        config = config or MockConfig()
        self.resolver = Resolver(contracts, PrefixMap(config.path_map), config.bare_paths)
        self.max_body_bytes = config.max_body_bytes
        # jitter has its own stream so that it never shifts the rules' probability draws
        self.rng = random.Random(None if rules is None or rules.seed is None else rules.seed + 1)
        self.applied: deque[AppliedFault] = deque(maxlen=1000)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point: pass through, or resolve, pick and apply a fault."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = _prefer(scope)
        try:
            spec = parse_fault_header(header)
        except FaultHeaderError as exc:
            envelope = self.resolver.envelope(self.resolver.of(scope))
            response = error_response(envelope, 400, str(exc), param="Prefer")
            await response(scope, receive, send)
            return
        if spec is not None and spec.kind == "none":
            await self.app(scope, receive, send)
            return
        source = "header"
        resolved: Resolution | None = None
        if spec is None:
            if self.rules is None:
                await self.app(scope, receive, send)
                return
            resolved = self.resolver.of(scope)
            if self.rules.wants_body(resolved):
                receive = await self.resolver.choose_by_body(
                    scope, receive, resolved, self.max_body_bytes
                )
            op = resolved.operation
            rule = self.rules.pick(scope["method"], scope["path"], lambda: op.id if op else None)
            if rule is None:
                await self.app(scope, receive, send)
                return
            spec, source = rule.spec, rule.label
        resolved = resolved or self.resolver.of(scope)
        await self._apply(spec, source, resolved, scope, receive, send)

    def _delay(self, ms: float, jitter_ms: float) -> float:
        spread = self.rng.uniform(-jitter_ms, jitter_ms) if jitter_ms else 0.0
        return max(0.0, ms + spread) / 1000

    async def _apply(
        self,
        spec: FaultSpec,
        source: str,
        resolved: Resolution,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        op = resolved.operation
        record = AppliedFault(scope["method"], scope["path"], op.id if op else None, source, spec)
        self.applied.append(record)
        record.latency = self._delay(spec.latency_ms, spec.jitter_ms) if spec.latency_ms else 0.0
        if spec.ttfe_ms is not None:
            record.ttfe = self._delay(spec.ttfe_ms, spec.jitter_ms)
        label = _describe(spec, record, source)
        if spec.kind in ERROR_KINDS or spec.kind == "reset":
            await asyncio.sleep(record.latency)
            transport = _transport(send) if spec.kind == "reset" else None
            if transport is not None:
                record.outcome = "reset"  # before: the client may look as soon as it is reset
                await _reset(transport, receive)
                return
            if spec.kind == "reset":
                record.outcome = "reset unavailable: answered 500"
                message = "relaykit cannot reset connections under this server."
                response = error_response(self.resolver.envelope(resolved), 500, message)
            else:
                record.outcome = f"answered {spec.kind}"
                response = self._error(spec, resolved, label)
            await response(scope, receive, send)
            return
        frames = _Frames(self, spec, record) if spec.paces or spec.kind in _FRAMED else None
        if frames is not None:
            install_shaper(scope, frames)
        shaper = _Shaper(spec, record, send, label, frames)
        try:
            await self.app(scope, receive, shaper.send)
        except BaseException as exc:
            if not _only_stops(exc):
                raise
        if shaper.cut:
            record.outcome = f"cut after {record.events} event(s)"
            await _close(send, receive)

    def _error(self, spec: FaultSpec, resolved: Resolution, label: str) -> Any:
        status = int(spec.kind)
        envelope = self.resolver.envelope(resolved)
        message = None if status in envelope.statuses else _FALLBACK_MESSAGES.get(status)
        headers = {"X-Relaykit-Fault": label, "X-Relaykit-Simulated": "1"}
        if resolved.operation is not None:
            headers["X-Relaykit-Operation"] = resolved.operation.id
        if spec.retry_after is not None:
            headers["Retry-After"] = str(spec.retry_after)
        return error_response(envelope, status, message, headers=headers)


_FRAMED = ("cut", "malformed")
"""Faults that act on a stream's frames (pacing does too)."""


class _Frames:
    """The fault as a stream's frames meet it where they are produced (mockserver/streaming.py):
    counts them, breaks one, ends the stream after N, and paces them when the fault paces."""

    def __init__(self, owner: FaultMiddleware, spec: FaultSpec, record: AppliedFault) -> None:
        self.owner = owner
        self.spec = spec
        self.record = record
        self.engaged = False
        """True once a producer handed its frames over."""
        self.cut = False
        """True when the stream must end unfinished."""

    def pacing(self, own: Pacing) -> Pacing:
        self.engaged = True
        return _FaultPacing(self, own) if self.spec.paces else own

    def shape(self, frame: bytes) -> bytes | None:
        spec, record = self.spec, self.record
        if spec.kind == "cut" and record.events >= spec.after:
            self.cut = True
            return None
        record.events += 1
        if spec.kind == "malformed" and record.events == spec.at:
            return _break(frame)
        return frame

    def finished(self) -> None:
        if self.spec.kind == "cut":  # fewer events than `after`: end without finishing
            self.cut = True


class _FaultPacing:
    """The fault's ttfe and (jittered) interval where it gives them; the producer's otherwise."""

    def __init__(self, frames: _Frames, own: Pacing) -> None:
        self.frames = frames
        self.own = own

    def before(self, index: int, started: float) -> float:
        spec, record = self.frames.spec, self.frames.record
        if index == 0:
            return self.own.before(0, started) if record.ttfe is None else record.ttfe
        if spec.interval_ms is None:
            return self.own.before(index, started)
        delay = self.frames.owner._delay(spec.interval_ms, spec.jitter_ms)
        record.gaps.append(delay)
        return delay


class _Shaper:
    """The app's ``send`` as the fault sees it: delays the start, cuts, breaks or drips a body;
    a stream's frames were already shaped where they were produced (``_Frames``)."""

    def __init__(
        self,
        spec: FaultSpec,
        record: AppliedFault,
        send: Send,
        label: str,
        frames: _Frames | None,
    ) -> None:
        self.spec = spec
        self.record = record
        self.downstream = send
        self.label = label
        self.frames = frames
        self.stream = False
        self.cut = False
        self.sent_any = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            await self._start(message)
            return
        if message["type"] != "http.response.body":
            await self.downstream(message)
            return
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        if self.stream:
            await self._stream_body(body, more)
        elif self.spec.kind == "cut":
            await self._out(body[: len(body) // 2], True)
            self.cut = True
            raise _Stop
        else:
            if self.spec.kind == "malformed" and body and self.record.events == 0:
                half = len(body) // 2
                body = body[:half] + b" " * (len(body) - half)
                self.record.events = 1
            await self._out(body, more)

    async def _start(self, message: Message) -> None:
        await asyncio.sleep(self.record.latency)
        headers = [(k, v) for k, v in message.get("headers", [])]
        content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
        sse_answer = is_event_stream(content_type)
        self.stream = sse_answer and self.frames is not None
        if self.spec.paces and not sse_answer:
            self.record.outcome = "not a stream: pacing not applied"
        headers.append((FAULT_HEADER, self.label.encode("latin-1")))
        if self.spec.kind == "empty":
            headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
            headers.append((b"content-length", b"0"))
            self.record.outcome = "empty 200"
            start = {"type": "http.response.start", "status": 200, "headers": headers}
            await self.downstream(start)
            await self.downstream({"type": "http.response.body", "body": b"", "more_body": False})
            raise _Stop
        await self.downstream({**message, "headers": headers})

    async def _stream_body(self, body: bytes, more: bool) -> None:
        frames = self.frames
        assert frames is not None
        if not more:
            if not frames.engaged:
                self.record.outcome = "the stream was not produced by relaykit: frames untouched"
            elif frames.cut:
                self.cut = True
                if body:
                    await self._out(body, True)
                raise _Stop
        await self._out(body, more)

    async def _out(self, body: bytes, more: bool) -> None:
        if self.spec.kind != "drip" or not body:
            await self.downstream({"type": "http.response.body", "body": body, "more_body": more})
            return
        step = self.spec.drip_bytes
        for i in range(0, len(body), step):
            if self.sent_any:
                await asyncio.sleep(self.spec.drip_ms / 1000)
            self.sent_any = True
            last = i + step >= len(body)
            piece = body[i : i + step]
            await self.downstream(
                {"type": "http.response.body", "body": piece, "more_body": more or not last}
            )


def _describe(spec: FaultSpec, record: AppliedFault, source: str) -> str:
    parts = [] if spec.kind in ("latency", "pace") else [spec.describe()]
    if spec.latency_ms:
        parts.append(f"latency={record.latency * 1000:.0f}ms")
    if record.ttfe is not None:
        parts.append(f"ttfe={record.ttfe * 1000:.0f}ms")
    if spec.interval_ms is not None:
        jitter = f"±{spec.jitter_ms:g}" if spec.jitter_ms else ""
        parts.append(f"interval={spec.interval_ms:g}{jitter}ms")
    parts.append(source)
    return "; ".join(parts)


def _break(frame: bytes) -> bytes:
    """The frame with its data replaced by invalid JSON (its name and id kept)."""
    event = sse.parse_event(frame.decode("utf-8", errors="replace"))
    return sse.encode(MALFORMED_DATA, event.event, event.id)


def _prefer(scope: Scope) -> str | None:
    values = [v.decode("latin-1") for k, v in scope["headers"] if k == b"prefer"]
    return ", ".join(values) if values else None


def _only_stops(exc: BaseException) -> bool:
    if isinstance(exc, _Stop):
        return True
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_stops(e) for e in exc.exceptions)
    return False


def _transport(send: Send) -> asyncio.Transport | None:
    """The connection's transport when the server is uvicorn (its ``send`` is a bound method
    of the request cycle, which holds it); None under other servers."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    # uvloop's transports are not asyncio.Transport subclasses, yet they abort and close alike
    if all(
        callable(getattr(transport, name, None)) for name in ("abort", "close", "get_extra_info")
    ):
        return cast(asyncio.Transport, transport)
    return None


async def _reset(transport: asyncio.Transport, receive: Receive) -> None:
    """Abort the connection with a TCP RST (SO_LINGER 0) once the request has arrived."""
    # take the whole request first: a reset while the client still writes reads as a clean close
    message: Message = {"more_body": True}
    while message.get("more_body", False):
        message = await receive()
        if message["type"] != "http.request":
            break
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    await _disconnected(receive)


async def _close(send: Send, receive: Receive) -> None:
    """Close the connection mid-body (a FIN, no last chunk): the client sees a cut stream.

    Without the transport, returning unfinished makes uvicorn close it too (and log it)."""
    transport = _transport(send)
    if transport is None:
        return
    transport.close()
    await _disconnected(receive)


async def _disconnected(receive: Receive) -> None:
    # wait for the server to notice, so that it neither answers 500 nor logs an error
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2):
            while (await receive())["type"] != "http.disconnect":
                pass
