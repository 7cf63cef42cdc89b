"""A Postman collection (v2.1, v2.0) in the OpenAPI 3 shape, for ``openapi.Reader``.

Postman has no schemas: each request is an operation whose examples are its body and its
saved responses (a saved response's own request is its paired request example, by name;
an SSE body is a stream example). Requests on one method and path are one operation with
several examples. ``:id`` and ``{{id}}`` path segments are parameters; ``{{baseUrl}}`` is
dropped. Where a saved response's request calls another path, the lint says so.
"""

from __future__ import annotations

import re
from typing import Any

from contracts.importer import samples
from contracts.importer.errors import SourceError
from contracts.importer.shapes import as_dict
from contracts.importer.sources import Source, pointer

Converted = tuple[dict[str, Any], dict[str, str]]
_VAR = re.compile(r"^(?::(\w+)|\{\{(\w+)\}\})$")


def convert(source: Source) -> Converted:
    """The collection as OpenAPI 3.0 and the pointer map back to its items."""
    data = source.data
    if not isinstance(data.get("item", []), list):
        raise SourceError(
            source.file, "/item", f"expected a list, got {type(data['item']).__name__}"
        )
    out: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": str((data.get("info") or {}).get("name", "")), "version": "postman"},
        "paths": {},
        "components": {"securitySchemes": {}},
    }
    pointers: dict[str, str] = {}
    _auth(data.get("auth"), out)
    for at, item, folders, auth in _requests(data.get("item") or [], "/item", [], data.get("auth")):
        _add(out, pointers, at, item, folders, auth)
    return out, pointers


def _requests(items: list[Any], at: str, folders: list[str], auth: Any) -> Any:
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        where = f"{at}/{i}"
        if isinstance(item.get("item"), list):
            yield from _requests(
                item["item"],
                f"{where}/item",
                [*folders, str(item.get("name"))],
                item.get("auth", auth),
            )
        elif isinstance(item.get("request"), dict | str):
            yield where, item, folders, item.get("auth", auth)


def url_parts(url: Any) -> tuple[str, list[str]]:
    """A request URL's path (parameters as ``{name}``) and the names of its parameters."""
    if isinstance(url, dict):
        segments = url.get("path")
        if isinstance(segments, list):
            path = "/" + "/".join(str(s) for s in segments)
        else:
            path = samples.url_path(str(url.get("raw", "")))
    else:
        path = samples.url_path(str(url or ""))
    names: list[str] = []
    parts = []
    for segment in path.split("/"):
        m = _VAR.match(segment)
        if m:
            names.append(m.group(1) or m.group(2))
            parts.append("{" + names[-1] + "}")
        else:
            parts.append(segment)
    return "/".join(parts) or "/", names


def _body(request: dict[str, Any]) -> tuple[str, Any]:
    body = as_dict(request.get("body"))
    mode = body.get("mode")
    if mode == "raw":
        value = samples.json_value(body.get("raw"))
        return ("application/json", value) if value is not None else ("none", None)
    if mode in ("formdata", "urlencoded"):
        fields = {
            str(f.get("key")): ("<binary>" if f.get("type") == "file" else f.get("value"))
            for f in body.get(mode) or []
            if isinstance(f, dict)
        }
        return "multipart/form-data", fields
    return "none", None


