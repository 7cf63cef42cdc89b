"""Answer requests from recorded cassettes; the contract mock answers everything else.

A request that matches cassettes (mockserver/cassettes.py states the rule) gets the recorded
status, headers and body bytes back; a stream gets the same events in the same order, with
their recorded gaps when ``timing`` is on (the frames go out through mockserver/streaming.py,
where a fault in front may shape them as it does the app's). When several cassettes match one
request they are answered in recorded order, then the last one again and again. Each worker
process keeps its own place in that order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qsl

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.bodies import read_all, replaying
from mockserver.cassette_bodies import Body, encode_request_body
from mockserver.cassettes import NOT_FORWARDED, Cassette, Pairs, load_cassettes
from mockserver.streaming import AtTimes, Steady, frames_out, shaper_of

REPLAY_HEADER = "x-relaykit-replay"
"""Names the cassette that answered."""


class ReplayApp:
    """An ASGI app: cassettes first, ``fallback`` for requests no cassette matches."""

    def __init__(self, directory: Path, fallback: ASGIApp, timing: bool = False) -> None:
        self.cassettes = load_cassettes(directory)
        self.fallback = fallback
        self.timing = timing
        self._served: dict[tuple[int, ...], int] = {}
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        """How the recorded gaps are waited (tests swap it)."""

    def pick(self, method: str, path: str, query: Pairs, body: Body) -> Cassette | None:
        """The cassette that answers this request now (advancing the recorded order)."""
        matching = [i for i, c in enumerate(self.cassettes) if c.matches(method, path, query, body)]
        if not matching:
            return None
        key = tuple(matching)
        turn = self._served.get(key, 0)
        self._served[key] = turn + 1
        return self.cassettes[matching[min(turn, len(matching) - 1)]]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.cassettes:
            await self.fallback(scope, receive, send)
            return
        raw = await read_all(receive)
        headers = Headers(scope=scope)
        query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        body = await encode_request_body(headers.get("content-type", ""), raw)
        found = self.pick(scope["method"], scope["path"], query, body)
        if found is None:
            await self.fallback(scope, replaying(raw, receive), send)
            return
        await self._answer(found, scope, send)

    async def _answer(self, cassette: Cassette, scope: Scope, send: Send) -> None:
        resp = cassette.response
        headers = [
            (k.lower().encode("latin-1"), v.encode("latin-1"))
            for k, v in resp.headers
            if k.lower() not in NOT_FORWARDED
        ]
        headers.append((REPLAY_HEADER.encode(), cassette.name.encode("latin-1")))
        if resp.events is None:
            content = resp.content()
            headers.append((b"content-length", str(len(content)).encode()))
            await send({"type": "http.response.start", "status": resp.status, "headers": headers})
            await send({"type": "http.response.body", "body": content})
            return
        await send({"type": "http.response.start", "status": resp.status, "headers": headers})
        frames = [e.encode() for e in resp.events]
        if resp.tail:
            frames.append(resp.tail.encode())
        pacing = AtTimes([e.at for e in resp.events]) if self.timing else Steady()
        async for frame in frames_out(frames, pacing, shaper_of(scope), self.sleep):
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
