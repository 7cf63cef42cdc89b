"""Talk to the relay with manners and within limits: a rate limit, bounded retries on 429/503,
a deadline per request, caps on what is read, a budget, a run deadline.

Every request a run sends goes through ``Transport``: it maps contract paths to the relay's,
presents the key the way the operation expects, charges the budget before sending (a request
over a cap is never sent: ``BudgetExceeded``; once the run is stopped, ``RunStopped``), and
returns an ``Exchange`` whose request side is already redacted. Each request ends by its
deadline (``limits.timeout``: connect, headers and the whole body, whatever the server drips;
suites/deadline.py) and reads at most ``limits.max_body_bytes`` of body, decoded
(suites/bounded.py). Transport failures, and answers cut at a deadline or a cap, come back as
an exchange with ``error`` set and no status, never raised; redirects are never followed.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from contracts.paths import PrefixMap
from contracts.wire.auth import present, present_query
from contracts.wire.mediatype import media_type
from suites import bounded
from suites.deadline import Deadline, current, install, within
from suites.guard import RunGuard
from suites.profile import Budget, Limits
from suites.redact import Redactor

EXCERPT = 2000
"""Characters of a body kept in a finding."""
RETRY_STATUSES = frozenset({429, 503})
MAX_RETRY_WAIT = 30.0
"""A Retry-After longer than this is not waited for: the 429 stands."""
WRONG_KEY = "sk-relaykit-wrong-key-0000000000000000"


class RunKey:
    """The type of ``RUN_KEY``: "present the run's own key" (httpx's ``USE_CLIENT_DEFAULT``
    idea), apart from None (present no key) and a string (present that key, e.g. a wrong one)."""

    def __repr__(self) -> str:
        return "RUN_KEY"


RUN_KEY = RunKey()
KeyChoice = str | None | RunKey
ANTHROPIC_VERSION = {"anthropic-version": "2023-06-01"}
"""Sent beside an ``x-api-key`` key: Anthropic's API refuses a request without a version."""
MAX_HEADERS = 256
"""Header lines of an answer read at most (h11 already refuses a header block over 100 KiB)."""
ACCEPT_ENCODING = "gzip, deflate"
"""The codings asked for: exactly those suites/bounded.py inflates within the body cap."""


class BudgetExceeded(Exception):
    """Sending would go over a cap; the message says which."""


class RunStopped(BudgetExceeded):
    """Nothing more is sent in this run: its deadline passed or the relay is not answering."""


@dataclass(slots=True)
class Spend:
    """What a run has spent so far, against its budget; thread-safe."""

    budget: Budget
    requests: int = 0
    tokens: int = 0
    paid_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def charge(self, requests: int = 1, tokens: int = 0, paid_calls: int = 0) -> None:
        """Count a request about to be sent, or raise BudgetExceeded and count nothing."""
        with self._lock:
            if self.requests + requests > self.budget.requests:
                raise BudgetExceeded(f"budget: requests ({self.budget.requests} allowed)")
            if self.tokens + tokens > self.budget.tokens:
                raise BudgetExceeded(f"budget: tokens ({self.budget.tokens} allowed)")
            if self.paid_calls + paid_calls > self.budget.paid_media_calls:
                raise BudgetExceeded(
                    f"budget: paid media calls ({self.budget.paid_media_calls} allowed)"
                )
            self.requests += requests
            self.tokens += tokens
            self.paid_calls += paid_calls

    def settle_tokens(self, estimated: int, actual: int) -> None:
        """Replace a token estimate by what the relay reported it used."""
        with self._lock:
            self.tokens += actual - estimated

    def to_json(self) -> dict[str, int]:
        """The spend as the run record stores it."""
        return {"requests": self.requests, "tokens": self.tokens, "paid_calls": self.paid_calls}


