"""JSON-Schema validation against the shared components, compiled once and cached.

jsonschema-rs (a compiled validator) does the work: the mock validates every request and the
suites every response and stream event, so validation sits on hot paths.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
import orjson

REF_PREFIX = "#/components/schemas/"


@dataclass(frozen=True, slots=True)
class Problem:
    """One way an instance breaks a schema: where (a readable path) and what."""

    path: tuple[str | int, ...]
    message: str

    @property
    def where(self) -> str:
        """The path as ``messages[0].role``; ``<root>`` for the instance itself."""
        return format_path(self.path)

    @property
    def param(self) -> str | None:
        """The top-level field at fault, as OpenAI's ``param`` names it."""
        return format_path(self.path) if self.path else None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def format_path(path: tuple[str | int, ...] | list[str | int]) -> str:
    """Render a JSON path as dotted keys with [index] for arrays."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<root>"


class Validators:
    """Compiles schemas that may ``$ref`` the shared components, and validates instances."""

    def __init__(self, components: Mapping[str, Any], cache_size: int = 1024) -> None:
        self._components = dict(components)
        # Bounded: the mock also compiles schemas that requests bring (tool parameters).
        self._cache: OrderedDict[bytes, Any] = OrderedDict()
        self._cache_size = cache_size

    def compile(self, schema: Any) -> Any:
        """A compiled validator for ``schema`` (LRU-cached by the schema's canonical bytes)."""
        key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
        validator = self._cache.get(key)
        if validator is not None:
            self._cache.move_to_end(key)
        else:
            root = {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "allOf": [schema],
                "components": {"schemas": self._referenced(schema)},
            }
            validator = jsonschema_rs.Draft202012Validator(root)
            self._cache[key] = validator
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return validator

    def _referenced(self, schema: Any) -> dict[str, Any]:
        """The components ``schema`` reaches through its references (compiling all is slow)."""
        found: dict[str, Any] = {}
        pending = [schema]
        while pending:
            for _, ref in iter_refs(pending.pop()):
                name = ref[len(REF_PREFIX) :] if ref.startswith(REF_PREFIX) else None
                if name is not None and name not in found and name in self._components:
                    found[name] = self._components[name]
                    pending.append(found[name])
        return found

    def problems(self, schema: Any, instance: Any, limit: int = 5) -> list[Problem]:
        """Up to ``limit`` problems of ``instance`` against ``schema``; empty when valid."""
        validator = self.compile(schema)
        if validator.is_valid(instance):
            return []
        found: list[Problem] = []
        for found_err in validator.iter_errors(instance):
            err = closest(found_err)
            path = tuple(err.instance_path)
            required = isinstance(err.kind, jsonschema_rs.ValidationErrorKind.Required)
            missing = getattr(err.kind, "property", None) if required else None
            if isinstance(missing, str):  # a missing field is the param at fault, not its parent
                path = (*path, missing)
            found.append(Problem(path, _short(err.message)))
            if len(found) >= limit:
                break
        found.sort(key=lambda p: len(p.path), reverse=True)
        return found

    def resolve(self, schema: Any) -> Any:
        """``schema`` with its top-level ``$ref`` chain into the components followed."""
        for _ in range(16):
            ref = schema.get("$ref") if isinstance(schema, dict) else None
            if not isinstance(ref, str) or not ref.startswith(REF_PREFIX):
                return schema
            schema = self._components.get(ref[len(REF_PREFIX) :], {})
        return schema

    def is_valid(self, schema: Any, instance: Any) -> bool:
        """True when ``instance`` satisfies ``schema``."""
        return bool(self.compile(schema).is_valid(instance))


_ALTERNATIVES = (
    jsonschema_rs.ValidationErrorKind.AnyOf,
    jsonschema_rs.ValidationErrorKind.OneOfNotValid,
)


def closest(err: Any) -> Any:
    """For "valid under none of the alternatives", the error of the alternative that came
    closest (fewest errors, then the deepest), followed down: ``usage: null is not of type
    "object"`` says more than the whole body "is not valid under any of the schemas"."""
    for _ in range(16):
        branches = [b for b in (getattr(err.kind, "context", None) or []) if b]
        if not isinstance(err.kind, _ALTERNATIVES) or not branches:
            return err
        best = min(branches, key=lambda b: (len(b), -max(len(e.instance_path) for e in b)))
        err = max(best, key=lambda e: len(e.instance_path))
    return err


def standalone(schema: Any) -> Any:
    """A schema a request carries (tool parameters, a json_schema) made to resolve its own
    local refs (``#/$defs/X``): validation wraps every schema in a root of its own, so a
    schema with local refs and no ``$id`` gets one."""
    local = any(not ref.startswith(REF_PREFIX) for _, ref in iter_refs(schema))
    if isinstance(schema, dict) and local and "$id" not in schema:
        return {**schema, "$id": "urn:relaykit:request-schema"}
    return schema


def _short(message: str, limit: int = 300) -> str:
    return message if len(message) <= limit else message[: limit - 3] + "..."


def iter_refs(
    node: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every ``$ref`` string inside a schema, with the path that leads to it."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield (*path, key), value
            else:
                yield from iter_refs(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from iter_refs(value, (*path, index))
