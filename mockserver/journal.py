"""The request journal: the last N exchanges the mock answered, for a test to ask what its
client sent (``GET /_relaykit/requests``; ``DELETE`` empties it).

A pure ASGI middleware, outermost (so injected faults are journaled with the status the client
saw): it notes the request body as the app reads it (mockserver/journal_body.py, bounded), the
status as it is sent, and leaves the exchange's record in the journal's log just before the
response's last bytes leave: this process's memory, or the state store's ``journal`` log when
other processes answer too (mockserver/journal_log.py), so a client that has its answer finds
its request in the journal, whichever worker it asks. Keys never
reach the store: the headers and query parameters ``contracts.wire.auth`` calls secret are
masked, and so is every secret value wherever else it appears (other headers, the body). With
``--journal 0`` the middleware is not installed at all.

An entry: ``seq``, ``time`` (when the request arrived, ISO 8601 UTC), ``method``, ``path``,
``query``, ``operation`` (the contract operation id, from the request's resolution in the
ASGI scope: mockserver/resolution.py), ``headers``, ``body`` (JSON as data, a form as its
fields with files as name, type and size, text as an excerpt, binary as null), ``body_kind``
(none, json, form, text, binary, or unread when the mock answered before reading it),
``body_bytes``, ``body_truncated``, ``status`` (null when the connection was reset),
``complete`` (false when the response was broken off) and ``duration_ms``.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.model import Envelope
from contracts.wire.auth import SECRET_HEADERS, SECRET_QUERY, presented_secrets
from mockserver.errors import error_response
from mockserver.files import FILES_PREFIX
from mockserver.journal_body import REDACTED, BodyNotes, grouped
from mockserver.journal_log import JournalLog, MemoryLog, StoreLog
from mockserver.resolution import STATE_KEY, Resolution, Resolver
from mockserver.state import LogEntry, StateStore

JOURNAL_PATH = "/_relaykit/requests"
LOG_NAME = "journal"
MAX_HEADERS = 64
HEADER_CAP = 2048
"""Characters of one header value kept."""
FILTERS = ("operation", "path", "method", "since", "limit")


class JournalError(ValueError):
    """A filter that cannot be used: the parameter and why."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


class JournalMiddleware:
    """Wraps the served app: journals every exchange, and answers ``/_relaykit/requests``."""

    def __init__(
        self,
        app: ASGIApp,
        store: StateStore,
        keep: int,
        resolver: Resolver,
        envelope: Envelope,
        shared: bool = False,
    ) -> None:
        self.app = app
        self.keep = keep
        self.resolver = resolver
        self.envelope = envelope
        self.log: JournalLog = (
            StoreLog(store, LOG_NAME, keep, self._entry) if shared else MemoryLog(keep, self._entry)
        )
        """The store's log when other processes answer too (``shared``), else this process's
        memory (mockserver/journal_log.py)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._flushing_at_shutdown(send))
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path == JOURNAL_PATH:
            await self._answer(scope, receive, send)
            return
        if path.startswith("/_relaykit/") and not path.startswith(FILES_PREFIX):
            await self.app(scope, receive, send)
            return
        exchange = _Exchange(self.log, self.resolver, scope, receive, send)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        finally:
            if not exchange.written:
                exchange.write(complete=False)

    def entries(self, **filters: Any) -> list[dict[str, Any]]:
        """The journal's entries that pass the filters (``select``), oldest first."""
        return select(self.log.entries(), **filters)

    def clear(self) -> None:
        """Empty the journal."""
        self.log.clear()

    def _entry(self, record: _Record) -> dict[str, Any]:
        """The entry readers see of one exchange: keys masked, the body summarised."""
        raw_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in record.headers]
        query = (
            parse_qsl(record.query.decode("latin-1"), keep_blank_values=True)
            if record.query
            else []
        )
        secrets = s = [found for found in presented_secrets(raw_headers, query) if found]
        noted = record.notes.noted(secrets)
        return {
            "time": datetime.fromtimestamp(record.arrived, UTC).isoformat(timespec="microseconds"),
            "method": record.method,
            "path": record.path,
            "query": grouped(
                [(k, REDACTED if k.lower() in SECRET_QUERY else _mask(v, s)) for k, v in query]
            ),
            "operation": self._operation(record.resolution, noted.kind, noted.data),
            "headers": _headers(raw_headers, secrets),
            "body": noted.data,
            "body_kind": noted.kind,
            "body_bytes": noted.size,
            "body_truncated": noted.truncated,
            "status": record.status,
            "complete": record.complete,
            "duration_ms": round((record.ended - record.arrived) * 1000, 1),
        }

    def _operation(self, resolution: Resolution, kind: str, body: Any) -> str | None:
        if resolution.operation is None and resolution.candidates:
            if kind not in ("json", "form"):
                return None
            Resolver.choose(resolution, body)
        return resolution.operation.id if resolution.operation else None

    def _flushing_at_shutdown(self, send: Send) -> Send:
        async def flushing(message: Message) -> None:
            if message["type"].startswith("lifespan.shutdown."):
                self.log.flush()
            await send(message)

        return flushing

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response: Response
        if request.method == "GET":
            try:
                filters = filters_of(request.query_params)
                entries = select(await self.log.settled(), **filters)
            except JournalError as exc:
                response = error_response(self.envelope, 400, str(exc), param=exc.param)
            else:
                response = _json({"object": "list", "data": entries})
        elif request.method == "DELETE":
            await self.log.settled_clear()
            response = _json({"object": "list", "data": [], "cleared": True})
        else:
            response = error_response(
                self.envelope,
                405,
                f"Method not allowed ({request.method} {JOURNAL_PATH}).",
                headers={"Allow": "GET, DELETE"},
            )
        await response(scope, receive, send)