class RateLimiter:
    """At most ``rps`` sends per second across threads (0 or less: no limit)."""

    def __init__(self, rps: float) -> None:
        self.interval = 1.0 / rps if rps > 0 else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next send is allowed."""
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


@dataclass(slots=True)
class Exchange:
    """One request and what came back (or the transport error that came instead)."""

    request: dict[str, Any]
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""
    elapsed: float = 0.0
    error: str = ""
    retries: int = 0

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased."""
        return media_type(self.headers.get("content-type"))

    def json(self) -> Any:
        """The body parsed as JSON (bounded: suites/bounded.py), or None when it is not JSON,
        is out of bounds, or was not read whole."""
        if self.error:
            return None
        return bounded.json_or_none(self.content)

    def response_view(self, redactor: Redactor) -> dict[str, Any]:
        """Status, the headers a reader needs and a bounded, redacted excerpt of the body."""
        keep = ("content-type", "retry-after", "content-length", "x-request-id")
        headers = {k: v for k, v in self.headers.items() if k.lower() in keep}
        text = self.content[:EXCERPT].decode("utf-8", errors="replace")
        if len(self.content) > EXCERPT:
            text += f"... ({len(self.content)} bytes)"
        view: dict[str, Any] = {"status": self.status, "headers": redactor.headers(headers)}
        view["excerpt"] = redactor.text(text)
        if self.error:
            view["error"] = redactor.text(self.error)
        return view


def auth_headers(schemes: tuple[str, ...], key: str | None) -> dict[str, str]:
    """Headers presenting ``key`` under the operation's first scheme (none for no key)."""
    if not key or not schemes:
        return {}
    headers = present(schemes[0], key)
    if schemes[0] == "x-api-key":
        headers.update(ANTHROPIC_VERSION)
    return headers


