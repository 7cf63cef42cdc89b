"""Read a server-sent event stream as it arrives, within limits, recording when each event came.

A stalled stream ends at the read timeout, an endless one at the event, byte or time cap, a
drip-fed one (bytes that never complete an event) at the byte or time cap too: the caps are
checked at every chunk, not only at every event, and the bytes counted are the decoded ones
(a compressed stream is inflated within the cap, suites/bounded.py). Every stream ends as a
record, never a hang. Events are cut by the one SSE parser, ``contracts.wire.sse.SseParser``
(the WHATWG rules); an unnamed event is recorded as ``message``, its type as a browser sees it.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from contracts.wire.mediatype import is_event_stream
from contracts.wire.sse import SseEvent, SseParser
from suites import bounded
from suites.deadline import Deadline
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
    ends = Deadline(sent_at + limits.seconds, f"{limits.seconds:g} s")
    reader = bounded.BodyReader(response, limits.bytes, ends, cap_name="the stream byte cap")
    content_type = response.headers.get("content-type", "")
    if not is_event_stream(content_type):
        record.ended = "not-sse"
        shown = repr(content_type) if content_type else "no Content-Type"
        record.detail = f"expected a text/event-stream answer, got {shown}"
        return record
    parser = SseParser()
    try:
        stop = _read_events(reader, parser, record, limits, sent_at, clock)
        if not stop:
            _take(parser.feed(b"", final=True), record, limits, clock() - sent_at)
            if reader.cut_by == "cap":
                record.ended, record.detail = "bytes", f"stopped after {reader.decoded} bytes"
            elif reader.cut_by == "deadline":
                record.ended, record.detail = "seconds", f"stopped after {limits.seconds:g} s"
    except httpx.TimeoutException:
        if clock() - sent_at >= limits.seconds - 0.01:  # the read was ended by the deadline
            record.ended, record.detail = "seconds", f"stopped after {limits.seconds:g} s"
        else:
            record.ended = "stall"
            record.detail = f"no byte for {limits.stall:g} s after {len(record.arrivals)} events"
    except httpx.HTTPError as exc:
        record.ended, record.detail = "transport", f"{type(exc).__name__}: {exc}"
    record.total_bytes = reader.decoded
    return record


def _read_events(
    reader: bounded.BodyReader,
    parser: SseParser,
    record: StreamRecord,
    limits: StreamLimits,
    sent_at: float,
    clock: Callable[[], float],
) -> bool:
    """Feed the body to the parser chunk by chunk; True when a cap ended the reading."""
    for chunk in reader:
        now = clock() - sent_at
        record.total_bytes = reader.decoded
        if _take(parser.feed(chunk), record, limits, now):
            return True
        if record.total_bytes >= limits.bytes:
            record.ended, record.detail = "bytes", f"stopped after {record.total_bytes} bytes"
            return True
        if now >= limits.seconds:
            record.ended, record.detail = "seconds", f"stopped after {limits.seconds:g} s"
            return True
    return False


def _take(events: list[SseEvent], record: StreamRecord, limits: StreamLimits, now: float) -> bool:
    """Note the dispatched events; True when the event cap was reached."""
    for event in events:
        if not event.dispatched:
            continue
        record.arrivals.append(Arrival(now, event.type, event.data))
        if len(record.arrivals) >= limits.events:
            record.ended, record.detail = "events", f"stopped after {limits.events} events"
            return True
    return False


def json_objects(record: StreamRecord) -> list[dict[str, Any]]:
    """The data of each event that is a JSON object, in order ([DONE] and the rest skipped)."""
    out = []
    for a in record.arrivals:
        try:
            value = bounded.loads(a.data)
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
