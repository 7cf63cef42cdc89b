"""The model ids the contracts name, and the ids their model patterns select.

A model is named when a request example sends it as ``model`` (or Kling's ``model_name``, or a
path parameter ``model`` gives it as an example: Gemini's
``/v1beta/models/{model}:generateContent``), when a ``model`` match condition is a literal
(``gpt-4-all``), or when a request schema
enumerates ``model`` (recraft's, Stability's), gives it as a JSON Schema ``examples`` value (the
models an OpenAI endpoint documents: tts-1-hd, gpt-4o-mini-transcribe...) or as its
``default``. Patterns are the ``model`` globs (``claude-*``). The mock lists the named models at
``GET /v1/models`` and answers ``GET /v1/models/{model}`` for them and for any id a pattern
matches, so nothing here is a hand-kept list.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from contracts.model import ContractSet, Operation

_WILDCARDS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class NamedModel:
    """A model id and the operations that name it (the first one's vendor owns it)."""

    id: str
    operations: tuple[Operation, ...]

    @property
    def owned_by(self) -> str:
        """``owned_by`` as relays fill it: the vendor, or ``custom`` for reverse-engineered
        and relay-defined models."""
        vendor = self.operations[0].vendor
        if "reverse" in vendor or not vendor.strip():
            return "custom"
        return vendor.split()[0].lower()


def named_models(contracts: ContractSet) -> list[NamedModel]:
    """Every model id the contracts name, in first-named order."""
    found: dict[str, list[Operation]] = {}
    for op in contracts:
        for model in _names(op, contracts):
            ops = found.setdefault(model, [])
            if op not in ops:
                ops.append(op)
    return [NamedModel(model, tuple(ops)) for model, ops in found.items()]


def by_pattern(contracts: ContractSet, model: str) -> NamedModel | None:
    """The id as the operations whose ``model`` globs select it name it; None when none do."""
    ops = tuple(
        op
        for op in contracts
        if any(_WILDCARDS & set(g) and fnmatch.fnmatchcase(model, g) for g in _globs(op))
    )
    return NamedModel(model, ops) if ops else None


MODEL_FIELDS = ("model", "model_name")
"""Request fields that carry the model id (Kling names it ``model_name``)."""


def _names(op: Operation, contracts: ContractSet) -> Iterator[str]:
    for example in op.request.examples:
        value = example.value
        if example.servable and isinstance(value, dict):
            yield from (value[f] for f in MODEL_FIELDS if isinstance(value.get(f), str))
    in_path = op.path_params.get("model")
    if isinstance(in_path, dict):
        yield from (v for v in in_path.get("examples") or [] if isinstance(v, str))
    for pattern in _globs(op):
        if not _WILDCARDS & set(pattern):
            yield pattern
    yield from _enum(op.request.schema, contracts, 0)


def _globs(op: Operation) -> Iterator[str]:
    for cond in op.match:
        if cond.field == "model" and cond.op in ("glob", "equals"):
            values = cond.value if isinstance(cond.value, list) else [cond.value]
            yield from (v for v in values if isinstance(v, str))


def _enum(schema: Any, contracts: ContractSet, depth: int) -> Iterator[str]:
    """The values a request schema enumerates, exemplifies or defaults for its top-level
    ``model``."""
    if depth > 8 or not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        yield from _enum(contracts.components.get(ref.rsplit("/", 1)[-1]), contracts, depth + 1)
    for part in schema.get("allOf") or []:
        yield from _enum(part, contracts, depth + 1)
    model = (schema.get("properties") or {}).get("model")
    if isinstance(model, dict):
        named = [*(model.get("enum") or []), *(model.get("examples") or []), model.get("default")]
        yield from (v for v in named if isinstance(v, str))
