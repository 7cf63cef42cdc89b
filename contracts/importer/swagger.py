"""Swagger 2 in the OpenAPI 3 shape, for ``openapi.Reader``.

No maintained Python converter exists (swagger2openapi is JavaScript), so this is a small one,
for what an import reads: servers from host/basePath, ``definitions`` as component schemas,
body and form parameters as request bodies, responses with content per ``produces``, and
security definitions. The pointer map leads every converted place back to the source's.
"""

from __future__ import annotations

from typing import Any

from contracts.importer.shapes import as_dict
from contracts.importer.sources import Source, pointer

Converted = tuple[dict[str, Any], dict[str, str]]
METHODS = ("get", "post", "put", "patch", "delete")
_REFS = {
    "#/definitions/": "#/components/schemas/",
    "#/parameters/": "#/components/parameters/",
    "#/responses/": "#/components/responses/",
}
_PARAM_SCHEMA_KEYS = (
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
)


def _refs(node: Any) -> Any:
    """Every ``$ref`` rewritten to its OpenAPI 3 place."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                for old, new in _REFS.items():
                    if value.startswith(old):
                        value = new + value[len(old) :]
                out[key] = value
            else:
                out[key] = _refs(value)
        return out
    if isinstance(node, list):
        return [_refs(v) for v in node]
    return node


def convert(source: Source) -> Converted:
    """The Swagger 2 document as OpenAPI 3.0, and the pointer map back to the source."""
    doc: dict[str, Any] = _refs(source.data)
    pointers: dict[str, str] = {}
    out: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": doc.get("info", {}),
        "paths": {},
        "components": {
            "schemas": doc.get("definitions") or {},
            "parameters": {
                k: _parameter(v)
                for k, v in (doc.get("parameters") or {}).items()
                if isinstance(v, dict) and v.get("in") not in ("body", "formData")
            },
            "responses": {
                k: _response(v, doc.get("produces") or ["application/json"])
                for k, v in (doc.get("responses") or {}).items()
                if isinstance(v, dict)
            },
            "securitySchemes": {
                k: _scheme(v) for k, v in (doc.get("securityDefinitions") or {}).items()
            },
        },
    }
    pointers["/components/schemas"] = "/definitions"
    pointers["/components/securitySchemes"] = "/securityDefinitions"
    if doc.get("basePath") or doc.get("host"):
        scheme = (doc.get("schemes") or ["https"])[0]
        host = doc.get("host", "")
        out["servers"] = [
            {
                "url": f"{scheme}://{host}{doc.get('basePath', '')}"
                if host
                else str(doc.get("basePath"))
            }
        ]
    if "security" in doc:
        out["security"] = doc["security"]
    consumes = doc.get("consumes") or ["application/json"]
    produces = doc.get("produces") or ["application/json"]
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        new_item: dict[str, Any] = {}
        shared = item.get("parameters", [])
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            at = pointer("paths", path, method)
            new_item[method] = _operation(op, shared, at, consumes, produces, pointers)
        out["paths"][path] = new_item
    return out, pointers


def _operation(
    op: dict[str, Any],
    shared: list[Any],
    at: str,
    consumes: list[str],
    produces: list[str],
    pointers: dict[str, str],
) -> dict[str, Any]:
    new = {
        k: v for k, v in op.items() if k not in ("parameters", "responses", "consumes", "produces")
    }
    params: list[Any] = []
    form: dict[str, Any] = {"type": "object", "properties": {}}
    body: dict[str, Any] | None = None
    op_consumes = op.get("consumes") or consumes
    for i, param in enumerate([*shared, *op.get("parameters", [])]):
        if not isinstance(param, dict) or "$ref" in param:
            params.append(param)
            continue
        where = param.get("in")
        if where == "body":
            media = {"schema": param.get("schema", {})}
            if "x-examples" in param and isinstance(param["x-examples"], dict):
                media["examples"] = {k: {"value": v} for k, v in param["x-examples"].items()}
            ctype = next((c for c in op_consumes if "json" in c), op_consumes[0])
            body = {"content": {ctype: media}}
            pointers[f"{at}/requestBody" + pointer("content", ctype)] = f"{at}/parameters/{i}"
        elif where == "formData":
            form["properties"][param.get("name", "")] = _param_schema(param)
            if param.get("required"):
                form.setdefault("required", []).append(param.get("name", ""))
        else:
            params.append(_parameter(param))
    if form["properties"]:
        ctype = next(
            (c for c in op_consumes if c.startswith(("multipart/", "application/x-"))),
            "multipart/form-data",
        )
        body = {"content": {ctype: {"schema": form}}}
    if params:
        new["parameters"] = params
    if body:
        new["requestBody"] = body
    op_produces = op.get("produces") or produces
    new["responses"] = {}
    for code, resp in (op.get("responses") or {}).items():
        if isinstance(resp, dict):
            new["responses"][str(code)] = _response(resp, op_produces)
            for ctype in op_produces:
                base = f"{at}/responses" + pointer(str(code))
                pointers[base + pointer("content", ctype, "schema")] = base + "/schema"
                pointers[base + pointer("content", ctype, "example")] = base + pointer(
                    "examples", ctype
                )
    return new


def _param_schema(param: dict[str, Any]) -> dict[str, Any]:
    return {k: param[k] for k in _PARAM_SCHEMA_KEYS if k in param}


def _parameter(param: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in param.items() if k not in _PARAM_SCHEMA_KEYS and k != "x-example"}
    out["schema"] = _param_schema(param) or {"type": "string"}
    if "x-example" in param:
        out["example"] = param["x-example"]
    return out


def _response(resp: dict[str, Any], produces: list[str]) -> dict[str, Any]:
    if "$ref" in resp:
        return resp
    out: dict[str, Any] = {"description": resp.get("description", "")}
    examples = as_dict(resp.get("examples"))
    content: dict[str, Any] = {}
    for ctype in produces:
        media: dict[str, Any] = {}
        if "schema" in resp:
            media["schema"] = resp["schema"]
        if ctype in examples:
            media["example"] = examples[ctype]
        if media:
            content[ctype] = media
    if content:
        out["content"] = content
    return out


def _scheme(scheme: Any) -> Any:
    if not isinstance(scheme, dict):
        return scheme
    kind = scheme.get("type")
    if kind == "basic":
        return {"type": "http", "scheme": "basic"}
    if kind == "oauth2":
        return {"type": "oauth2", "flows": {}}
    return scheme
