"""Cassettes: one recorded exchange per JSON file, and the rule a replayed request matches by.

A cassette is JSON rather than YAML: the standard library reads it back exactly (YAML's implicit
typing turns ``no``, ``1e3`` or dates in a body into something else), a JSON body sits in it as
data, and it is cheap to write on every exchange. Layout (``format`` 1)::

    {"format": 1, "seq": 3, "recorded": "2025-...Z", "upstream": "http://relay", "elapsed": 0.41,
     "request": {"method", "path", "query": [[k, v]...], "headers": [[k, v]...], "body": BODY},
     "response": {"status", "headers": [[k, v]...], "body": BODY,
                  "events": [{"at", "event", "data", "id"?, "raw"?}...], "tail": "", "ended"}}

A BODY is kept as ``mockserver.cassette_bodies`` describes (JSON as data with its style, text,
base64, a parsed multipart form, or a size and hash). A stream's body is its ``events`` (seconds
since the response started, name, data; ``raw`` only when the canonical framing would not give
back the recorded bytes) plus the ``tail`` after the last complete event. This module holds the
cassette records, their redaction, matching, and reading and writing the files.

Matching rule: same method, same path, the same query pairs in any order (a recorded value
``[REDACTED]`` matches any value), and equal bodies as ``cassette_bodies.body_view`` sees them:
JSON compared as data, forms field by field (files by content hash), anything else byte for byte.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode

from contracts.wire import sse
from contracts.wire.mediatype import media_type
from mockserver.cassette_bodies import Body, body_view, decode_body

FORMAT = 1
REDACTED = "[REDACTED]"
"""The mask the recorder's redactor writes (suites.redact.MASK)."""
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)
NOT_FORWARDED = HOP_BY_HOP | {"content-length", "content-encoding", "date", "server"}
"""Response headers neither recorded nor replayed: the server writing the answer sets its own
length, date and server, and bodies are kept decoded."""
_UNSAFE = re.compile(r"[^A-Za-z0-9]+")
Pairs = list[tuple[str, str]]


class Scrubber(Protocol):
    """What a cassette is redacted with (``suites.redact.Redactor`` is one)."""

    def text(self, value: str) -> str:
        """A string with every secret masked."""

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers with secret ones masked."""

    def url(self, url: str) -> str:
        """A URL whose secret query parameters are masked."""


@dataclass(slots=True)
class RecordedEvent:
    """One server-sent event as it went by: seconds since the response started, name, data."""

    at: float
    event: str
    data: str
    id: str | None = None
    raw: str | None = None
    """The event's exact text when the canonical framing differs (comments, CRLF, no space)."""

    @classmethod
    def of(cls, at: float, raw: str, event: str, data: str, id: str | None) -> RecordedEvent:
        """An event keeping ``raw`` only when the canonical framing would not reproduce it."""
        made = cls(round(at, 4), event, data, id or None)
        return made if made.encode() == raw.encode() else replace(made, raw=raw)

    def encode(self) -> bytes:
        """The event's bytes on the wire."""
        if self.raw is not None:
            return self.raw.encode()
        return sse.encode(self.data, self.event, self.id)


@dataclass(slots=True)
class RecordedRequest:
    """The request side of a cassette."""

    method: str
    path: str
    query: Pairs = field(default_factory=list)
    headers: Pairs = field(default_factory=list)
    body: Body = field(default_factory=dict)


