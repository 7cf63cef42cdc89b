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


INT_RANGE = (-(2**63), 2**64 - 1)
_SUBSCHEMAS = frozenset((*SCHEMA_KEYS, *SCHEMA_LISTS, *SCHEMA_MAPS))


def fit(value: Any) -> Any:
    """Integers past 64 bits as floats (JSON encoders and validators stop at 64 bits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if INT_RANGE[0] <= value <= INT_RANGE[1] else float(value)
    if isinstance(value, list):
        return [fit(v) for v in value]
    if isinstance(value, dict):
        return {k: fit(v) for k, v in value.items()}
    return value


_DROPPED = ("$id", "$schema", "$anchor", "$dynamicAnchor", "$recursiveAnchor")


def normalise(node: dict[str, Any], legacy: bool) -> tuple[dict[str, Any], list[str]]:
    """A copy of one schema node in 2020-12 terms (its subschemas are the caller's job), and
    what had to be repaired in a node that claimed to be 2020-12 already (``legacy`` False).

    Identifiers (``$id``, anchors) go: an inlined schema has no base of its own.
    """
    out = {k: (v if k in _SUBSCHEMAS else fit(v)) for k, v in node.items() if k not in _DROPPED}
    repairs: list[str] = []
    if isinstance(out.get("required"), list) and len(set(map(str, out["required"]))) < len(
        out["required"]
    ):
        out["required"] = list(dict.fromkeys(out["required"]))
        repairs.append("required lists a field twice")
    if out.get("type") == "file":
        out["type"] = "string"
        out["format"] = "binary"
    for key, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(key), bool):
            if not legacy:
                repairs.append(f"boolean {key} is OpenAPI 3.0 (draft 4), not 2020-12")
            if out.pop(key) and bound in out:
                out[key] = out.pop(bound)
    nullable = out.pop("nullable", None)
    nullable = out.pop("x-nullable", nullable)
    if not legacy:
        if nullable is not None:
            repairs.append("nullable is OpenAPI 3.0, not 3.1 (a null type is)")
        if nullable is True:
            out = _with_null(out)
        return out, repairs
    if "example" in out and "examples" not in out:
        out["examples"] = [out.pop("example")]
    if nullable is True:
        out = _with_null(out)
    return out, repairs


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
