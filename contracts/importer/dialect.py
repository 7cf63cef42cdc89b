"""OpenAPI 3.0 and Swagger 2 schema keywords in JSON Schema 2020-12 terms (one node at a time).

``nullable`` / ``x-nullable`` become a ``null`` type, boolean ``exclusiveMinimum`` /
``exclusiveMaximum`` become numbers, Swagger's ``type: file`` a binary string, and the 3.0
``example`` keyword an ``examples`` annotation. OpenAPI 3.1 schemas are 2020-12 already.
"""

from __future__ import annotations

from typing import Any

SCHEMA_KEYS = (
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
)
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")


def normalise(node: dict[str, Any], legacy: bool) -> dict[str, Any]:
    """A copy of one schema node in 2020-12 terms (its subschemas are the caller's job)."""
    if not legacy:
        return dict(node)
    out = dict(node)
    if out.get("type") == "file":
        out["type"] = "string"
        out["format"] = "binary"
    for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(key), bool):
            if out.pop(key) and bound in out:
                out[key] = out.pop(bound)
    if "example" in out and "examples" not in out:
        out["examples"] = [out.pop("example")]
    nullable = out.pop("nullable", None)
    nullable = out.pop("x-nullable", nullable)
    if nullable is True:
        out = _with_null(out)
    return out


def _with_null(node: dict[str, Any]) -> dict[str, Any]:
    kind = node.get("type")
    if isinstance(kind, str):
        node["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        node["type"] = [*kind, "null"]
    elif kind is None:
        return {"anyOf": [node, {"type": "null"}]}
    if isinstance(node.get("enum"), list) and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]
    return node