@dataclass(slots=True)
class RecordedResponse:
    """The response side of a cassette; ``events`` is None unless it was a stream."""

    status: int
    headers: Pairs = field(default_factory=list)
    body: Body = field(default_factory=dict)
    events: list[RecordedEvent] | None = None
    tail: str = ""
    ended: str = "eof"
    """eof, or why the recording stopped early (upstream error, client gone)."""

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased."""
        return media_type(next((v for k, v in self.headers if k.lower() == "content-type"), ""))

    def content(self) -> bytes:
        """The whole body as it was sent (a stream's events joined)."""
        if self.events is not None:
            return b"".join(e.encode() for e in self.events) + self.tail.encode()
        return decode_body(self.body)


@dataclass(slots=True)
class Cassette:
    """One recorded exchange."""

    request: RecordedRequest
    response: RecordedResponse
    seq: int = 0
    recorded: str = ""
    upstream: str = ""
    elapsed: float = 0.0
    name: str = ""
    """The file it was read from (not stored)."""

    def to_json(self) -> dict[str, Any]:
        """The cassette as its file stores it."""
        resp = self.response
        response: dict[str, Any] = {
            "status": resp.status,
            "headers": [list(p) for p in resp.headers],
            "body": resp.body,
        }
        if resp.events is not None:
            response["events"] = [_event_json(e) for e in resp.events]
            response["tail"] = resp.tail
        response["ended"] = resp.ended
        req = self.request
        return {
            "format": FORMAT,
            "seq": self.seq,
            "recorded": self.recorded,
            "upstream": self.upstream,
            "elapsed": round(self.elapsed, 4),
            "request": {
                "method": req.method,
                "path": req.path,
                "query": [list(p) for p in req.query],
                "headers": [list(p) for p in req.headers],
                "body": req.body,
            },
            "response": response,
        }

    @classmethod
    def from_json(cls, data: Any, name: str = "") -> Cassette:
        """A cassette read back; ValueError when the data is not one."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a relaykit cassette (format {FORMAT})")
        try:
            req, resp = data["request"], data["response"]
            events = resp.get("events")
            return cls(
                request=RecordedRequest(
                    str(req["method"]).upper(),
                    req["path"],
                    [(str(k), str(v)) for k, v in req.get("query", [])],
                    [(str(k), str(v)) for k, v in req.get("headers", [])],
                    req.get("body") or {},
                ),
                response=RecordedResponse(
                    int(resp["status"]),
                    [(str(k), str(v)) for k, v in resp.get("headers", [])],
                    resp.get("body") or {},
                    None if events is None else [RecordedEvent(**e) for e in events],
                    resp.get("tail", ""),
                    resp.get("ended", "eof"),
                ),
                seq=int(data.get("seq", 0)),
                recorded=data.get("recorded", ""),
                upstream=data.get("upstream", ""),
                elapsed=float(data.get("elapsed", 0.0)),
                name=name,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed cassette: {type(exc).__name__}: {exc}") from None

    def redacted(self, scrub: Scrubber) -> Cassette:
        """A copy with every secret masked: headers, query, path, bodies and event text."""
        req, resp = self.request, self.response
        events = None
        if resp.events is not None:
            events = [
                replace(
                    e,
                    data=scrub.text(e.data),
                    raw=None if e.raw is None else scrub.text(e.raw),
                    id=None if e.id is None else scrub.text(e.id),
                )
                for e in resp.events
            ]
        return replace(
            self,
            upstream=scrub.url(self.upstream),
            request=RecordedRequest(
                req.method,
                scrub.text(req.path),
                _scrub_query(req.query, scrub),
                _scrub_headers(req.headers, scrub),
                _scrub_body(req.body, scrub),
            ),
            response=replace(
                resp,
                headers=_scrub_headers(resp.headers, scrub),
                body=_scrub_body(resp.body, scrub),
                events=events,
                tail=scrub.text(resp.tail),
            ),
        )

    def matches(self, method: str, path: str, query: Pairs, body: Body) -> bool:
        """True when a request (its body encoded by ``encode_request_body``) replays this."""
        req = self.request
        if req.method != method.upper() or req.path != path:
            return False
        if not _query_matches(req.query, query):
            return False
        return bool(body_view(req.body) == body_view(body))


def _event_json(event: RecordedEvent) -> dict[str, Any]:
    out: dict[str, Any] = {"at": event.at, "event": event.event, "data": event.data}
    if event.id is not None:
        out["id"] = event.id
    if event.raw is not None:
        out["raw"] = event.raw
    return out


def _scrub_headers(headers: Pairs, scrub: Scrubber) -> Pairs:
    return [next(iter(scrub.headers({k: v}).items())) for k, v in headers]


def _scrub_query(query: Pairs, scrub: Scrubber) -> Pairs:
    if not query:
        return []
    masked = scrub.url("/?" + urlencode(query))
    return parse_qsl(masked.partition("?")[2], keep_blank_values=True)


def _scrub_value(value: Any, scrub: Scrubber) -> Any:
    if isinstance(value, str):
        return scrub.text(value)
    if isinstance(value, list):
        return [_scrub_value(v, scrub) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_value(v, scrub) for k, v in value.items()}
    return value


def _scrub_body(body: Body, scrub: Scrubber) -> Body:
    # base64 and size-only bodies are binary: a key is never written there as text
    out = dict(body)
    for key in ("json", "text", "form"):
        if key in out:
            out[key] = _scrub_value(out[key], scrub)
    return out


def _query_matches(recorded: Pairs, sent: Pairs) -> bool:
    if len(recorded) != len(sent):
        return False
    left, right = sorted(recorded), sorted(sent)
    return all(
        k1 == k2 and v1 in (v2, REDACTED) for (k1, v1), (k2, v2) in zip(left, right, strict=True)
    )


# --- files ------------------------------------------------------------------------------------


def cassette_name(seq: int, method: str, path: str) -> str:
    """``00007-POST-v1-chat-completions.json``: sorts in recorded order."""
    slug = _UNSAFE.sub("-", path).strip("-")[:60] or "root"
    return f"{seq:05d}-{method.upper()}-{slug}.json"


def next_seq(directory: Path) -> int:
    """One more than the highest sequence number among the directory's cassettes."""
    numbers = [int(p.name[:5]) for p in directory.glob("*.json") if p.name[:5].isdigit()]
    return max(numbers, default=0) + 1


def write_cassette(directory: Path, cassette: Cassette, scrub: Scrubber) -> Path:
    """Write the cassette redacted by ``scrub`` (atomically); returns its path."""
    clean = cassette.redacted(scrub)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / cassette_name(clean.seq, clean.request.method, clean.request.path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(clean.to_json(), indent=1, ensure_ascii=False) + "\n", "utf-8")
    os.replace(tmp, path)
    return path


def load_cassettes(directory: Path) -> list[Cassette]:
    """Every cassette in the directory, in recorded order; ValueError names a bad file."""
    out = []
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            out.append(Cassette.from_json(data, name=path.name))
        except (OSError, ValueError) as exc:
            raise ValueError(f"{path}: {exc}") from None
    return sorted(out, key=lambda c: (c.seq, c.name))
