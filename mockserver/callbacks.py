"""Task callbacks: POST the polled task to the client's URL each time its state changes.

A submit that carries a callback URL (the task block's ``callback_field``: MJ notifyHook, Kling
callback_url, Suno/Luma notify_hook, Flux webhook_url) gets one background job (``ctx.after``)
that sleeps until each state change of the timeline, renders the task as a poll would at that
moment, and POSTs it as JSON. Each POST has a 2 s timeout and up to 3 retries with doubling
backoff; redirects are never followed; only http(s) URLs are called, never a reserved
documentation name (example.com, .test, .invalid...). The job ends after a terminal state,
and never raises.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

log = logging.getLogger("relaykit.mock.callbacks")

TIMEOUT = 2.0
RETRIES = 3
BACKOFF = 0.2
"""Seconds before the first retry; each further retry waits twice as long."""

Snapshot = tuple[Any, Any, bool]
"""What a callback sends at one moment: the body, a key that changes with the state, terminal."""


RESERVED_DOMAINS = ("example.com", "example.net", "example.org", "example", "invalid", "test")
"""Names reserved for documentation (RFC 2606, RFC 6761): the hooks in documented examples
(``https://client.example.com/mj/callback``) point there, and no client listens on them."""


def callback_url(value: Any) -> str | None:
    """The URL when ``value`` is an absolute http(s) URL with a host that may listen (not a
    name reserved for documentation), else None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        url = httpx.URL(value)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    if url.scheme not in ("http", "https") or not url.host:
        return None
    host = url.host.rstrip(".").lower()
    if any(host == d or host.endswith("." + d) for d in RESERVED_DOMAINS):
        return None
    return value


async def post(client: httpx.AsyncClient, url: str, body: Any) -> bool:
    """POST ``body`` as JSON; retry transport errors, 408, 429 and 5xx. True once a 2xx came."""
    for attempt in range(RETRIES + 1):
        if attempt:
            await asyncio.sleep(BACKOFF * 2 ** (attempt - 1))
        try:
            response = await client.post(url, json=body)
        except httpx.HTTPError as exc:
            log.info("callback to %s failed (attempt %d): %r", url, attempt + 1, exc)
            continue
        if response.is_success:
            return True
        if response.status_code not in (408, 429) and response.status_code < 500:
            log.info("callback to %s answered %d; not retried", url, response.status_code)
            return False
        log.info("callback to %s answered %d (attempt %d)", url, response.status_code, attempt + 1)
    return False


async def notify(url: str, times_ms: list[int], snapshot: Callable[[int], Snapshot | None]) -> None:
    """At each wall-clock time in ``times_ms``, POST the task's snapshot if its state changed."""
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as client:
            last: Any = object()
            for at_ms in times_ms:
                delay = at_ms / 1000 - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                taken = snapshot(at_ms)
                if taken is None:
                    return
                body, key, terminal = taken
                if key != last:
                    await post(client, url, body)
                    last = key
                if terminal:
                    return
    except asyncio.CancelledError:
        raise
    except Exception:  # a callback must never take the server down
        log.exception("callback job for %s failed", url)
