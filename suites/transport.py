"""Talk to the relay with manners: a rate limit, bounded retries on 429/503, a timeout, a budget.

Every request a run sends goes through ``Transport``: it maps contract paths to the relay's,
presents the key the way the operation expects, charges the budget before sending (a request
over a cap is never sent: ``BudgetExceeded``), and returns an ``Exchange`` whose request side is
already redacted. Transport failures come back as an exchange with ``error`` set, never raised.
"""

from __future__ import annotations

import json
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
from suites.profile import Budget, Limits
from suites.redact import Redactor

EXCERPT = 2000
"""Characters of a body kept in a finding."""
RETRY_STATUSES = frozenset({429, 503})
MAX_RETRY_WAIT = 30.0
"""A Retry-After longer than this is not waited for: the 429 stands."""
WRONG_KEY = "sk-relaykit-wrong-key-0000000000000000"
KEY_HEADERS = ("x-api-key", "mj-api-secret", "access-token")
"""Schemes that present the key in a header of their own name."""


class BudgetExceeded(Exception):
    """Sending would go over a cap; the message says which."""


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
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.content)
        except ValueError:
            return None

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
    if not key or not schemes or schemes[0] == "none":
        return {}
    scheme = schemes[0]
    if scheme in KEY_HEADERS:
        headers = {scheme: key}
        if scheme == "x-api-key":
            headers["anthropic-version"] = "2023-06-01"
        return headers
    return {"authorization": f"Bearer {key}"}


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
        self.path_map = path_map or PrefixMap()
        self.redactor = redactor or Redactor([key])
        self.rate = RateLimiter(limits.rps)
        timeout = httpx.Timeout(limits.timeout, read=min(limits.timeout, limits.stream_stall))
        # TCP_NODELAY: httpx writes headers and body apart, and Nagle would hold the body back
        # for a delayed ACK (~40 ms a request on loopback), skewing every latency we record
        nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        self.client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            transport=httpx.HTTPTransport(socket_options=nodelay),
        )
        self.observer: Callable[[Exchange], None] | None = None
        """Told of every answered exchange (the runner collects latency and fields)."""

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

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
        key: str | None = "",
        **kwargs: Any,
    ) -> httpx.Request:
        """An httpx request; ``key=""`` presents the run's key, None presents none."""
        headers = dict(kwargs.pop("headers", None) or {})
        headers.update(auth_headers(schemes, self.key if key == "" else key))
        request = self.client.build_request(method, self.url(path), headers=headers, **kwargs)
        request.read()  # multipart bodies are generated lazily: read once, resend on retry
        return request

    def send(
        self, request: httpx.Request, *, tokens: int = 0, paid_calls: int = 0, body_note: str = ""
    ) -> Exchange:
        """Send with rate limit and retries; BudgetExceeded when the budget forbids it."""
        described = self.describe(request, body_note)
        retries = 0
        while True:
            self.spend.charge(1, tokens if not retries else 0, paid_calls if not retries else 0)
            self.rate.wait()
            started = time.monotonic()
            try:
                response = self.client.send(request)
            except httpx.TransportError as exc:
                return Exchange(
                    described,
                    elapsed=time.monotonic() - started,
                    error=f"{type(exc).__name__}: {exc}",
                    retries=retries,
                )
            exchange = Exchange(
                described,
                status=response.status_code,
                headers=dict(response.headers),
                content=response.content,
                elapsed=time.monotonic() - started,
                retries=retries,
            )
            wait = self._retry_wait(exchange, retries)
            if wait is None:
                if self.observer is not None:
                    self.observer(exchange)
                return exchange
            retries += 1
            time.sleep(wait)

    def _retry_wait(self, exchange: Exchange, retries: int) -> float | None:
        if exchange.status not in RETRY_STATUSES or retries >= self.limits.retries:
            return None
        wait = retry_after(exchange.headers.get("retry-after"))
        if wait is None:
            return min(MAX_RETRY_WAIT, 0.5 * 2.0**retries)
        return wait if wait <= MAX_RETRY_WAIT else None

    @contextmanager
    def stream(
        self, request: httpx.Request, *, tokens: int = 0, paid_calls: int = 0
    ) -> Iterator[tuple[Exchange, httpx.Response | None, float]]:
        """Open a streamed response: (exchange without body, the open response, sent-at).

        Retries apply only before the stream starts; the response is None on a transport
        error (then the exchange says why).
        """
        described = self.describe(request)
        self.spend.charge(1, tokens, paid_calls)
        self.rate.wait()
        sent_at = time.monotonic()
        try:
            response = self.client.send(request, stream=True)
        except httpx.TransportError as exc:
            yield Exchange(described, error=f"{type(exc).__name__}: {exc}"), None, sent_at
            return
        try:
            exchange = Exchange(described, status=response.status_code, headers=response.headers)
            yield exchange, response, sent_at
            if self.observer is not None:
                self.observer(exchange)
        finally:
            response.close()


_NOISE = frozenset({"accept-encoding", "connection", "user-agent", "content-length", "host"})