@dataclass(slots=True)
class _Record:
    """What one exchange left for its journal entry (built when needed: journal_log.py)."""

    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    resolution: Resolution
    notes: BodyNotes
    status: int | None
    complete: bool
    arrived: float
    ended: float


class _Exchange:
    """One request on its way through: notes the body as the app reads it and the status as it
    is sent, and leaves its record before the response's last message leaves."""

    def __init__(
        self, log: JournalLog, resolver: Resolver, scope: Scope, receive: Receive, send: Send
    ) -> None:
        self.log = log
        self.resolver = resolver
        self.scope = scope
        self._receive = receive
        self._send = send
        self.arrived = time.time()
        content_type = None
        announced = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                announced = announced or (value.isdigit() and int(value) > 0)
            elif name == b"transfer-encoding":
                announced = True
        self.notes = BodyNotes(content_type, announced)
        self.status: int | None = None
        self.written = False
        # the fault injector resets a connection through the server's transport, which it finds
        # on ``send.__self__`` (mockserver/faults.py): this object hands it on
        self.transport = getattr(getattr(send, "__self__", None), "transport", None)

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.notes.feed(message.get("body", b""))
        return message

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
        elif (
            message["type"] == "http.response.body"
            and not message.get("more_body", False)
            and not self.written
        ):
            self.write(complete=True)
        await self._send(message)

    def write(self, complete: bool) -> None:
        self.written = True
        scope = self.scope
        resolution = scope.get("state", {}).get(STATE_KEY)
        if resolution is None:  # nothing resolved it (replay answered): resolve it now
            resolution = self.resolver.of(scope)
        self.log.add(
            _Record(
                scope["method"],
                scope["path"],
                scope.get("query_string", b""),
                scope["headers"],
                resolution,
                self.notes,
                self.status,
                complete,
                self.arrived,
                time.time(),
            )
        )


def filters_of(params: Mapping[str, str]) -> dict[str, Any]:
    """The journal's filters from query parameters (unknown parameters are refused)."""
    unknown = sorted(set(params) - set(FILTERS))
    if unknown:
        known = ", ".join(FILTERS)
        raise JournalError(unknown[0], f"Unknown filter {unknown[0]!r}; known: {known}.")
    found: dict[str, Any] = {k: params[k] for k in ("operation", "path", "method") if k in params}
    if "since" in params:
        found["since"] = params["since"]
    if "limit" in params:
        value = params["limit"]
        if not value.isdigit():
            raise JournalError("limit", f"limit must be a whole number >= 0, not {value!r}.")
        found["limit"] = int(value)
    return found


def select(
    entries: list[LogEntry],
    *,
    operation: str | None = None,
    path: str | None = None,
    method: str | None = None,
    since: str | float | datetime | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The entries (oldest first) whose operation id and path match the globs
    (``openai.chat.*``), of that method, that arrived at or after ``since`` (ISO 8601, epoch
    seconds, or a datetime), the last ``limit`` of them; each with its ``seq``."""
    after = _since(since)
    found = []
    for entry in entries:
        item = entry.value
        op = item.get("operation") or ""
        if operation is not None and not fnmatch.fnmatchcase(op, operation):
            continue
        if path is not None and not fnmatch.fnmatchcase(item.get("path", ""), path):
            continue
        if method is not None and item.get("method") != method.upper():
            continue
        if after is not None and datetime.fromisoformat(item["time"]) < after:
            continue
        found.append({"seq": entry.seq, **item})
    if limit is not None:
        found = found[-limit:] if limit else []
    return found


def _since(value: str | float | datetime | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value.astimezone(UTC) if value is not None else None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (ValueError, OverflowError, OSError):
        pass
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise JournalError(
            "since", f"since must be ISO 8601 or epoch seconds, not {value!r}."
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _headers(pairs: list[tuple[str, str]], secrets: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in pairs[:MAX_HEADERS]:
        kept = REDACTED if name in SECRET_HEADERS else _mask(value, secrets)[:HEADER_CAP]
        found[name] = f"{found[name]}, {kept}" if name in found else kept
    return found


def _mask(value: str, secrets: list[str]) -> str:
    for secret in secrets:
        value = value.replace(secret, REDACTED)
    return value


def _json(payload: Any) -> Response:
    return Response(orjson.dumps(payload), media_type="application/json")
