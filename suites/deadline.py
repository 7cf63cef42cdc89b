"""A wall-clock deadline on every socket operation of a request.

httpx's timeouts bound each read on its own: a server that drips a byte a second, its headers
included, never trips them. The transport names the deadline of the request it is sending
(``within``) and the network backend installed here clamps every connect, read and write of
that thread to the time left, so a request ends at its deadline whatever the server drips,
even before its headers are complete.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpcore
import httpx

_local = threading.local()


@dataclass(frozen=True, slots=True)
class Deadline:
    """When a request must have ended (time.monotonic seconds) and the limit that says so."""

    at: float
    name: str
    """The limit in words, for messages: ``timeout (10 s)``."""

    def passed(self, slack: float = 0.01) -> bool:
        """True once the deadline has come (``slack`` seconds early counts: a socket
        timeout set to the time left fires a hair before it)."""
        return time.monotonic() >= self.at - slack


@contextmanager
def within(deadline: Deadline) -> Iterator[Deadline]:
    """Every socket operation of this thread, in the block, ends by ``deadline``; a nested
    block keeps the earlier of the two."""
    previous: Deadline | None = getattr(_local, "deadline", None)
    current = deadline if previous is None or deadline.at < previous.at else previous
    _local.deadline = current
    try:
        yield current
    finally:
        _local.deadline = previous


def current() -> Deadline | None:
    """The deadline of this thread's request, if one is being sent."""
    found: Deadline | None = getattr(_local, "deadline", None)
    return found


def _clamp(timeout: float | None, late: type[Exception]) -> float | None:
    deadline = current()
    if deadline is None:
        return timeout
    left = deadline.at - time.monotonic()
    if left <= 0:
        raise late("the request's deadline passed")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose reads and writes end by the deadline of the request using it."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self.stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        clamped = _clamp(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self.stream.start_tls(ssl_context, server_hostname, clamped))

    def get_extra_info(self, info: str) -> Any:
        return self.stream.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """Opens connections whose every operation ends by the current request's deadline."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self.backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        clamped = _clamp(timeout, httpcore.ConnectTimeout)
        stream = self.backend.connect_tcp(host, port, clamped, local_address, socket_options)
        return DeadlineStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        clamped = _clamp(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self.backend.connect_unix_socket(path, clamped, socket_options))

    def sleep(self, seconds: float) -> None:
        self.backend.sleep(seconds)


def install(transport: httpx.HTTPTransport) -> bool:
    """Put the deadline backend under an httpx transport's connection pool; False when this
    httpx keeps its pool elsewhere (then only each read is bounded, by httpx's own timeout,
    and the body loop's deadline check)."""
    pool = getattr(transport, "_pool", None)  # httpx offers no public hook for the backend
    backend = getattr(pool, "_network_backend", None)
    if not isinstance(backend, httpcore.NetworkBackend):
        return False
    pool._network_backend = DeadlineBackend(backend)  # type: ignore[union-attr]
    return True