def auth_query(schemes: tuple[str, ...], key: str | None) -> dict[str, str]:
    """Query parameters presenting ``key`` under the operation's first scheme (Gemini's
    ``?key=``); none for a header scheme or no key."""
    return present_query(schemes[0], key) if key and schemes else {}


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), None if absent."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class Transport:
    """The one way a run sends requests; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        key: str | None,
        limits: Limits,
        budget: Budget,
        path_map: PrefixMap | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.limits = limits
        self.spend = Spend(budget)
        self.guard = RunGuard(limits.run_seconds)
        self.path_map = path_map or PrefixMap()
        self.redactor = redactor or Redactor([key])
        self.rate = RateLimiter(limits.rps)
        # no single read waits longer than a stream may stall; the request's deadline bounds
        # the sum of them (suites/deadline.py clamps every socket operation to it)
        timeout = httpx.Timeout(limits.timeout, read=min(limits.timeout, limits.stream_stall))
        # TCP_NODELAY: httpx writes headers and body apart, and Nagle would hold the body back
        # for a delayed ACK (~40 ms a request on loopback), skewing every latency we record
        nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        transport = httpx.HTTPTransport(socket_options=nodelay)
        install(transport)
        self.client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=transport,
            follow_redirects=False,
            headers={"accept-encoding": ACCEPT_ENCODING},
        )
        self.observer: Callable[[Exchange], None] | None = None
        """Told of every answered exchange (the runner collects latency and fields)."""

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def stopped(self) -> str:
        """Why the run sends nothing more ('' while it may send)."""
        return self.guard.stopped()

    def url(self, path: str) -> str:
        """The relay URL for a contract path (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return self.base_url + self.path_map.to_relay(path)

    def describe(self, request: httpx.Request, body_note: str = "") -> dict[str, Any]:
        """The redacted request as a finding stores it."""
        body = body_note
        if not body and request.content:
            body = request.content[:EXCERPT].decode("utf-8", errors="replace")
        return {
            "method": request.method,
            "url": self.redactor.url(str(request.url)),
            "headers": self.redactor.headers(
                {k: v for k, v in request.headers.items() if k.lower() not in _NOISE}
            ),
            "body": self.redactor.text(body),
        }

    def build(
        self,
        method: str,
        path: str,
        *,
        schemes: tuple[str, ...] = ("bearer",),
        key: KeyChoice = RUN_KEY,
        **kwargs: Any,
    ) -> httpx.Request:
        """An httpx request presenting ``key`` (``RUN_KEY``: the run's; None: none)."""
        headers = dict(kwargs.pop("headers", None) or {})
        chosen = self.key if isinstance(key, RunKey) else key
        headers.update(auth_headers(schemes, chosen))
        in_query = auth_query(schemes, chosen)
        if in_query:
            kwargs["params"] = {**dict(kwargs.pop("params", None) or {}), **in_query}
        request = self.client.build_request(method, self.url(path), headers=headers, **kwargs)
        request.read()  # multipart bodies are generated lazily: read once, resend on retry
        return request

    def _charge(self, requests: int, tokens: int, paid_calls: int) -> None:
        reason = self.guard.stopped()
        if reason:
            raise RunStopped(f"not sent: {reason}")
        self.spend.charge(requests, tokens, paid_calls)

    def send(
        self, request: httpx.Request, *, tokens: int = 0, paid_calls: int = 0, body_note: str = ""
    ) -> Exchange:
        """Send with rate limit and retries, read the answer within its deadline and caps;
        BudgetExceeded (RunStopped) when the budget (the run) forbids sending."""
        described = self.describe(request, body_note)
        retries = 0
        while True:
            self._charge(1, tokens if not retries else 0, paid_calls if not retries else 0)
            self.rate.wait()
            exchange = self._attempt(request, described)
            exchange.retries = retries
            wait = self._retry_wait(exchange, retries)
            if wait is None or wait > self.guard.time_left():
                if self.observer is not None and exchange.status is not None:
                    self.observer(exchange)
                return exchange
            retries += 1
            time.sleep(wait)

    def _attempt(self, request: httpx.Request, described: dict[str, Any]) -> Exchange:
        """One try, ended by its deadline (connect, headers and body) and its caps."""
        started = time.monotonic()
        limit = Deadline(started + self.limits.timeout, f"timeout ({self.limits.timeout:g} s)")
        response: httpx.Response | None = None
        reader: bounded.BodyReader | None = None
        pieces: list[bytes] = []
        failure: Failure | None = None
        try:
            with within(limit) as deadline:
                response = self.client.send(request, stream=True)
                try:
                    failure = _too_many_headers(response)
                    if failure is None:
                        reader = self.reader(response, deadline)
                        pieces.extend(reader)
                        failure = _cut(reader)
                finally:
                    response.close()
        except httpx.HTTPError as exc:
            failure = self._explain(exc, limit, reader)
        exchange = Exchange(described, content=b"".join(pieces))
        exchange.elapsed = time.monotonic() - started
        if response is not None:
            # items(), not dict(headers): looking each name up again is quadratic in the count
            exchange.status, exchange.headers = response.status_code, dict(response.headers.items())
        self.guard.note(failure[0] if failure else "")
        if failure is not None:
            _fail(exchange, failure[1])
        return exchange

    def reader(
        self, response: httpx.Response, deadline: Deadline | None = None
    ) -> bounded.BodyReader:
        """A reader of ``response``'s body within max_body_bytes and the deadline (by default
        that of the request being sent in this thread)."""
        return bounded.BodyReader(response, self.limits.max_body_bytes, deadline or current())

    def _explain(
        self, exc: httpx.HTTPError, deadline: Deadline | None, reader: bounded.BodyReader | None
    ) -> Failure:
        """A transport error as (kind, message): the deadline, a stall, or what httpx said."""
        got = reader.arrived() if reader is not None else "before the headers came"
        if isinstance(exc, httpx.TimeoutException):
            if deadline is not None and deadline.passed():
                return TIMED_OUT, f"{deadline.name} passed {got}"
            read = min(self.limits.timeout, self.limits.stream_stall)
            return TIMED_OUT, f"{type(exc).__name__}: no byte for {read:g} s {got}"
        said = str(exc) or "(no detail)"
        if "buffer too long" in said.lower():  # h11's cap on a header block
            said += " (a header block over 100 KiB)"
        kind = "could not connect" if isinstance(exc, httpx.ConnectError) else "broke off"
        return kind, f"{type(exc).__name__}: {said}" + (f" {got}" if reader else "")

    def _retry_wait(self, exchange: Exchange, retries: int) -> float | None:
        if exchange.status not in RETRY_STATUSES or retries >= self.limits.retries:
            return None
        wait = retry_after(exchange.headers.get("retry-after"))
        if wait is None:
            return min(MAX_RETRY_WAIT, 0.5 * 2.0**retries)
        return wait if wait <= MAX_RETRY_WAIT else None

    @contextmanager
    def stream(
        self,
        request: httpx.Request,
        *,
        tokens: int = 0,
        paid_calls: int = 0,
        seconds: float | None = None,
        name: str = "",
    ) -> Iterator[tuple[Exchange, httpx.Response | None, float]]:
        """Open a streamed response: (exchange without body, the open response, sent-at).

        Everything in the block (connect, headers, the body however it is read) ends
        ``seconds`` after sending (default ``limits.timeout``; ``name`` is that limit in
        words). Retries apply only before the stream starts; the response is None when no
        usable answer came (then the exchange says why).
        """
        described = self.describe(request)
        self._charge(1, tokens, paid_calls)
        self.rate.wait()
        sent_at = time.monotonic()
        if seconds is None:
            seconds, name = self.limits.timeout, f"timeout ({self.limits.timeout:g} s)"
        with within(Deadline(sent_at + seconds, name or f"{seconds:g} s")) as deadline:
            try:
                response = self.client.send(request, stream=True)
            except httpx.HTTPError as exc:
                kind, message = self._explain(exc, deadline, None)
                self.guard.note(kind)
                exchange = Exchange(described, elapsed=time.monotonic() - sent_at)
                _fail(exchange, message)
                yield exchange, None, sent_at
                return
            try:
                exchange = Exchange(described, status=response.status_code)
                exchange.headers = response.headers
                excess = _too_many_headers(response)
                self.guard.note(excess[0] if excess else "")
                if excess is not None:
                    _fail(exchange, excess[1])
                    yield exchange, None, sent_at
                    return
                yield exchange, response, sent_at
                if self.observer is not None and exchange.status is not None:
                    self.observer(exchange)
            finally:
                response.close()

    def finish(self, exchange: Exchange, response: httpx.Response, sent_at: float) -> None:
        """Read the rest of a streamed answer that is no stream into ``exchange`` (in the
        ``stream`` block), within max_body_bytes and the block's deadline."""
        reader = self.reader(response)
        pieces: list[bytes] = []
        failure: Failure | None = None
        try:
            pieces.extend(reader)
            failure = _cut(reader)
        except httpx.HTTPError as exc:
            failure = self._explain(exc, current(), reader)
        exchange.content = b"".join(pieces)
        exchange.elapsed = time.monotonic() - sent_at
        if failure is not None:
            _fail(exchange, failure[1])


Failure = tuple[str, str]
"""(kind, message): the kind in the few words the run guard counts, the message for people."""
TIMED_OUT = "timed out"


def _too_many_headers(response: httpx.Response) -> Failure | None:
    count = len(response.headers.raw)
    if count <= MAX_HEADERS:
        return None
    return "sent too many headers", f"{count:,} header lines, over the {MAX_HEADERS} read"


def _cut(reader: bounded.BodyReader) -> Failure | None:
    if not reader.cut:
        return None
    return (TIMED_OUT if reader.cut_by == "deadline" else "went over a cap"), reader.cut


def _fail(exchange: Exchange, message: str) -> None:
    """Mark an exchange as not answered whole: no status (so nothing judges a cut body), the
    reason (with the status that came, if one did), a bounded excerpt of what arrived."""
    if exchange.status is not None:
        message = f"HTTP {exchange.status}, then {message}"
    exchange.status, exchange.error = None, message
    exchange.content = exchange.content[:EXCERPT]
    if len(exchange.headers) > MAX_HEADERS:
        exchange.headers = dict(list(exchange.headers.items())[:MAX_HEADERS])


_NOISE = frozenset({"accept-encoding", "connection", "user-agent", "content-length", "host"})
