"""Pick the operation a request means, among those sharing a method and path.

Several operations live on ``POST /v1/chat/completions``; each contract's ``match`` says what
a request must look like to mean it (``stream: true``, ``model: {glob: gpt-4-gizmo-*}``...).
The most specific operation that matches wins: higher ``priority`` first, then more explicit
conditions (the stream condition a response mode implies filters but does not count).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from typing import Any

from contracts.dotted import get_values
from contracts.model import Condition, Operation


def holds(cond: Condition, body: Any) -> bool:
    """True when the request body satisfies one condition (``*`` in its field walks arrays)."""
    values = get_values(body, cond.field, arrays_only=True)
    if cond.op == "present":
        return any(v is not None for v in values) == bool(cond.value)
    if cond.op == "equals":
        if cond.value is False and all(v in (None, False) for v in values):
            return True
        return any(v == cond.value and type(v) is type(cond.value) for v in values)
    if cond.op == "contains":
        return any(v == cond.value for v in values)
    if cond.op == "glob":
        globs = [cond.value] if isinstance(cond.value, str) else list(cond.value)
        return any(
            isinstance(v, str) and any(fnmatch.fnmatchcase(v, g) for g in globs) for v in values
        )
    if cond.op == "gt":
        return any(
            isinstance(v, int | float) and not isinstance(v, bool) and v > cond.value
            for v in values
        )
    if cond.op == "prefix":
        return any(isinstance(v, str) and v.startswith(cond.value) for v in values)
    raise ValueError(f"unknown condition {cond.op!r}")


def matches(op: Operation, body: Any) -> bool:
    """True when every condition of the operation holds for the body."""
    return all(holds(c, body) for c in op.effective_match)


def select(ops: Sequence[Operation], body: Any) -> Operation | None:
    """The most specific operation whose conditions all hold, or None."""
    best: Operation | None = None
    best_key: tuple[int, int] = (-(10**9), -1)
    for op in ops:
        if not matches(op, body):
            continue
        key = (op.priority, len(op.match))
        if key > best_key:
            best, best_key = op, key
    return best


def rank(ops: Iterable[Operation]) -> list[Operation]:
    """Operations in the order ``select`` prefers them (for listings and docs)."""
    return sorted(ops, key=lambda op: (-op.priority, -len(op.match), op.id))
