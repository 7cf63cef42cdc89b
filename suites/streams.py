"""Read a server-sent event stream as it arrives, within limits, recording when each event came.

A stalled stream ends at the read timeout, an endless one at the event, byte or time cap: every
stream ends as a record, never a hang. Parsing is httpx-sse's (the WHATWG algorithm).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from httpx_sse import EventSource, SSEError

from suites.findings import Outcome


@dataclass(frozen=True, slots=True)
class StreamLimits:
    """Caps that end a stream early; ``stall`` must also be the client's read timeout."""

    seconds: float = 60.0
    stall: float = 15.0
    events: int = 10_000
    bytes: int = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Arrival:
    """One event and the seconds since the request was sent when it arrived."""

    at: float
    event: str
    data: str


@dataclass(slots=True)
class StreamRecord:
    """What arrived and why reading stopped."""

    arrivals: list[Arrival] = field(default_factory=list)
    ended: str = "eof"
    """eof | events | bytes | seconds | stall | transport | not-sse"""
    detail: str = ""
    total_bytes: int = 0
    headers_at: float = 0.0

    @property
    def complete(self) -> bool:
        """True when the server closed the stream itself (not cut by a cap or a fault)."""
        return self.ended == "eof"

    @property
    def ttfe(self) -> float | None:
        """Seconds to the first event, or None when none came."""
        return self.arrivals[0].at if self.arrivals else None

    @property
    def gaps(self) -> list[float]:
        """Seconds between consecutive events."""
        times = [a.at for a in self.arrivals]
        return [b - a for a, b in itertools.pairwise(times)]

    def streamed(self, burst_window: float = 0.005) -> bool | None:
        """True when events were spread out in time; False for one burst; None if too few."""
        if len(self.arrivals) < 3:
            return None
        return self.arrivals[-1].at - self.arrivals[0].at > burst_window


def read_sse(
    response: httpx.Response,
    limits: StreamLimits,
    sent_at: float,
    clock: Callable[[], float] = time.monotonic,
) -> StreamRecord:
    """Consume ``response`` (opened with ``stream=True``) into a StreamRecord."""
    record = StreamRecord(headers_at=clock() - sent_at)
    try:
        for sse in EventSource(response).iter_sse():
            now = clock() - sent_at
            record.arrivals.append(Arrival(now, sse.event, sse.data))
            record.total_bytes = response.num_bytes_downloaded
            if len(record.arrivals) >= limits.events:
                record.ended, record.detail = "events", f"stopped after {limits.events} events"
                break
            if record.total_bytes >= limits.bytes:
                record.ended, record.detail = "bytes", f"stopped after {record.total_bytes} bytes"
                break
            if now >= limits.seconds:
                record.ended, record.detail = "seconds", f"stopped after {limits.seconds:g} s"
                break
    except SSEError as exc:
        record.ended, record.detail = "not-sse", str(exc)
    except httpx.ReadTimeout:
        record.ended = "stall"
        record.detail = f"no byte for {limits.stall:g} s after {len(record.arrivals)} events"
    except httpx.TransportError as exc:
        record.ended, record.detail = "transport", f"{type(exc).__name__}: {exc}"
    record.total_bytes = response.num_bytes_downloaded
    return record


def json_objects(record: StreamRecord) -> list[dict[str, Any]]:
    """The data of each event that is a JSON object, in order ([DONE] and the rest skipped)."""
    out = []
    for a in record.arrivals:
        try:
            value = json.loads(a.data)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def streamed_verdict(record: StreamRecord) -> tuple[Outcome, str]:
    """``sse.streamed``: were the events spread out in time, or delivered in one burst?"""
    verdict = record.streamed()
    if verdict is None:
        return Outcome.INCONCLUSIVE, f"{len(record.arrivals)} events are too few to tell"
    span_ms = (record.arrivals[-1].at - record.arrivals[0].at) * 1000
    count = len(record.arrivals)
    if not verdict:
        return Outcome.FAIL, f"all {count} events arrived within {span_ms:.1f} ms (one burst)"
    return (
        Outcome.PASS,
        f"{count} events spread over {span_ms:.0f} ms, first at {record.ttfe:.3f} s",
    )
