"""Examples written as text: curl commands, JSON in strings, and server-sent event streams.

Documents often give a request as a curl command (OpenAPI ``x-codeSamples``, OpenAI's
``x-oaiMeta``, Apifox and Postman descriptions) and a streamed answer as the SSE text itself.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import orjson

_URL = re.compile(r"""https?://[^\s'"\\]+""")
_DATA_FLAGS = ("-d", "--data", "--data-raw", "--data-binary", "--json")


@dataclass
class Curl:
    """What a curl command says: its URL's path, its method and its JSON body (if any)."""

    path: str
    method: str
    body: Any = None


def url_path(url: str) -> str:
    """The path of a URL (``{{baseUrl}}/v1/x`` and ``https://h/v1/x?y`` give ``/v1/x``)."""
    url = re.sub(r"^\{\{[^}]*\}\}", "", url.strip())
    path = urlsplit(url).path if "://" in url else url.split("?", 1)[0]
    return "/" + path.lstrip("/")


def parse_curl(text: str) -> Curl | None:
    """The first curl command in ``text``; None when there is none or it does not parse."""
    start = text.find("curl ")
    if start < 0:
        return None
    try:
        words = shlex.split(text[start:].replace("\\\n", " "))
    except ValueError:
        return None
    url = next((w for w in words[1:] if w.startswith(("http://", "https://", "{{"))), None)
    if url is None:
        return None
    method = "GET"
    body: Any = None
    for i, word in enumerate(words[:-1]):
        if word in ("-X", "--request"):
            method = words[i + 1].upper()
        elif word in _DATA_FLAGS:
            method = "POST" if method == "GET" else method
            body = json_value(words[i + 1])
    return Curl(url_path(url), method, body)


def json_value(text: Any) -> Any:
    """``text`` parsed as JSON when it is a JSON object or array in a string; else None."""
    if not isinstance(text, str) or not text.strip().startswith(("{", "[")):
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def looks_like_sse(text: Any) -> bool:
    """True when a string is an event stream (``data:`` lines)."""
    return isinstance(text, str) and bool(re.search(r"(?m)^data:", text))


@dataclass
class SseExample:
    """A stream parsed from its text: events (JSON payloads, or ``{event, data}``)."""

    events: list[Any]
    named: bool
    terminator: str | None
    bad: list[str]


def parse_sse(text: str) -> SseExample:
    """Parse SSE text into events; payloads that are not JSON are listed in ``bad``."""
    events: list[Any] = []
    bad: list[str] = []
    named = False
    terminator: str | None = None
    for block in re.split(r"\r?\n\s*\r?\n", text.strip()):
        name = None
        data_lines = []
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data_lines.append(line[5:].strip())
        if not data_lines:
            continue
        data = "\n".join(data_lines)
        if data == "[DONE]":
            terminator = data
            continue
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            bad.append(data[:80])
            continue
        if name:
            named = True
            events.append({"event": name, "data": payload})
        else:
            events.append(payload)
    if named:  # a named stream: every event carries a name
        events = [
            e if isinstance(e, dict) and "event" in e else {"event": "message", "data": e}
            for e in events
        ]
    return SseExample(events, named, terminator, bad)
