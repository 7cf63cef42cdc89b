"""Multipart forms as the request schema sees them: files as placeholders, values typed.

A form carries only strings and files. The request schema types its fields (integer n, boolean
stream, a JSON object...), so the form is turned into the instance the schema means: each file
becomes the placeholder string the contracts' examples use (schemas type files
``{type: string, format: binary}``), each text value is parsed as the type the schema declares
for that field, and a field sent several times (``image[]``) is a list.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from contracts.validation import REF_PREFIX

_INTEGER = re.compile(r"^[+-]?\d+$")
_JSON_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
    (type(None), "null"),
)


@functools.cache
def shipped_components() -> Mapping[str, Any]:
    """The shared schemas every loaded contract set uses (contracts/schemas)."""
    from contracts.loader import load_components  # the first form only: the loader is heavy

    return load_components()


def is_file(value: Any) -> bool:
    """True for the description of an uploaded file that ``read_body`` puts in a form."""
    return isinstance(value, dict) and {"filename", "content_type", "size"} <= value.keys()


def _branches(schema: Any, components: Mapping[str, Any], depth: int = 0) -> Iterator[Any]:
    """The schema and every subschema that applies alongside it ($ref, allOf, anyOf...)."""
    if not isinstance(schema, dict) or depth > 20:
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIX):
        yield from _branches(components.get(ref[len(REF_PREFIX) :]), components, depth + 1)
    yield schema
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            yield from _branches(sub, components, depth + 1)
    for key in ("then", "else"):
        yield from _branches(schema.get(key), components, depth + 1)


def property_schemas(schema: Any, name: str, components: Mapping[str, Any]) -> list[Any]:
    """Every schema the object ``schema`` gives its property ``name``, refs resolved."""
    found: list[Any] = []
    for branch in _branches(schema, components):
        prop = (branch.get("properties") or {}).get(name)
        if prop is not None:
            found.extend(_branches(prop, components))
    return found


def item_schemas(schemas: list[Any], components: Mapping[str, Any]) -> list[Any]:
    """The ``items`` schemas of array schemas, refs resolved."""
    return [s for schema in schemas for s in _branches(schema.get("items"), components)]


def declared_types(schemas: list[Any]) -> set[str]:
    """The JSON types the schemas allow, from ``type`` or the values of ``enum``/``const``."""
    types: set[str] = set()
    for schema in schemas:
        declared = schema.get("type")
        if isinstance(declared, str):
            types.add(declared)
        elif isinstance(declared, list):
            types.update(t for t in declared if isinstance(t, str))
        values = list(schema.get("enum") or []) + ([schema["const"]] if "const" in schema else [])
        for value in values:
            types.add(next(name for kind, name in _JSON_TYPES if isinstance(value, kind)))
    return types


def schema_default(schemas: list[Any]) -> Any:
    """The first ``default`` the schemas declare, or None."""
    return next((s["default"] for s in schemas if "default" in s), None)


def is_binary(schemas: list[Any], components: Mapping[str, Any]) -> bool:
    """True when the property is a file (``format: binary``, or an array of them)."""
    if any(s.get("format") == "binary" for s in schemas):
        return True
    return any(s.get("format") == "binary" for s in item_schemas(schemas, components))


def coerce(value: str, schemas: list[Any], components: Mapping[str, Any]) -> Any:
    """A form value as the type its schema declares; unchanged when it does not parse."""
    types = declared_types(schemas)
    if not types or "string" in types:
        return value
    text = value.strip()
    if "integer" in types and _INTEGER.match(text):
        return int(text)
    if "number" in types:
        number = _number(text)
        if number is not None:
            return number
    if "boolean" in types and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "null" in types and text in ("", "null"):
        return None
    if types & {"object", "array"} and text[:1] in ("{", "["):
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            return value
        if isinstance(parsed, dict) and "object" in types:
            return parsed
        if isinstance(parsed, list) and "array" in types:
            return parsed
    if "array" in types:
        return [coerce(value, item_schemas(schemas, components), components)]
    return value


def _number(text: str) -> int | float | None:
    if _INTEGER.match(text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def placeholder(file: Mapping[str, Any]) -> str:
    """The string a file stands as, like the examples' ``<binary image/png>``."""
    return f"<binary {file.get('content_type') or 'application/octet-stream'}>"


def form_view(schema: Any, form: Mapping[str, Any], components: Mapping[str, Any]) -> Any:
    """The form as the instance ``schema`` checks: placeholders for files, typed values."""
    view: dict[str, Any] = {}
    for name, value in form.items():
        schemas = property_schemas(schema, name, components)
        is_array = "array" in declared_types(schemas)
        if isinstance(value, list):  # the field was sent several times
            items = item_schemas(schemas, components) if is_array else schemas
            view[name] = [_typed(part, items, components) for part in value]
        elif is_array and is_file(value):
            view[name] = [placeholder(value)]
        else:
            view[name] = _typed(value, schemas, components)
    return view


def _typed(part: Any, schemas: list[Any], components: Mapping[str, Any]) -> Any:
    if is_file(part):
        return placeholder(part)
    return coerce(part, schemas, components) if isinstance(part, str) else part
