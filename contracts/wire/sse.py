"""Server-sent events (WHATWG ``text/event-stream``): one encoder, one incremental parser.

Every stream relaykit writes (the mock's events, a replayed cassette's, the fault injector's
broken frame) is framed by ``encode``; every stream it reads as the bytes arrive (the recorder,
the validating proxy, the suites' reader) is cut into events by ``SseParser``. Lines may end in
CRLF, LF or CR; the ``data:`` lines of one event join with newlines; a line starting with ``:``
is a comment; a blank line ends the event.

Written out rather than taken from httpx-sse: its decoder is private, it names an unnamed event
``message`` where a cassette must know whether a name was written, and it keeps no event's exact
text (a cassette replays the bytes as they came).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from contracts.wire.mediatype import EVENT_STREAM

MEDIA_TYPE = EVENT_STREAM
"""The media type of a server-sent event stream."""
DONE = "[DONE]"
"""The data of an OpenAI stream's last event (``data: [DONE]``): contracts name it as the
stream's ``terminator``; Anthropic's named-event streams send none."""

_LINE_END = re.compile(r"\r\n|\r|\n")
# a blank line: two line ends in a row (a CR followed by LF is one line end, never two)
_EVENT_END = re.compile(r"(?:\r\n|\n|\r(?!\n))(?:\r\n|\n|\r(?!\n))")


def encode(data: str, event: str | None = None, id: str | None = None) -> bytes:
    """One event's frame: ``event:`` and ``id:`` lines when given, a ``data:`` line per line of
    ``data``, and the blank line that ends it."""
    head = f"event: {event}\n" if event else ""
    if id is not None:
        head += f"id: {id}\n"
    if "\n" in data or "\r" in data:
        lines = "".join(f"data: {line}\n" for line in _LINE_END.split(data))
    else:
        lines = f"data: {data}\n"
    return f"{head}{lines}\n".encode()


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One complete block of a stream: its exact text and what it means."""

    raw: str
    """The block as it arrived, up to and including the blank line that ended it."""
    event: str
    """The name as written (``event:``); '' when the block names none."""
    data: str
    id: str | None
    dispatched: bool
    """False for a block with no field at all (only comments, such as a keep-alive ``: ping``)."""

    @property
    def type(self) -> str:
        """The event's type as a browser dispatches it: its name, or ``message``."""
        return self.event or "message"


def parse_event(raw: str) -> SseEvent:
    """The fields of one block of text, by the WHATWG rules (unknown fields are ignored)."""
    event, data, ident = "", [], None
    seen = False
    # a byte order mark may open a stream; it is no part of the first field's name
    for line in _LINE_END.split(raw.removeprefix("\ufeff")):
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
            seen = True
        elif name == "event":
            event, seen = value, True
        elif name == "id" and "\0" not in value:  # an id with NUL is ignored whole
            ident, seen = value, True
        elif name == "retry":
            seen = True
    return SseEvent(raw, event, "\n".join(data), ident, seen)


class SseParser:
    """Cuts a byte stream into events as each one completes (UTF-8, invalid bytes replaced)."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._buffer = ""

    def feed(self, chunk: bytes, final: bool = False) -> list[SseEvent]:
        """The events this chunk completes, in order; ``final`` when the stream has ended."""
        buffer = self._buffer + self._decoder.decode(chunk, final=final)
        events: list[SseEvent] = []
        start = 0
        while (found := _EVENT_END.search(buffer, start)) is not None:
            if not final and found.end() == len(buffer) and buffer.endswith("\r"):
                break  # a CR at the end may be the first half of a CRLF still to come
            events.append(parse_event(buffer[start : found.end()]))
            start = found.end()
        self._buffer = buffer[start:]
        return events

    def tail(self) -> str:
        """What is left after the last complete event (a cut stream's partial event); call
        ``feed(b"", final=True)`` first so that an event ended by a last CR is not left here."""
        rest = self._buffer + self._decoder.decode(b"", final=True)
        self._buffer = ""
        return rest
