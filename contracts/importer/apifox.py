"""An Apifox project export (``apifoxProject``) in the OpenAPI 3 shape, for ``openapi.Reader``.

Apifox keeps its folders in ``apiCollection`` (each endpoint an ``api``: method, path,
parameters by place, ``requestBody`` with a ``jsonSchema`` and an example, ``responses`` with a
``jsonSchema`` each, and ``responseExamples`` whose ``data`` is JSON or SSE text) and its shared
schemas in ``schemaCollection``, referenced as ``#/definitions/<id>``. The first environment's
``baseUrl`` gives the base path. The pointer map leads every converted place back to the
source's.
"""

from __future__ import annotations

from typing import Any

from contracts.importer import samples
from contracts.importer.errors import SourceError
from contracts.importer.shapes import as_dict, as_list
from contracts.importer.sources import Source, pointer

Converted = tuple[dict[str, Any], dict[str, str]]
_CONTENT_TYPES = {
    "json": "application/json",
    "sse": "text/event-stream",
    "raw": "text/plain",
    "html": "text/html",
    "xml": "application/xml",
}


def _refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                "#/components/schemas/" + v[len("#/definitions/") :]
                if k == "$ref" and isinstance(v, str) and v.startswith("#/definitions/")
                else _refs(v)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_refs(v) for v in node]
    return node


def _walk(items: Any, at: str, folders: list[str]) -> Any:
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        where = f"{at}/{i}"
        if isinstance(item.get("api"), dict):
            yield where, item, folders
        if isinstance(item.get("items"), list):
            yield from _walk(item["items"], f"{where}/items", [*folders, str(item.get("name", ""))])


def _schemas(items: Any, at: str, out: dict[str, Any], pointers: dict[str, str]) -> None:
    for i, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict):
            continue
        where = f"{at}/{i}"
        schema = item.get("schema")
        if isinstance(schema, dict) and "id" in item:
            key = str(item["id"]).removeprefix("#/definitions/")
            out[key] = _refs(schema.get("jsonSchema", schema))
            pointers["/components/schemas" + pointer(key)] = where + (
                "/schema/jsonSchema" if "jsonSchema" in schema else "/schema"
            )
        if isinstance(item.get("items"), list):
            _schemas(item["items"], f"{where}/items", out, pointers)


def convert(source: Source) -> Converted:
    """The Apifox export as OpenAPI 3.0 and the pointer map back to its items."""
    data = source.data
    if not isinstance(data.get("apiCollection", []), list):
        raise SourceError(
            source.file,
            "/apiCollection",
            f"expected a list, got {type(data['apiCollection']).__name__}",
        )
    pointers: dict[str, str] = {}
    schemas: dict[str, Any] = {}
    _schemas(data.get("schemaCollection"), "/schemaCollection", schemas, pointers)
    out: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {"title": str((data.get("info") or {}).get("name", "")), "version": "apifox"},
        "paths": {},
        "components": {"schemas": schemas},
    }
    envs = [e for e in data.get("environments") or [] if isinstance(e, dict)]
    if envs and isinstance(envs[0].get("baseUrl"), str):
        out["servers"] = [{"url": envs[0]["baseUrl"]}]
    for at, item, folders in _walk(data.get("apiCollection"), "/apiCollection", []):
        api = item["api"]
        method = str(api.get("method", "get")).lower()
        path = str(api.get("path", "/"))
        op_at = pointer("paths", path, method)
        op = _operation(api, item, folders, at, op_at, pointers)
        existing = out["paths"].get(path, {}).get(method)
        if existing is None:
            out["paths"].setdefault(path, {})[method] = op
            pointers[op_at] = f"{at}/api"
        else:  # relays document one endpoint on several pages (streamed, not streamed...)
            _merge(existing, op)
    return out, pointers


def _merge(into: dict[str, Any], op: dict[str, Any]) -> None:
    """Another page of the same endpoint: its examples join the first page's operation."""
    for ctype, media in (op.get("requestBody") or {}).get("content", {}).items():
        target = into.setdefault("requestBody", {"content": {}})["content"].setdefault(ctype, {})
        for key, value in (media.get("examples") or {}).items():
            target.setdefault("examples", {}).setdefault(key, value)
    for code, resp in op.get("responses", {}).items():
        entry = into["responses"].setdefault(
            code, {"description": resp.get("description", ""), "content": {}}
        )
        for ctype, media in resp.get("content", {}).items():
            target = entry.setdefault("content", {}).setdefault(ctype, {})
            if "schema" in media:
                target.setdefault("schema", media["schema"])
            for key, value in (media.get("examples") or {}).items():
                target.setdefault("examples", {}).setdefault(key, value)


