"""Gemini's wire conventions that both the mock and the suites read: its schema dialect, its
function-calling modes and what its usage figures must add up to.

Gemini writes schemas (a function's ``parameters``, ``generationConfig.responseSchema``) in its
OpenAPI subset: upper-case type names (``STRING``, ``OBJECT``, as google-genai sends them),
``nullable``, ``propertyOrdering``. ``json_schema`` turns one into the JSON Schema the mock
builds arguments from and the suites validate answers against; ``parametersJsonSchema`` and
``responseJsonSchema`` are JSON Schema already.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MODES = {"AUTO": "auto", "VALIDATED": "auto", "ANY": "required", "NONE": "none"}
"""``toolConfig.functionCallingConfig.mode`` as the provider-neutral tool-choice modes."""

USAGE_PARTS = ("promptTokenCount", "candidatesTokenCount", "thoughtsTokenCount",
               "toolUsePromptTokenCount")  # fmt: skip
"""The counts that add up to ``usageMetadata.totalTokenCount``."""

_MAX_DEPTH = 32
_DROPPED = frozenset({"nullable", "propertyOrdering", "example"})


def json_schema(schema: Any, depth: int = 0) -> Any:
    """A Gemini (OpenAPI subset) schema as JSON Schema: type names lower-cased, ``nullable``
    as a null type, the subset's own annotations left out; anything else kept as it is."""
    if depth > _MAX_DEPTH:
        return {}
    if isinstance(schema, list):
        return [json_schema(s, depth + 1) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED:
            continue
        if key == "type" and isinstance(value, str):
            out["type"] = value.lower()
        elif key == "properties" and isinstance(value, dict):
            out[key] = {k: json_schema(v, depth + 1) for k, v in value.items()}
        elif key in ("items", "anyOf", "oneOf", "allOf", "not", "additionalProperties"):
            out[key] = json_schema(value, depth + 1)
        else:
            out[key] = value
    if schema.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


def parameters_schema(declaration: Mapping[str, Any]) -> Any:
    """The JSON Schema of a function declaration's arguments (an empty object when it has
    none)."""
    if isinstance(declaration.get("parametersJsonSchema"), dict):
        return declaration["parametersJsonSchema"]
    if isinstance(declaration.get("parameters"), dict):
        return json_schema(declaration["parameters"])
    return {"type": "object", "properties": {}}


def response_schema(generation_config: Any) -> Any | None:
    """The JSON Schema a JSON answer must satisfy (``responseJsonSchema``, or
    ``responseSchema`` in Gemini's subset); None when the request gives none."""
    if not isinstance(generation_config, dict):
        return None
    if isinstance(generation_config.get("responseJsonSchema"), dict):
        return generation_config["responseJsonSchema"]
    if isinstance(generation_config.get("responseSchema"), dict):
        return json_schema(generation_config["responseSchema"])
    return None


def usage_sum(usage: Mapping[str, Any]) -> int:
    """What ``totalTokenCount`` should be: the sum of the parts present."""
    return sum(v for k in USAGE_PARTS if isinstance(v := usage.get(k), int))