def _add(
    out: dict[str, Any],
    pointers: dict[str, str],
    at: str,
    item: dict[str, Any],
    folders: list[str],
    auth: Any,
) -> None:
    request = item["request"] if isinstance(item["request"], dict) else {"url": item["request"]}
    method = str(request.get("method", "GET")).lower()
    path, params = url_parts(request.get("url"))
    op_at = pointer("paths", path, method)
    op = out["paths"].setdefault(path, {}).get(method)
    name = str(item.get("name") or f"{method} {path}")
    if op is None:
        op = {
            "summary": name,
            "operationId": name,
            "tags": folders[:1],
            "parameters": [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                for p in params
            ],
            "responses": {},
            "x-relaykit-example-urls": [],
        }
        if isinstance(request.get("description"), str):
            op["description"] = request["description"]
        for header in request.get("header") or []:
            if isinstance(header, dict) and str(header.get("key", "")).lower() in (
                "authorization",
                "x-api-key",
                "mj-api-secret",
                "access-token",
            ):
                op["parameters"].append(
                    {"name": header["key"], "in": "header", "schema": {"type": "string"}}
                )
        scheme = _auth(auth, out)
        if scheme:
            op["security"] = [{scheme: []}]
        out["paths"][path][method] = op
        pointers[op_at] = at
    ctype, value = _body(request)
    responses = [r for r in item.get("response") or [] if isinstance(r, dict)]
    if value is not None and not responses:
        _example(op, "requestBody", ctype, name, value, pointers, op_at, f"{at}/request/body")
    for j, resp in enumerate(responses):
        r_at = f"{at}/response/{j}"
        label = str(resp.get("name") or f"{name} {j + 1}")
        original = resp.get("originalRequest")
        if isinstance(original, dict):
            o_path, _ = url_parts(original.get("url"))
            op["x-relaykit-example-urls"].append(
                {"path": o_path, "pointer": f"{r_at}/originalRequest/url"}
            )
            o_type, o_value = _body(original)
            if o_value is not None:
                _example(
                    op,
                    "requestBody",
                    o_type,
                    label,
                    o_value,
                    pointers,
                    op_at,
                    f"{r_at}/originalRequest/body",
                )
        elif value is not None:
            _example(op, "requestBody", ctype, label, value, pointers, op_at, f"{at}/request/body")
        _response(op, resp, label, pointers, op_at, r_at)


def _example(
    op: dict[str, Any],
    key: str,
    ctype: str,
    label: str,
    value: Any,
    pointers: dict[str, str],
    op_at: str,
    at: str,
) -> None:
    if ctype == "none":
        return
    content = op.setdefault(key, {"content": {}})["content"]
    media = content.setdefault(ctype, {"examples": {}})
    media["examples"][label] = {"value": value}
    pointers[op_at + "/" + key + pointer("content", ctype, "examples", label, "value")] = at


def _response(
    op: dict[str, Any],
    resp: dict[str, Any],
    label: str,
    pointers: dict[str, str],
    op_at: str,
    at: str,
) -> None:
    code = str(resp.get("code") or 200)
    body = resp.get("body")
    headers = {
        str(h.get("key", "")).lower(): str(h.get("value", ""))
        for h in resp.get("header") or []
        if isinstance(h, dict)
    }
    declared = headers.get("content-type", "")
    if samples.looks_like_sse(body) or "event-stream" in declared:
        ctype, value = "text/event-stream", body
    elif samples.json_value(body) is not None:
        ctype, value = "application/json", samples.json_value(body)
    else:
        ctype, value = (declared or "text/plain"), body
    entry = op["responses"].setdefault(
        code, {"description": str(resp.get("status") or label), "content": {}}
    )
    media = entry["content"].setdefault(ctype, {"examples": {}})
    media["examples"][label] = {"value": value}
    r_at = f"{op_at}/responses" + pointer(code, "content", ctype, "examples", label, "value")
    pointers[r_at] = f"{at}/body"


def _auth(auth: Any, out: dict[str, Any]) -> str | None:
    """A collection's or request's auth as a security scheme; its name."""
    if not isinstance(auth, dict):
        return None
    kind = auth.get("type")
    schemes = out["components"]["securitySchemes"]
    if kind == "bearer":
        schemes["bearer"] = {"type": "http", "scheme": "bearer"}
        return "bearer"
    if kind == "apikey":
        fields = {
            str(f.get("key")): f.get("value")
            for f in auth.get("apikey") or []
            if isinstance(f, dict)
        }
        name = str(fields.get("key") or "Authorization")
        schemes[name] = {"type": "apiKey", "in": fields.get("in") or "header", "name": name}
        return name
    if kind == "noauth":
        return None
    return None
