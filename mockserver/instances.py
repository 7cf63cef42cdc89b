"""Build a small instance that satisfies a JSON Schema: tool-call arguments, JSON-mode content.

Deterministic and minimal: required properties only, the first enum value, the lower bound of
a range. Good enough for the schemas clients send with tools and response_format; anything it
cannot satisfy is reported to the caller, which falls back to the example.
"""

from __future__ import annotations

from typing import Any

_MAX_DEPTH = 12


def instance_for(schema: Any, root: Any | None = None, depth: int = 0) -> Any:
    """A value valid against ``schema`` (best effort; the caller validates it)."""
    root = schema if root is None else root
    if depth > _MAX_DEPTH or not isinstance(schema, dict):
        return None
    if "$ref" in schema:
        return instance_for(_resolve(root, schema["$ref"]), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    if schema.get("examples"):
        return schema["examples"][0]
    for key in ("oneOf", "anyOf"):
        if schema.get(key):
            return instance_for(schema[key][0], root, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            part = _resolve(root, part["$ref"]) if "$ref" in part else part
            for k, v in part.items():
                if k in ("properties",) and k in merged:
                    merged[k] = {**merged[k], **v}
                elif k == "required" and k in merged:
                    merged[k] = [*merged[k], *v]
                else:
                    merged[k] = v
        return instance_for(merged, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    return _by_type(kind, schema, root, depth)


def _by_type(kind: str, schema: dict[str, Any], root: Any, depth: int) -> Any:
    if kind == "object":
        props = schema.get("properties", {})
        required = schema.get("required") or list(props)[:1]
        return {name: instance_for(props.get(name, {}), root, depth + 1) for name in required}
    if kind == "array":
        n = max(int(schema.get("minItems", 1)), 1)
        item = instance_for(schema.get("items", {"type": "string"}), root, depth + 1)
        return [item] * n
    if kind == "string":
        fmt = schema.get("format")
        text = {
            "date": "2025-01-01",
            "date-time": "2025-01-01T00:00:00Z",
            "email": "user@example.com",
            "uri": "https://example.com/",
            "uuid": "00000000-0000-4000-8000-000000000000",
        }.get(fmt or "", "sample")
        min_len = int(schema.get("minLength", 0))
        if len(text) < min_len:
            text = text + "x" * (min_len - len(text))
        if "maxLength" in schema:
            text = text[: int(schema["maxLength"])]
        return text
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = low + (1 if "exclusiveMinimum" in schema else 0)
        if "maximum" in schema and value > schema["maximum"]:
            value = schema["maximum"]
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    return None


def _resolve(root: Any, ref: str) -> Any:
    if not ref.startswith("#/"):
        return {}
    node = root
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return {}
        node = node[part]
    return node
