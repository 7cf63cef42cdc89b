"""A deliberately broken relay: a proxy in front of the mock that breaks one thing.

Each breakage is a small function over what passes through (a JSON body, one SSE event, the
request's key), so a test can aim it at exactly one rule of the contracts.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

GOOD_KEY = "sk-relaykit-broken-good"
Json = Any


@dataclass
class Breakage:
    """What to break; every hook defaults to passing things through unchanged."""

    body: Callable[[str, int, Json], Json] | None = None
    """(path, status, JSON body) -> the body to send instead."""
    event: Callable[[str, str], list[str] | None] | None = None
    """(path, one raw SSE event block) -> the blocks to send instead (None: unchanged)."""
    accept_wrong_key: bool = False
    stall_after: int | None = None
    """Stop sending (without closing) after this many SSE events."""
    endless: bool = False
    """Repeat the stream's first event forever."""
    state: dict[str, Any] = field(default_factory=dict)


class BrokenRelay:
    """An ASGI app forwarding to ``upstream`` and applying a Breakage."""

    def __init__(self, upstream: str, breakage: Breakage) -> None:
        self.upstream = upstream
        self.breakage = breakage
        # a fresh upstream connection per request: a reused one delivered streams in one burst
        self.client = httpx.AsyncClient(
            base_url=upstream, timeout=60, limits=httpx.Limits(max_keepalive_connections=0)
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.forward(request)
        await response(scope, receive, send)

    async def forward(self, request: Request) -> Response:
        headers = {k: v for k, v in request.headers.items() if k not in ("host", "content-length")}
        if self.breakage.accept_wrong_key:
            for name in ("authorization", "x-api-key", "mj-api-secret", "x-goog-api-key"):
                if name in headers and "wrong" in headers[name]:
                    headers[name] = f"Bearer {GOOD_KEY}" if name == "authorization" else GOOD_KEY
        # the raw (still percent-encoded) path: a decoded one may hold characters no URL can
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        upstream = self.client.build_request(
            request.method,
            raw_path.decode("latin-1"),
            params=request.query_params,
            headers=headers,
            content=await request.body(),
        )
        answer = await self.client.send(upstream, stream=True)
        kind = answer.headers.get("content-type", "")
        keep = {k: v for k, v in answer.headers.items() if k in ("content-type", "retry-after")}
        if kind.startswith("text/event-stream"):
            return StreamingResponse(
                self._events(request.url.path, answer), answer.status_code, keep
            )
        content = await answer.aread()
        await answer.aclose()
        hook = self.breakage.body
        if hook is not None and kind.startswith("application/json"):
            try:
                body = json.loads(content)
            except ValueError:
                body = None
            if body is not None:
                body = hook(request.url.path, answer.status_code, body)
                content = json.dumps(body).encode()
        return Response(content, answer.status_code, keep)

    async def _events(self, path: str, answer: httpx.Response) -> AsyncIterator[bytes]:
        b = self.breakage
        sent = 0
        buffer = ""
        try:
            async for text in answer.aiter_text():
                buffer += text
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    blocks = b.event(path, block) if b.event is not None else None
                    for out in [block] if blocks is None else blocks:
                        if b.stall_after is not None and sent >= b.stall_after:
                            await asyncio.sleep(3600)
                        yield (out + "\n\n").encode()
                        sent += 1
                        if b.endless:
                            while True:
                                yield (out + "\n\n").encode()
                                await asyncio.sleep(0.001)
        finally:
            await answer.aclose()
