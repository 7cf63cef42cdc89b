"""The request journal: the last N exchanges the mock answered, for a test to ask what its
client sent (``GET /_relaykit/requests``; ``DELETE`` empties it).

A pure ASGI middleware, outermost (so injected faults are journaled with the status the client
saw): it notes the request body as the app reads it (mockserver/journal_body.py, bounded), the
status as it is sent, and appends one entry to the ``journal`` log of the state store
(mockserver/state/) just before the response's last bytes leave, so a client that has its
answer finds its request in the journal, whichever worker it asks. Keys never reach the store:
the headers and query parameters ``contracts.wire.auth`` calls secret are masked, and so is
every secret value wherever else it appears (other headers, the body). With ``--journal 0``
the middleware is not installed at all.

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
from mockserver.resolution import STATE_KEY, Resolution, Resolver
from mockserver.state import StateStore

JOURNAL_PATH = "/_relaykit/requests"
LOG_NAME = "journal"
DEFAULT_KEEP = 1000
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
    ) -> None:
        self.app = app
        self.store = store
        self.keep = keep
        self.resolver = resolver
        self.envelope = envelope

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
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
        scope.setdefault("state", {})
        exchange = _Exchange(self, scope, receive, send)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        finally:
            if not exchange.written:
                exchange.write(complete=False)

    def note(
        self, scope: Scope, notes: BodyNotes, status: int | None, arrived: float, complete: bool
    ) -> None:
        """Append the journal entry of one exchange."""
        raw_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        secrets = s = [found for found in presented_secrets(raw_headers, query) if found]
        noted = notes.noted(secrets)
        entry = {
            "time": datetime.fromtimestamp(arrived, UTC).isoformat(timespec="microseconds"),
            "method": scope["method"],
            "path": scope["path"],
            "query": grouped(
                [(k, REDACTED if k.lower() in SECRET_QUERY else _mask(v, s)) for k, v in query]
            ),
            "operation": self._operation(scope, noted.kind, noted.data),
            "headers": _headers(raw_headers, secrets),
            "body": noted.data,
            "body_kind": noted.kind,
            "body_bytes": noted.size,
            "body_truncated": noted.truncated,
            "status": status,
            "complete": complete,
            "duration_ms": round((time.time() - arrived) * 1000, 1),
        }
        self.store.append(LOG_NAME, entry, self.keep)

    def _operation(self, scope: Scope, kind: str, body: Any) -> str | None:
        resolution: Resolution | None = scope.get("state", {}).get(STATE_KEY)
        if resolution is None:  # nothing resolved it (replay answered): resolve it now
            resolution = self.resolver.of(scope)
        if resolution.operation is None and resolution.candidates:
            if kind not in ("json", "form"):
                return None
            Resolver.choose(resolution, body)
        return resolution.operation.id if resolution.operation else None

    async def _answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response: Response
        if request.method == "GET":
            try:
                entries = read(self.store, self.keep, **filters_of(request.query_params))
            except JournalError as exc:
                response = error_response(self.envelope, 400, str(exc), param=exc.param)
            else:
                response = _json({"object": "list", "data": entries})
        elif request.method == "DELETE":
            self.store.clear(LOG_NAME)
            response = _json({"object": "list", "data": [], "cleared": True})
        else:
            response = error_response(
                self.envelope,
                405,
                f"Method not allowed ({request.method} {JOURNAL_PATH}).",
                headers={"Allow": "GET, DELETE"},
            )
        await response(scope, receive, send)


class _Exchange:
    """One request on its way through: notes the body as the app reads it and the status as it
    is sent, and writes the entry before the response's last message leaves."""

    def __init__(self, journal: JournalMiddleware, scope: Scope, receive: Receive, send: Send):
        self.journal = journal
        self.scope = scope
        self._receive = receive
        self._send = send
        self.arrived = time.time()
        headers = Request(scope).headers
        length = headers.get("content-length", "")
        announced = "transfer-encoding" in headers or (length.isdigit() and int(length) > 0)
        self.notes = BodyNotes(headers.get("content-type"), announced)
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
        self.journal.note(self.scope, self.notes, self.status, self.arrived, complete)


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


def read(
    store: StateStore,
    keep: int = DEFAULT_KEEP,
    *,
    operation: str | None = None,
    path: str | None = None,
    method: str | None = None,
    since: str | float | datetime | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The journal's entries, oldest first: those whose operation id and path match the globs
    (``openai.chat.*``), of that method, that arrived at or after ``since`` (ISO 8601, epoch
    seconds, or a datetime), the last ``limit`` of them."""
    after = _since(since)
    found = []
    for entry in store.tail(LOG_NAME, keep):
        item = entry.value
        if not isinstance(item, dict):
            continue
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


def clear(store: StateStore) -> None:
    """Empty the journal."""
    store.clear(LOG_NAME)


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
