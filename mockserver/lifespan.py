"""The ASGI lifespan protocol, for the pure ASGI apps (the mock relay, the forwarding servers)
that have no framework to answer it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import Receive, Send


async def _nothing() -> None:
    return None


async def run_lifespan(
    receive: Receive, send: Send, on_shutdown: Callable[[], Awaitable[None]] = _nothing
) -> None:
    """Answer an ASGI lifespan scope, running ``on_shutdown`` when the server stops."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await on_shutdown()
            await send({"type": "lifespan.shutdown.complete"})
            return
