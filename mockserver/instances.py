"""Build a small instance that satisfies a JSON Schema: tool-call arguments, JSON-mode content.

Deterministic and minimal: required properties (more up to ``minProperties``), the first enum
value, the lower bound of a range (on its ``multipleOf`` step; the middle of two exclusive
bounds), distinct items under ``uniqueItems``, a short string that matches a ``pattern``
(found by hypothesis, derandomized, once per pattern). Good enough for the schemas clients send
with tools and response_format; the caller validates what it gets.
"""

from __future__ import annotations

import functools
import math
import re
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
        names = list(schema.get("required") or list(props)[:1])
        extra = [p for p in props if p not in names]
        names += extra[: max(0, int(schema.get("minProperties", 0)) - len(names))]
        return {name: instance_for(props.get(name, {}), root, depth + 1) for name in names}
    if kind == "array":
        n = max(int(schema.get("minItems", 1)), 1)
        item = instance_for(schema.get("items", {"type": "string"}), root, depth + 1)
        if schema.get("uniqueItems") and n > 1:
            return [_variant(item, k) for k in range(n)]
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
        max_len = int(schema["maxLength"]) if "maxLength" in schema else None
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and not _fits(pattern, text, min_len, max_len):
            return matching(pattern, min_len, max_len) or text
        if len(text) < min_len:
            text = text + "x" * (min_len - len(text))
        return text if max_len is None else text[:max_len]
    if kind in ("integer", "number"):
        return _number(kind, schema)
    if kind == "boolean":
        return True
    return None


def _number(kind: str, schema: dict[str, Any]) -> int | float:
    """The lowest number in range (integers on a multipleOf step); a number strictly between
    exclusive bounds when both are given."""
    low, high = schema.get("minimum"), schema.get("maximum")
    low_x, high_x = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    step = schema.get("multipleOf")
    floor = max((b for b in (low, low_x) if isinstance(b, int | float)), default=0)
    ceiling = min((b for b in (high, high_x) if isinstance(b, int | float)), default=None)
    if kind == "number" and low_x is not None and ceiling is not None:
        return (float(floor) + float(ceiling)) / 2
    if isinstance(step, int | float) and step > 0:
        value: float = math.ceil(floor / step) * step
        if low_x is not None and value <= low_x:
            value += step
    else:
        value = math.floor(floor) + 1 if low_x is not None and floor == low_x else floor
        value = math.ceil(value) if kind == "integer" else value
    if ceiling is not None and value > ceiling:
        value = ceiling
    return int(value) if kind == "integer" else float(value)


def _variant(item: Any, k: int) -> Any:
    """The k-th of distinct items built from one (for uniqueItems)."""
    if isinstance(item, bool) or item is None:
        return item
    if isinstance(item, int | float):
        return item + k
    if isinstance(item, str):
        return f"{item}{k}" if k else item
    if isinstance(item, dict):
        return {**item, "_": k} if k else item
    return item


def _fits(pattern: str, text: str, min_len: int, max_len: int | None) -> bool:
    try:
        found = re.search(pattern, text) is not None
    except re.error:
        return True  # not a pattern Python reads: nothing to aim for
    return found and len(text) >= min_len and (max_len is None or len(text) <= max_len)


@functools.lru_cache(maxsize=256)
def matching(pattern: str, min_len: int = 0, max_len: int | None = None) -> str | None:
    """A short printable string the pattern matches within the length bounds, or None.

    hypothesis searches (derandomized, no shrinking: tens of milliseconds, once per pattern);
    imported here so that the mock starts without it.
    """
    from hypothesis import Phase, find, settings
    from hypothesis import strategies as st
    from hypothesis.errors import HypothesisException

    search = settings(
        database=None, max_examples=300, deadline=None, derandomize=True, phases=[Phase.generate]
    )
    printable = st.characters(min_codepoint=32, max_codepoint=126)
    try:
        return str(
            find(
                st.from_regex(pattern, alphabet=printable),
                lambda s: _fits(pattern, s, min_len, max_len),
                settings=search,
            )
        )
    except (HypothesisException, re.error):
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