def _operation(
    api: dict[str, Any],
    item: dict[str, Any],
    folders: list[str],
    at: str,
    op_at: str,
    pointers: dict[str, str],
) -> dict[str, Any]:
    a = f"{at}/api"
    op: dict[str, Any] = {
        "summary": str(item.get("name") or api.get("name") or ""),
        "tags": [str(t) for t in api.get("tags") or []] or folders[-1:],
        "responses": {},
    }
    for key in ("operationId", "description"):
        if api.get(key):
            op[key] = api[key]
    params = []
    common = as_dict(api.get("commonParameters"))  # the project's shared headers (the key)
    for place in ("path", "query", "header"):
        own = as_list(as_dict(api.get("parameters")).get(place))
        shared = as_list(common.get(place)) if place == "header" else []
        for p in [*own, *shared]:
            if isinstance(p, dict) and p.get("name") and p.get("enable", True) is not False:
                schema = _refs(p.get("schema")) or {"type": p.get("type") or "string"}
                params.append(
                    {
                        "name": p["name"],
                        "in": place,
                        "required": bool(p.get("required") or place == "path"),
                        "schema": schema,
                        **({"example": p["example"]} if "example" in p else {}),
                    }
                )
    if params:
        op["parameters"] = params
    body = as_dict(api.get("requestBody"))
    ctype = str(body.get("type") or "none")
    request_examples: list[tuple[str, Any, str]] = []
    if ctype == "application/json":
        media: dict[str, Any] = {"schema": _refs(body.get("jsonSchema") or {})}
        pointers[op_at + "/requestBody/content/application~1json/schema"] = (
            f"{a}/requestBody/jsonSchema"
        )
        if "example" in body:
            request_examples.append(("example", body["example"], f"{a}/requestBody/example"))
        for i, ex in enumerate(body.get("examples") or []):
            if isinstance(ex, dict) and "value" in ex:
                request_examples.append(
                    (
                        str(ex.get("name") or f"example-{i + 1}"),
                        ex["value"],
                        f"{a}/requestBody/examples/{i}/value",
                    )
                )
        op["requestBody"] = {"content": {"application/json": media}}
    elif ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        props = {
            str(p.get("name")): (
                {"type": "string", "format": "binary"}
                if p.get("type") == "file"
                else {"type": "string"}
            )
            for p in body.get("parameters") or []
            if isinstance(p, dict)
        }
        op["requestBody"] = {
            "content": {ctype: {"schema": {"type": "object", "properties": props}}}
        }
    by_id: dict[str, str] = {}
    for i, resp in enumerate(api.get("responses") or []):
        if not isinstance(resp, dict):
            continue
        code = str(resp.get("code") or 200)
        rtype = _CONTENT_TYPES.get(
            str(resp.get("contentType") or "json"), str(resp.get("contentType"))
        )
        entry = op["responses"].setdefault(
            code, {"description": str(resp.get("name") or ""), "content": {}}
        )
        entry["content"][rtype] = {"schema": _refs(resp.get("jsonSchema") or {})}
        pointers[f"{op_at}/responses" + pointer(code, "content", rtype, "schema")] = (
            f"{a}/responses/{i}/jsonSchema"
        )
        by_id[str(resp.get("id"))] = code
    answers: list[str] = []
    for j, ex in enumerate(api.get("responseExamples") or []):
        if not isinstance(ex, dict):
            continue
        code = by_id.get(str(ex.get("responseId")), next(iter(op["responses"]), "200"))
        text = ex.get("data")
        value = samples.json_value(text) if isinstance(text, str) else text
        rtype = "text/event-stream" if samples.looks_like_sse(text) else "application/json"
        name = str(ex.get("name") or f"example-{j + 1}")
        if not answers and code.startswith("2"):
            name = op["summary"] or name  # the page's name pairs its request and its answer
        entry = op["responses"].setdefault(code, {"description": "", "content": {}})
        media = entry["content"].setdefault(rtype, {})
        media.setdefault("examples", {})[name] = {
            "value": text if rtype == "text/event-stream" else value
        }
        pointers[
            f"{op_at}/responses" + pointer(code, "content", rtype, "examples", name, "value")
        ] = f"{a}/responseExamples/{j}/data"
        if code.startswith("2"):
            answers.append(name)
    if request_examples:
        media = op["requestBody"]["content"]["application/json"]
        media["examples"] = {}
        for i, (name, value, where) in enumerate(request_examples):
            if len(request_examples) == 1:  # one request, its documented answer: a pair
                name = answers[0] if answers else op["summary"] or name
            parsed = samples.json_value(value) if isinstance(value, str) else value
            media["examples"][name] = {"value": parsed if parsed is not None else value}
            pointers[
                op_at
                + "/requestBody/content/application~1json"
                + pointer("examples", name, "value")
            ] = where
            del i
    return op
