"""Compile the contracts into one OpenAPI 3.1 document.

Operations that share a method and path become one OpenAPI operation whose request and
response schemas are the union (``anyOf``) of theirs; ``x-relaykit-operations`` lists them.
Streams are ``text/event-stream`` with the event schema under ``x-relaykit-event-schema``
(OpenAPI 3.1 has no keyword for an event's schema) and their examples as SSE text. Examples
are named ``<operation id>.<example name>``; where operations were merged,
``x-relaykit-modes`` says how a request selects each (its ``match``, ``priority`` and stream
mode), which is what ``relaykit contracts import`` needs to split them again. Shared schemas
become components.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

import orjson

from contracts.model import ContractSet, Example, Operation, StreamFlag
from contracts.paths import template
from contracts.wire import sse
from contracts.wire.auth import BEARER, SCHEMES
from contracts.wire.mediatype import is_json, is_text
from contracts.wire.sse import MEDIA_TYPE as EVENT_STREAM

OPENAPI_VERSION = "3.1.0"
BINARY = {"type": "string", "format": "binary"}
TEXT = {"type": "string"}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    name: (
        {"type": "http", "scheme": "bearer", "description": f"{s.param}: {s.prefix}<key>"}
        if s is BEARER
        else {"type": "apiKey", "in": s.location, "name": s.param}
    )
    for name, s in SCHEMES.items()
}


def _union(schemas: Iterable[Any]) -> Any:
    unique: list[Any] = []
    for s in schemas:
        if s is not None and s not in unique:
            unique.append(s)
    if not unique:
        return None
    return unique[0] if len(unique) == 1 else {"anyOf": unique}


def _operation_id(method: str, path: str, ops: list[Operation]) -> str:
    if len(ops) == 1:
        return ops[0].id
    slug = re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
    return f"{method.lower()}_{slug}"


def _parameters(ops: list[Operation], path: str) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name in template(path).names:
        schema = next(
            (op.path_params[name] for op in ops if name in op.path_params), {"type": "string"}
        )
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    query = _union(op.query for op in ops)
    if isinstance(query, dict):
        required = set(query.get("required", []))
        for name, schema in query.get("properties", {}).items():
            params.append(
                {"name": name, "in": "query", "required": name in required, "schema": schema}
            )
    return params


def _request_body(ops: list[Operation]) -> dict[str, Any] | None:
    content: dict[str, Any] = {}
    for ctype in dict.fromkeys(
        op.request.content_type for op in ops if op.request.content_type != "none"
    ):
        same = [op for op in ops if op.request.content_type == ctype]
        media: dict[str, Any] = {
            "schema": _union(op.request.schema for op in same) or {"type": "object"}
        }
        examples = {
            f"{op.id}.{ex.name}": {"summary": ex.summary or op.summary, "value": ex.value}
            for op in same
            for ex in op.request.examples
            if ex.servable
        }
        if examples and ctype == "application/json":
            media["examples"] = examples
        content[ctype] = media
    return {"required": True, "content": content} if content else None


def _success(ops: list[Operation]) -> dict[str, dict[str, Any]]:
    responses: dict[str, dict[str, Any]] = {}
    for op in ops:
        entry = responses.setdefault(
            str(op.response.status), {"description": "Success", "content": {}}
        )
        content = entry["content"]
        if op.response.schema is not None:
            media = content.setdefault(op.response.content_type, {"schemas": [], "examples": {}})
            media["schemas"].append(op.response.schema)
            media["examples"].update(_named(op, op.response.examples, lambda v: v))
        if op.stream is not None:
            media = content.setdefault(EVENT_STREAM, {"events": [], "examples": {}})
            if op.stream.when == "requested" and op.stream.asked_by != StreamFlag():
                media.setdefault("asked_by", op.stream.asked_by.to_yaml())
            media["events"].append(
                op.stream.event_schema or {"x-relaykit-named-events": dict(op.stream.events)}
            )
            media["examples"].update(_named(op, op.stream.examples, functools.partial(_sse, op)))
        if op.response.schema is None and not op.streams_always:
            content.setdefault(op.response.content_type, {"schemas": [], "examples": {}})
        for alternative in op.response.alternatives:  # text/plain transcripts, image/* bytes...
            content.setdefault(alternative, {"schemas": [], "examples": {}})
    for entry in responses.values():
        for ctype, media in list(entry["content"].items()):
            if "events" in media:
                entry["content"][ctype] = {
                    "schema": {"type": "string", "description": "A server-sent event stream."},
                    "x-relaykit-event-schema": _union(media["events"]),
                }
                if "asked_by" in media:  # what asks for the stream, when not stream: true
                    entry["content"][ctype]["x-relaykit-stream-asked-by"] = media["asked_by"]
            else:
                schema = _union(media["schemas"])
                if schema is None:
                    schema = TEXT if is_text(ctype) and not is_json(ctype) else BINARY
                entry["content"][ctype] = {"schema": schema}
            if media["examples"] and entry["content"][ctype]["schema"] != BINARY:
                entry["content"][ctype]["examples"] = media["examples"]
    return responses


def _named(op: Operation, examples: Iterable[Example], value: Any) -> dict[str, Any]:
    return {
        f"{op.id}.{ex.name}": {"summary": ex.summary or op.summary, "value": value(ex.value)}
        for ex in examples
        if ex.servable
    }


def _sse(op: Operation, events: list[Any]) -> str:
    """A stream example as the text on the wire."""
    assert op.stream is not None
    frames = []
    for event in events:
        if op.stream.framing == "sse-named":
            frames.append(sse.encode(orjson.dumps(event["data"]).decode(), event["event"]))
        else:
            frames.append(sse.encode(orjson.dumps(event).decode()))
    if op.stream.terminator is not None:
        frames.append(sse.encode(op.stream.terminator))
    return b"".join(frames).decode()


def _modes(ops: list[Operation]) -> list[dict[str, Any]]:
    """How a request selects each of the merged operations (for a lossless import)."""
    return [
        {
            "id": op.id,
            "family": op.family,
            "summary": op.summary,
            "match": {c.field: c.value if c.op == "equals" else {c.op: c.value} for c in op.match},
            "priority": op.priority,
            "stream": op.stream.when if op.stream else None,
        }
        for op in ops
    ]


def _errors(ops: list[Operation], contracts: ContractSet) -> dict[str, dict[str, Any]]:
    envelope = contracts.envelopes[ops[0].errors.envelope]
    statuses = sorted({400, 401} | {e.status for op in ops for e in op.errors.documented})
    out: dict[str, dict[str, Any]] = {}
    for status in statuses:
        whens = [
            e.when for op in ops for e in op.errors.documented if e.status == status and e.when
        ]
        out[str(status)] = {
            "description": "; ".join(dict.fromkeys(whens))
            or str(envelope.statuses.get(status, {}).get("message", "Error")),
            "content": {"application/json": {"schema": envelope.schema}},
        }
    out["default"] = {
        "description": f"Any other error, in the {envelope.name} envelope",
        "content": {"application/json": {"schema": envelope.schema}},
    }
    return out


def to_openapi(
    contracts: ContractSet,
    title: str = "relaykit: OpenAI-compatible relay contracts",
    server_url: str | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document for every operation of ``contracts``."""
    grouped: dict[tuple[str, str], list[Operation]] = {}
    for op in contracts:
        grouped.setdefault((op.path, op.method), []).append(op)
    paths: dict[str, dict[str, Any]] = {}
    for (path, method), ops in grouped.items():
        schemes = list(dict.fromkeys(s for op in ops for s in op.auth if s != "none"))
        operation: dict[str, Any] = {
            "operationId": _operation_id(method, path, ops),
            "summary": ops[0].summary
            if len(ops) == 1
            else f"{len(ops)} operations: " + ", ".join(o.id for o in ops),
            "tags": list(dict.fromkeys(op.family for op in ops)),
            "x-relaykit-operations": [op.id for op in ops],
            **({"x-relaykit-modes": _modes(ops)} if len(ops) > 1 else {}),
            "responses": {**_success(ops), **_errors(ops, contracts)},
        }
        if schemes:
            operation["security"] = [{s: []} for s in schemes]
        params = _parameters(ops, path)
        if params:
            operation["parameters"] = params
        body = _request_body(ops)
        if body:
            operation["requestBody"] = body
        paths.setdefault(path, {})[method.lower()] = operation
    doc: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": title,
            "version": "1.0.0",
            "description": "Generated by relaykit from its contracts; do not edit by hand.",
        },
        "paths": paths,
        "components": {"schemas": dict(contracts.components), "securitySchemes": SECURITY_SCHEMES},
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
