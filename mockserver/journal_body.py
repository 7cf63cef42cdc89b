"""A request body as the journal keeps it: JSON as data, forms as their fields (files as name,
type and size), text as an excerpt, anything else as its size; never more than a cap.

The body is noted as the app reads it (``feed``), a chunk at a time: a multipart form is parsed
as it streams by (python-multipart), so a large upload is summarised, never held.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from python_multipart.multipart import MultipartParser, parse_options_header

from contracts.wire.mediatype import MULTIPART_FORM, is_json, is_text, media_type

BODY_CAP = 64 * 1024
"""Bytes of a body the journal keeps (JSON past it is kept as text, cut)."""
FIELD_CAP = 1024
"""Characters of one form field's value kept."""
MAX_FIELDS = 100
URLENCODED = "application/x-www-form-urlencoded"
REDACTED = "[redacted]"


@dataclass(slots=True)
class Noted:
    """What the journal says of a body."""

    kind: str
    """none, json, form, text, binary, or unread (the mock answered before reading a body the
    request announced, e.g. a 401)."""
    data: Any
    size: int
    truncated: bool


class BodyNotes:
    """Takes a request body's chunks as the app reads them; ``noted`` gives the summary."""

    def __init__(self, content_type: str | None, announced: bool, cap: int = BODY_CAP) -> None:
        self.content_type = content_type or ""
        self.announced = announced
        """The request announced a body (Content-Length above 0, or chunked)."""
        self.cap = cap
        self.size = 0
        self.kept = bytearray()
        self.form: _FormNotes | None = None
        if media_type(content_type) == MULTIPART_FORM:
            boundary = parse_options_header(self.content_type)[1].get(b"boundary")
            if boundary:
                self.form = _FormNotes(boundary)

    def feed(self, chunk: bytes) -> None:
        """One chunk of the body, as the app received it."""
        self.size += len(chunk)
        room = self.cap - len(self.kept)
        if room > 0 and self.form is None:
            self.kept += chunk[:room]
        if self.form is not None:
            self.form.feed(chunk)

    def noted(self, secrets: list[str]) -> Noted:
        """The summary, every secret the request presented masked."""
        if self.form is not None:
            return Noted("form", self.form.fields(secrets), self.size, self.form.truncated)
        if not self.size:
            return Noted("unread" if self.announced else "none", None, 0, False)
        cut = self.size > len(self.kept)
        raw = _masked(bytes(self.kept), secrets)
        if is_json(self.content_type) and not cut:
            try:
                return Noted("json", orjson.loads(raw), self.size, False)
            except orjson.JSONDecodeError:
                pass  # kept as the text it is
        kind = media_type(self.content_type)
        if kind == URLENCODED and not cut:
            text = raw.decode("utf-8", "replace")
            return Noted("form", grouped(parse_qsl(text, keep_blank_values=True)), self.size, cut)
        if is_json(self.content_type) or is_text(self.content_type) or _looks_textual(raw):
            return Noted("text", raw.decode("utf-8", "replace"), self.size, cut)
        return Noted("binary", None, self.size, cut)


class _FormNotes:
    """A multipart form parsed as it streams: fields (excerpts) and files (name, type, size)."""

    def __init__(self, boundary: bytes) -> None:
        self.parts: list[tuple[str, dict[str, Any] | bytearray]] = []
        self.truncated = False
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._current: dict[str, Any] | bytearray | None = None
        self._broken = False
        self.parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begin,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_part,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
            },
        )

    def feed(self, chunk: bytes) -> None:
        if self._broken:
            return
        try:
            self.parser.write(chunk)
        except Exception:  # a malformed form: the app answers 400; the journal keeps what it had
            self._broken = self.truncated = True

    def fields(self, secrets: list[str]) -> dict[str, Any]:
        pairs: list[tuple[str, Any]] = []
        for name, value in self.parts:
            if isinstance(value, bytearray):
                text = _masked(bytes(value), secrets).decode("utf-8", "replace")
                pairs.append((name, text))
            else:
                pairs.append((name, value))
        return grouped(pairs)

    def _part_begin(self) -> None:
        self._headers = {}
        self._current = None

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        if len(self.parts) >= MAX_FIELDS:
            self.truncated = True
            self._current = None
            return
        if b"filename" in options:
            self._current = {
                "filename": options[b"filename"].decode("utf-8", "replace"),
                "content_type": self._headers.get(b"content-type", b"").decode("latin-1") or None,
                "size": 0,
            }
        else:
            self._current = bytearray()
        self.parts.append((name, self._current))

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        current = self._current
        if isinstance(current, dict):
            current["size"] += end - start
        elif current is not None:
            room = FIELD_CAP - len(current)
            if end - start > room:
                self.truncated = True
            current += data[start : min(end, start + max(0, room))]


def grouped(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Fields by name; a field sent several times is the list of its values (as read_body)."""
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            held = found[name]
            found[name] = [*held, value] if isinstance(held, list) else [held, value]
        else:
            found[name] = value
    return found


def _masked(raw: bytes, secrets: list[str]) -> bytes:
    for secret in secrets:
        if secret:
            raw = raw.replace(secret.encode(), REDACTED.encode())
    return raw


def _looks_textual(raw: bytes) -> bool:
    """A body without a telling content type that decodes as UTF-8 without control bytes."""
    try:  # incremental: a character cut at the 512th byte is not an error
        text = codecs.getincrementaldecoder("utf-8")().decode(raw[:512], final=False)
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\r\n\t" for c in text)
