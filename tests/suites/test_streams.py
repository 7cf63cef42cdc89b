"""The stream reader ends every stream within its limits and records when events came."""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from mockserver.background import serve_in_thread
from suites import bounded
from suites.streams import StreamLimits, StreamRecord, read_sse


async def _frames(
    count: int | None, gap: float, stall_after: int | None = None
) -> AsyncIterator[bytes]:
    n = 0
    while count is None or n < count:
        if stall_after is not None and n == stall_after:
            await asyncio.sleep(30)
        yield f"data: {n}\n\n".encode()
        n += 1
        if gap:
            await asyncio.sleep(gap)


def _app() -> Starlette:
    def sse(body: AsyncIterator[bytes]) -> StreamingResponse:
        return StreamingResponse(body, media_type="text/event-stream")

    async def paced(_: Request) -> Response:
        return sse(_frames(5, 0.03))

    async def burst(_: Request) -> Response:
        return sse(_frames(5, 0))

    async def endless(_: Request) -> Response:
        return sse(_frames(None, 0.001))

    async def stalled(_: Request) -> Response:
        return sse(_frames(5, 0, stall_after=2))

    async def json(_: Request) -> Response:
        return Response(b'{"not": "a stream"}', media_type="application/json")

    def gzipped_sse(text: bytes) -> Response:
        packer = zlib.compressobj(6, zlib.DEFLATED, 31)
        body = packer.compress(text) + packer.flush()
        headers = {"content-encoding": "gzip"}
        return Response(body, media_type="text/event-stream", headers=headers)

    async def gzipped(_: Request) -> Response:
        return gzipped_sse(b"".join(f"data: {n}\n\n".encode() for n in range(5)))

    async def inflating(_: Request) -> Response:  # 64 MiB of one endless line, ~64 KiB sent
        return gzipped_sse(b"data: " + b"a" * (64 * 1024 * 1024))

    async def drip(_: Request) -> Response:  # an event that never ends, a byte at a time
        async def body() -> AsyncIterator[bytes]:
            yield b"data: "
            while True:
                yield b"n"
                await asyncio.sleep(0.02)

        return sse(body())

    routes = (paced, burst, endless, stalled, json, gzipped, inflating, drip)
    return Starlette(routes=[Route(f"/{f.__name__}", f) for f in routes])


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve_in_thread(_app()) as base:
        yield base


def read(url: str, path: str, limits: StreamLimits) -> tuple[StreamRecord, float]:
    timeout = httpx.Timeout(10.0, read=limits.stall)
    with httpx.Client(timeout=timeout) as client:
        sent = time.monotonic()
        with client.stream("GET", url + path) as response:
            record = read_sse(response, limits, sent)
        return record, time.monotonic() - sent


def test_a_paced_stream_is_read_whole_with_arrival_times(url: str) -> None:
    record, _ = read(url, "/paced", StreamLimits())
    assert record.complete and [a.data for a in record.arrivals] == ["0", "1", "2", "3", "4"]
    assert record.ttfe is not None and min(record.gaps) > 0.015 and record.streamed() is True


def test_a_burst_is_told_apart(url: str) -> None:
    record, _ = read(url, "/burst", StreamLimits())
    assert record.complete and record.streamed() is False


def test_a_stalled_stream_ends_at_the_stall_limit(url: str) -> None:
    record, took = read(url, "/stalled", StreamLimits(stall=0.5))
    assert record.ended == "stall" and len(record.arrivals) == 2 and took < 5
    assert "no byte for 0.5 s after 2 events" in record.detail


def test_an_endless_stream_ends_at_the_event_cap(url: str) -> None:
    record, took = read(url, "/endless", StreamLimits(events=50))
    assert record.ended == "events" and len(record.arrivals) == 50 and took < 5


def test_an_endless_stream_ends_at_the_time_cap(url: str) -> None:
    record, took = read(url, "/endless", StreamLimits(seconds=0.3, events=10**9))
    assert record.ended == "seconds" and took < 5


def test_an_answer_that_is_not_sse(url: str) -> None:
    record, _ = read(url, "/json", StreamLimits())
    assert record.ended == "not-sse" and not record.arrivals


def test_a_compressed_stream_is_read_as_its_events(url: str) -> None:
    record, _ = read(url, "/gzipped", StreamLimits())
    assert record.complete and [a.data for a in record.arrivals] == ["0", "1", "2", "3", "4"]


def test_the_byte_cap_counts_inflated_bytes(url: str) -> None:
    record, _ = read(url, "/inflating", StreamLimits(bytes=1024 * 1024))
    assert record.ended == "bytes" and not record.arrivals
    assert record.total_bytes <= 1024 * 1024 + bounded.PIECE


def test_a_drip_fed_stream_ends_at_the_time_cap(url: str) -> None:
    # bytes keep coming faster than the stall limit and never complete an event
    record, _ = read(url, "/drip", StreamLimits(seconds=0.5, stall=5))
    assert record.ended == "seconds" and not record.arrivals
