"""Cassette bodies: how a recorded body is kept, given back byte for byte, and compared.

A BODY is one of ``{}`` (empty), ``{"json": data, "style": s}`` (re-encoded in style ``s`` it is
the recorded bytes), ``{"text": str}``, ``{"base64": str}``, ``{"form": fields}`` (a multipart
request: text fields, and files as name, type, size and sha256) or ``{"size": n, "sha256": h}``
(a binary request body too large to keep). ``encode_body`` / ``encode_request_body`` make one
from the bytes (finding the JSON style that reproduces them, parsing multipart forms with
``parse_form``), ``decode_body`` gives the bytes back, and ``body_view`` is what replay matching
compares: JSON as data, forms field by field (files by content hash), anything else by content hash.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncGenerator
from typing import Any

from starlette.datastructures import Headers, UploadFile
from starlette.formparsers import MultiPartParser

from contracts.wire.mediatype import MULTIPART_FORM, is_json, is_text, media_type

Body = dict[str, Any]
MAX_REQUEST_BYTES = 1024 * 1024
"""Binary request bodies larger than this are kept as a size and hash, not base64."""
_STYLES: dict[str, dict[str, Any]] = {
    "compact": {"separators": (",", ":"), "ensure_ascii": False},
    "compact-ascii": {"separators": (",", ":"), "ensure_ascii": True},
    "spaced": {"separators": (", ", ": "), "ensure_ascii": False},
    "spaced-ascii": {"separators": (", ", ": "), "ensure_ascii": True},
    "indent2": {"indent": 2, "ensure_ascii": False},
}


def _json_style(data: Any, content: bytes) -> str | None:
    for name, options in _STYLES.items():
        text = json.dumps(data, **options)
        for end in ("", "\n"):
            if (text + end).encode() == content:
                return name + ("+newline" if end else "")
    return None


def encode_body(content_type: str, content: bytes, limit: int | None = None) -> Body:
    """A body as a cassette keeps it; binary over ``limit`` bytes becomes a size and a hash."""
    if not content:
        return {}
    if is_json(content_type) or not content_type:
        try:
            data = json.loads(content)
        except ValueError:
            data = _NOT_JSON
        if data is not _NOT_JSON:
            style = _json_style(data, content)
            if style is not None:
                return {"json": data, "style": style}
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and (is_text(content_type) or is_json(content_type)):
        return {"text": text}
    if limit is not None and len(content) > limit:
        return {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
    return {"base64": base64.b64encode(content).decode("ascii")}


_NOT_JSON = object()


def decode_body(body: Body) -> bytes:
    """The bytes a body stands for; ValueError for a size-only note."""
    if not body:
        return b""
    if "json" in body:
        style = str(body.get("style", "compact"))
        name, _, newline = style.partition("+")
        text = json.dumps(body["json"], **_STYLES.get(name, _STYLES["compact"]))
        return (text + ("\n" if newline else "")).encode()
    if "text" in body:
        return str(body["text"]).encode()
    if "base64" in body:
        return base64.b64decode(body["base64"])
    raise ValueError("this body was recorded as a size and hash only")


def body_view(body: Body) -> Any:
    """What matching compares: JSON as data, forms field by field, the rest by content hash."""
    if not body:
        return ("empty",)
    if "json" in body:
        return ("json", body["json"])
    if "form" in body:
        return ("form", body["form"])
    if "sha256" in body:
        return ("bytes", body["sha256"])
    if "text" in body:  # JSON that no style reproduces is still compared as data
        try:
            return ("json", json.loads(body["text"]))
        except ValueError:
            pass
    return ("bytes", hashlib.sha256(decode_body(body)).hexdigest())


async def encode_request_body(content_type: str, content: bytes) -> Body:
    """A request body as cassettes keep and match it (multipart parsed into its fields)."""
    if content and media_type(content_type) == MULTIPART_FORM:
        fields = await parse_form(content_type, content)
        if fields is not None:
            return {"form": fields}
    return encode_body(content_type, content, MAX_REQUEST_BYTES)


async def parse_form(content_type: str, content: bytes) -> dict[str, Any] | None:
    """A multipart body's fields (files as name, type, size, sha256); None when unparseable."""

    async def stream() -> AsyncGenerator[bytes, None]:
        yield content

    try:
        form = await MultiPartParser(Headers({"content-type": content_type}), stream()).parse()
    except Exception:  # the multipart parser raises several types for bad input
        return None
    out: dict[str, Any] = {}
    for name, value in form.multi_items():
        item: Any = value
        if isinstance(value, UploadFile):
            data = await value.read()
            item = {
                "filename": value.filename or "",
                "content_type": value.content_type or "",
                "size": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
        if name not in out:
            out[name] = item
        elif isinstance(out[name], list):
            out[name].append(item)
        else:
            out[name] = [out[name], item]
    return out
