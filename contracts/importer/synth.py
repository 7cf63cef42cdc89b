"""A deterministic example made from a JSON Schema, for documents that give none.

The document's own values come first (``const``, ``examples``, ``default``, the first
``enum``); otherwise the smallest value of the type that respects the schema's bounds, with
the required properties of objects and one item in arrays. The caller validates the result
and drops it when it does not fit (a schema can ask for what this cannot make).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.importer.shapes import as_dict

SHARED_PREFIX = "#/components/schemas/"
MAX_DEPTH = 12
STRING_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "binary": "<binary application/octet-stream>",
    "byte": "cmVsYXlraXQ=",
}


def candidates(schema: Any, components: Mapping[str, Any]) -> Any:
    """Values to try for ``schema``, the likeliest first: the plain instance, every property,
    then each alternative of a top-level ``oneOf`` / ``anyOf`` (where the first alternative's
    instance also fits a second one, ``oneOf`` refuses it)."""
    yield instance(schema, components)
    yield instance(schema, components, full=True)
    resolved = schema
    while isinstance(resolved, dict) and isinstance(resolved.get("$ref"), str):
        resolved = components.get(resolved["$ref"][len(SHARED_PREFIX) :])
    for key in ("oneOf", "anyOf"):
        options = resolved.get(key) if isinstance(resolved, dict) else None
        for option in options if isinstance(options, list) else []:
            rest = {k: v for k, v in resolved.items() if k != key}
            yield instance(
                {**rest, **option} if isinstance(option, dict) else option, components, full=True
            )
            yield instance({**rest, **option} if isinstance(option, dict) else option, components)


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


def fits_type(value: Any, schema: Any) -> bool:
    """True when ``value`` has a type ``schema`` allows (its ``type`` keyword alone)."""
    kind = schema.get("type") if isinstance(schema, dict) else None
    kinds = [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else None
    if not kinds:
        return True
    for k in kinds:
        if k == "null" and value is None:
            return True
        allowed = _TYPES.get(str(k), ())
        if isinstance(value, allowed) and not (isinstance(value, bool) and bool not in allowed):
            return True
    return False


def instance(schema: Any, components: Mapping[str, Any], depth: int = 0, full: bool = False) -> Any:
    """A value for ``schema`` (None when nothing better can be made); ``full``: every
    property of objects, not only the required ones."""
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(SHARED_PREFIX):
        return instance(components.get(ref[len(SHARED_PREFIX) :]), components, depth + 1, full)
    if "const" in schema:
        return schema["const"]
    given = [
        *(schema.get("examples") or [] if isinstance(schema.get("examples"), list) else []),
        *([schema["example"]] if "example" in schema else []),
        *([schema["default"]] if "default" in schema else []),
        *(schema.get("enum") or [] if isinstance(schema.get("enum"), list) else []),
    ]
    for value in given:
        if fits_type(value, schema):
            return value
    if isinstance(schema.get("allOf"), list):
        return _all_of(schema, components, depth, full)
    for key in ("oneOf", "anyOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            chosen = next((o for o in options if not _is_null(o)), options[0])
            merged = {k: v for k, v in schema.items() if k != key}
            value = instance(chosen, components, depth + 1, full)
            if merged.get("type") == "object" and isinstance(value, dict):
                base = _object(merged, components, depth, full)
                return {**base, **value}
            return value
    return _typed(schema, components, depth, full)


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") == "null"


def _all_of(schema: dict[str, Any], components: Mapping[str, Any], depth: int, full: bool) -> Any:
    rest = {k: v for k, v in schema.items() if k != "allOf"}
    parts = [instance(s, components, depth + 1, full) for s in schema["allOf"]]
    if rest.get("properties") or rest.get("type") == "object":
        parts.insert(0, _object(rest, components, depth, full))
    objects = [p for p in parts if isinstance(p, dict)]
    if objects and len(objects) == len([p for p in parts if p is not None]):
        merged: dict[str, Any] = {}
        for part in objects:
            merged.update(part)
        return merged
    return next((p for p in parts if p is not None), None)


def _typed(schema: dict[str, Any], components: Mapping[str, Any], depth: int, full: bool) -> Any:
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        if "properties" in schema or "required" in schema:
            kind = "object"
        elif "items" in schema:
            kind = "array"
        else:
            return None
    if kind == "object":
        return _object(schema, components, depth, full)
    if kind == "array":
        item = instance(schema.get("items"), components, depth + 1, full)
        count = max(1, int(schema.get("minItems", 1) or 1))
        return [] if item is None and not schema.get("minItems") else [item] * count
    if kind == "string":
        return _string(schema)
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return False
    return None


def _object(
    schema: dict[str, Any], components: Mapping[str, Any], depth: int, full: bool = False
) -> dict[str, Any]:
    props = as_dict(schema.get("properties"))
    required = [r for r in schema.get("required", []) if isinstance(r, str)]
    names = list(dict.fromkeys([*required, *(props if full else [])]))
    out: dict[str, Any] = {}
    for name in names:
        value = instance(props.get(name, {}), components, depth + 1, full)
        if value is None and name not in required:
            continue
        out[name] = "" if value is None and name not in props else value
    return out


def _string(schema: dict[str, Any]) -> str:
    text = STRING_FORMATS.get(str(schema.get("format", "")), "string")
    low = int(schema.get("minLength", 0) or 0)
    high = schema.get("maxLength")
    if len(text) < low:
        text = text + "x" * (low - len(text))
    if isinstance(high, int) and len(text) > high:
        text = text[:high]
    return text


def _number(schema: dict[str, Any], kind: str) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value: float = 0
    if isinstance(low, int | float):
        value = low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    elif isinstance(high, int | float) and high < 0:
        value = high - (1 if "exclusiveMaximum" in schema and "maximum" not in schema else 0)
    multiple = schema.get("multipleOf")
    if isinstance(multiple, int | float) and multiple > 0 and value % multiple:
        value = (value // multiple + 1) * multiple
    return int(value) if kind == "integer" else float(value)
