"""Pass a request through to an upstream relay and its answer back as it arrives.

The recorder and the validating proxy share this: read the client's request, send it upstream
without hop-by-hop headers, and relay the answer chunk by chunk (a stream is never buffered);
both note when each server-sent event came with ``contracts.wire.sse.SseParser``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

import httpx
from starlette.types import Receive, Scope, Send

from contracts.wire import auth
from mockserver.bodies import read_all
from mockserver.cassettes import HOP_BY_HOP, NOT_FORWARDED, Pairs

REQUEST_DROPPED = HOP_BY_HOP | {"host", "content-length", "accept-encoding"}
"""Request headers not passed on: httpx sets the host and length, and asks for no compression
so the bytes relayed are the bytes the upstream wrote."""


@dataclass(frozen=True, slots=True)
class Incoming:
    """A client's request, read whole (request bodies are bounded; answers are streamed)."""

    method: str
    path: str
    query_string: str
    headers: Pairs
    body: bytes
    raw_path: str = ""
    """The path as sent, still percent-encoded: what goes upstream (a decoded path can hold
    characters no URL may carry)."""

    @classmethod
    async def read(cls, scope: Scope, receive: Receive) -> Incoming:
        """Read the request of an ASGI http scope."""
        return cls(
            scope["method"],
            scope["path"],
            scope.get("query_string", b"").decode("latin-1"),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])],
            await read_all(receive),
            (scope.get("raw_path") or scope["path"].encode()).decode("latin-1"),
        )

    @property
    def query(self) -> Pairs:
        """The query as (name, value) pairs."""
        return parse_qsl(self.query_string, keep_blank_values=True)

    def header(self, name: str) -> str:
        """A header's value ('' when absent)."""
        return next((v for k, v in self.headers if k.lower() == name), "")


def forwarded_headers(headers: Iterable[tuple[str, str]]) -> Pairs:
    """Response headers to pass on: all but hop-by-hop and what the server sets itself."""
    return [(k.lower(), v) for k, v in headers if k.lower() not in NOT_FORWARDED]


class Forwarder:
    """Sends requests to one upstream base URL (its path prefix kept) and streams answers."""

    def __init__(self, upstream: str, timeout: float = 600.0) -> None:
        self.upstream = upstream.rstrip("/")
        self.client = httpx.AsyncClient(timeout=httpx.Timeout(timeout, connect=15.0))

    def url(self, incoming: Incoming) -> str:
        """The upstream URL of a request."""
        query = f"?{incoming.query_string}" if incoming.query_string else ""
        return f"{self.upstream}{incoming.raw_path or incoming.path}{query}"

    async def open(self, incoming: Incoming) -> httpx.Response:
        """Send upstream; the answer's body is still to be read. Raises httpx.HTTPError."""
        headers = [(k, v) for k, v in incoming.headers if k.lower() not in REQUEST_DROPPED]
        headers.append(("accept-encoding", "identity"))
        request = self.client.build_request(
            incoming.method, self.url(incoming), headers=headers, content=incoming.body
        )
        return await self.client.send(request, stream=True)

    async def aclose(self) -> None:
        """Close the upstream connections."""
        await self.client.aclose()


async def start_response(send: Send, status: int, headers: Pairs) -> None:
    """Send the status line and headers."""
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw})


async def send_body(send: Send, chunk: bytes, more: bool) -> None:
    """Send one piece of the body (``more`` False ends it)."""
    await send({"type": "http.response.body", "body": chunk, "more_body": more})


async def bad_gateway(send: Send, detail: str) -> None:
    """A 502 in the OpenAI envelope for an upstream that could not be reached."""
    body = json.dumps(
        {
            "error": {
                "message": f"relaykit: the upstream did not answer: {detail}",
                "type": "upstream_error",
                "param": None,
                "code": "bad_gateway",
            }
        }
    ).encode()
    await start_response(
        send, 502, [("content-type", "application/json"), ("content-length", str(len(body)))]
    )
    await send_body(send, body, False)


def presented_secrets(incoming: Incoming) -> list[str]:
    """The keys a request presents (secret headers, bearer tokens, secret query values)."""
    return auth.presented_secrets(incoming.headers, incoming.query)
