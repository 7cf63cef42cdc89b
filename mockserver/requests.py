"""Read a request body within the size limit and parse it by the operation's content type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message

from contracts.model import Operation
from mockserver.errors import MockError
from mockserver.formview import form_view, shipped_components


class BodyError(MockError):
    """The body cannot be used: too large (413) or malformed (400)."""


async def read_raw(request: Request, limit: int) -> bytes:
    """The whole body, refusing more than ``limit`` bytes before reading them all (straight
    from the ASGI channel: Starlette's ``Request.stream`` costs an async generator a request)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyError(413, f"Request body of {declared} bytes exceeds the {limit}-byte limit.")
    chunks: list[bytes] = []
    size = 0
    receive = request.receive
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyError(413, f"Request body exceeds the {limit}-byte limit.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_body(
    request: Request, content_type: str, limit: int
) -> tuple[Any, dict[str, bytes]]:
    """The parsed body (a JSON object, a form as a dict, or None) and any uploaded files' bytes.

    In a form, a file is described as {filename, content_type, size} and a field sent several
    times is the list of its values.
    """
    return await parse_body(request, await read_raw(request, limit), content_type)


async def parse_body(
    request: Request, raw: bytes, content_type: str
) -> tuple[Any, dict[str, bytes]]:
    """``read_body`` of a body already read (``raw``)."""
    if content_type == "none" or request.method == "GET":
        return None, {}
    if content_type == "multipart/form-data":
        return await _form(request, raw)
    if not raw.strip():
        raise BodyError(400, "We could not parse the JSON body of your request: the body is empty.")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BodyError(400, f"We could not parse the JSON body of your request: {exc}.") from None
    if not isinstance(body, dict):
        raise BodyError(400, "The JSON body of your request must be an object.")
    return body, {}


def validation_view(op: Operation, body: Any, components: Mapping[str, Any] | None = None) -> Any:
    """What the request schema is checked against; None when the body is not checked.

    JSON bodies are checked as they are. Multipart forms are checked as the schema means them
    (mockserver/formview.py): files become placeholder strings, text values take the type the
    schema declares. ``components`` defaults to the shipped shared schemas.
    """
    if op.request.content_type == "application/json":
        return body
    if op.request.content_type == "multipart/form-data" and isinstance(body, dict):
        return form_view(op.request.schema, body, components or shipped_components())
    return None


async def _form(request: Request, raw: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    clone = Request(request.scope, receive=replay)
    try:
        form = await clone.form()
    except Exception as exc:  # the multipart parser raises several types for bad input
        raise BodyError(400, f"Could not parse the multipart body: {exc}") from None
    out: dict[str, Any] = {}
    uploads: dict[str, bytes] = {}
    repeated: set[str] = set()
    for name, value in form.multi_items():
        item: Any = value
        if isinstance(value, UploadFile):
            data = await value.read()
            uploads[name] = data  # a repeated file field keeps its last file's bytes here
            item = {
                "filename": value.filename or "",
                "content_type": value.content_type or "",
                "size": len(data),
            }
        if name not in out:
            out[name] = item
        elif name in repeated:
            out[name].append(item)
        else:  # a field sent several times (image[], file) is a list of its values
            out[name] = [out[name], item]
            repeated.add(name)
    return out, uploads
