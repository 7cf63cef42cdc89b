"""Faults on frames: a stream's frames meet the fault where they are produced (the app or a
replayed cassette), paced in one place, with the request's Prefer header left as it came."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from contracts.model import ContractSet
from contracts.wire import sse
from mockserver import MockConfig, create_app
from mockserver.cassettes import (
    Cassette,
    RecordedEvent,
    RecordedRequest,
    RecordedResponse,
    write_cassette,
)
from mockserver.faults import MALFORMED_DATA, FaultMiddleware
from mockserver.replay import ReplayApp
from mockserver.streaming import AtTimes, Steady, frames_out
from suites.redact import Redactor

AUTH = {"Authorization": "Bearer sk-anything"}
STREAM = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "stream": True}
NO_PACING = MockConfig(ttfe=0, interval=0)


def _post(app: Any, prefer: str, body: Any = STREAM) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=AUTH) as c:
            return await c.post("/v1/chat/completions", json=body, headers={"Prefer": prefer})

    return asyncio.run(go())


def _data(content: bytes) -> list[str]:
    parser = sse.SseParser()
    return [e.data for e in parser.feed(content, final=True)]


def test_pacing_comes_from_one_place_and_prefer_reaches_the_app_as_sent(
    contracts: ContractSet,
) -> None:
    seen: list[str | None] = []
    inner = create_app(contracts, NO_PACING)

    async def spy(scope: Any, receive: Any, send: Any) -> None:
        seen.append(dict(scope["headers"]).get(b"prefer", b"").decode())
        await inner(scope, receive, send)

    app = FaultMiddleware(spy, contracts, None, NO_PACING)
    prefer = "fault=pace, ttfe-ms=5, interval-ms=1, jitter-ms=1"
    r = _post(app, prefer)
    applied = app.applied[-1]
    assert seen == [prefer]  # no ttfe-ms=0 appended to switch the app's pacing off
    assert applied.events == len(_data(r.content)) and len(applied.gaps) == applied.events - 1
    assert applied.ttfe is not None and 0.004 <= applied.ttfe <= 0.006
    assert _data(r.content)[-1] == sse.DONE


def test_malformed_breaks_the_frame_the_app_handed_over(contracts: ContractSet) -> None:
    app = FaultMiddleware(create_app(contracts, NO_PACING), contracts, None, NO_PACING)
    clean = _data(_post(app, "fault=none").content)
    broken = _data(_post(app, "fault=malformed, at=3").content)
    assert len(broken) == len(clean) and broken[2] == MALFORMED_DATA
    assert all(json.loads(d) for d in broken[:2] + broken[3:-1]) and broken[-1] == sse.DONE
    assert app.applied[-1].events == len(clean)


def test_a_replayed_stream_meets_the_fault_too(tmp_path: Path, contracts: ContractSet) -> None:
    events = [RecordedEvent(0.0, "", '{"n":1}'), RecordedEvent(0.01, "", sse.DONE)]
    request = RecordedRequest("POST", "/v1/chat/completions", [], [], {"json": STREAM})
    response = RecordedResponse(200, [("content-type", "text/event-stream")], events=events)
    write_cassette(tmp_path, Cassette(request, response, seq=1), Redactor())
    replay = ReplayApp(tmp_path, fallback=create_app(contracts, NO_PACING))
    app = FaultMiddleware(replay, contracts, None, NO_PACING)
    r = _post(app, "fault=malformed, at=1")
    assert r.headers["x-relaykit-replay"] and _data(r.content) == [MALFORMED_DATA, sse.DONE]


def test_a_stream_relaykit_did_not_produce_is_left_untouched_and_says_so(
    contracts: ContractSet,
) -> None:
    async def foreign(request: Request) -> StreamingResponse:
        async def gen() -> Any:
            yield b"data: 1\n\n"
            yield b"data: 2\n\n"

        return StreamingResponse(gen(), media_type="text/event-stream")

    inner = Starlette(routes=[Route("/{path:path}", foreign, methods=["POST"])])
    app = FaultMiddleware(inner, contracts, None, NO_PACING)
    r = _post(app, "fault=malformed, at=1")
    assert r.content == b"data: 1\n\ndata: 2\n\n"
    assert app.applied[-1].outcome.startswith("the stream was not produced by relaykit")


def test_frames_out_waits_per_pacing_and_stops_where_the_shaper_says() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    class StopAfterTwo:
        done = False

        def pacing(self, own: Any) -> Any:
            return own

        def shape(self, frame: bytes) -> bytes | None:
            return None if frame == b"3" else frame

        def finished(self) -> None:
            self.done = True

    async def collect(pacing: Any, shaper: Any = None) -> list[bytes]:
        return [f async for f in frames_out([b"1", b"2", b"3"], pacing, shaper, sleep)]

    assert asyncio.run(collect(Steady(0.3, 0.1))) == [b"1", b"2", b"3"]
    assert waits == [0.3, 0.1, 0.1]
    waits.clear()
    shaper = StopAfterTwo()
    assert asyncio.run(collect(Steady(), shaper)) == [b"1", b"2"] and not shaper.done
    assert waits == []
    assert asyncio.run(collect(AtTimes([0.0, 5.0]))) == [b"1", b"2", b"3"]
    assert len(waits) == 1 and 4.9 < waits[0] <= 5.0
