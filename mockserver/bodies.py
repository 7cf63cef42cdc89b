"""ASGI request bodies read once and handed on: the fault injector and the replayer both need
to look at a body before the app (or the upstream) reads it."""

from __future__ import annotations

from starlette.types import Message, Receive


async def read_all(receive: Receive) -> bytes:
    """The whole request body from an ASGI receive channel."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replaying(raw: bytes, then: Receive | None = None) -> Receive:
    """A receive channel giving ``raw`` as the body, then deferring to ``then`` (None: a
    disconnect, for a body that is only being parsed)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}
        if then is None:
            return {"type": "http.disconnect"}
        return await then()

    return receive
