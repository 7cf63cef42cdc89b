"""Pick the operation a request means, among those sharing a method and path.

Several operations live on ``POST /v1/chat/completions``; each contract's ``match`` says what
a request must look like to mean it (``stream: true``, ``model: {glob: gpt-4-gizmo-*}``...).
The most specific operation that matches wins: higher ``priority`` first, then more explicit
conditions (the stream condition a response mode implies filters but does not count).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from contracts.dotted import get_values
from contracts.model import Condition, Operation


def holds(cond: Condition, body: Any) -> bool:
    """True when the request body satisfies one condition (``*`` in its field walks arrays)."""
    return _judge(cond, get_values(body, cond.field, arrays_only=True))


def _judge(cond: Condition, values: list[Any]) -> bool:
    """The condition on the values its field reaches in a body."""
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


Test = Callable[[Any], bool]


def _one_field(cond: Condition) -> str | None:
    """The top-level field a condition reads alone (its answer is a function of that field's
    value), or None for the conditions that walk a path."""
    one = cond.field and "." not in cond.field and cond.field != "*"
    return cond.field if one and cond.op in ("equals", "glob", "present") else None


def _compiled(cond: Condition) -> Test:
    """``holds(cond, body)`` as a function of the body with the condition's parts prepared (the
    field split, the globs compiled); the same answer for every body."""
    if _one_field(cond) is None:
        return _walking(cond)
    name, value = cond.field, cond.value

    if cond.op == "present":
        wanted = bool(value)

        def present(body: Any) -> bool:
            found = isinstance(body, dict) and name in body and body[name] is not None
            return found == wanted

        return present
    if cond.op == "glob":
        globs = [value] if isinstance(value, str) else list(value)
        if not globs:
            return _walking(cond)
        pattern = re.compile("|".join(f"(?:{fnmatch.translate(g)})" for g in globs))

        def glob(body: Any) -> bool:
            v = body.get(name) if isinstance(body, dict) else None
            return isinstance(v, str) and pattern.match(v) is not None

        return glob
    kind = type(value)
    if value is False:

        def equals_false(body: Any) -> bool:
            if not isinstance(body, dict) or name not in body:
                return True  # nothing there: every one of no values is None or False
            v = body[name]
            return v in (None, False) or (v == value and type(v) is kind)

        return equals_false

    def equals(body: Any) -> bool:
        if not isinstance(body, dict) or name not in body:
            return False
        v = body[name]
        return bool(v == value) and type(v) is kind

    return equals


class _Walking:
    """A condition on a dotted path: the path split once, walked as ``get_values`` walks it
    (``*`` through arrays only), the values judged as ``holds`` judges them."""

    __slots__ = ("cond", "first", "parts")

    def __init__(self, cond: Condition) -> None:
        self.cond = cond
        self.parts = tuple(cond.field.split(".")) if cond.field else ()
        self.first = bool(self.parts) and self.parts[0] != "*"
        """The walk starts at a top-level field (not ``*``): a body without it reaches
        nothing."""

    def __call__(self, body: Any) -> bool:
        current = [body]
        for part in self.parts:
            found: list[Any] = []
            if part == "*":
                for n in current:
                    if isinstance(n, list):
                        found.extend(n)
            else:
                for n in current:
                    if isinstance(n, dict) and part in n:
                        found.append(n[part])
            current = found
            if not current:
                break
        return _judge(self.cond, current)


def _walking(cond: Condition) -> Test:
    return _Walking(cond)


TABLE_SIZE = 512
"""Shapes of bodies remembered per selector: a bound, since bodies are the client's to
choose."""
_ABSENT = object()
_SCALARS = (str, bool, int, float, type(None))
Plan = tuple[tuple[Operation, tuple[int, ...]], ...]


class Selector:
    """``select`` (and, when nothing matches, ``rank``'s last) for one fixed list of
    operations, prepared once: the operations in the order ``select`` prefers them, each
    distinct condition compiled once and tested at most once per body, the first operation
    whose conditions all hold taken.

    The conditions on one top-level field (``model`` globs, ``stream``, ``tools`` present)
    depend on that field's value alone, so a body's *shape* (those fields' values, or only
    whether a field is there for a field that is only tested for presence) decides them all:
    per shape, the operations whose one-field conditions hold are kept, with only their
    path-walking conditions left to test. The mock keeps one selector per route and method."""

    def __init__(self, ops: Sequence[Operation]) -> None:
        self.ops = tuple(ops)
        index: dict[tuple[str, str, str], int] = {}
        self._tests: list[Test] = []
        fields: dict[str, set[str]] = {}
        plan: list[tuple[Operation, tuple[int, ...]]] = []
        for op in self.ops:
            ids = []
            for cond in op.effective_match:
                key = (cond.field, cond.op, repr(cond.value))
                if key not in index:
                    index[key] = len(self._tests)
                    self._tests.append(_compiled(cond))
                name = _one_field(cond)
                if name is not None:
                    fields.setdefault(name, set()).add(cond.op)
                ids.append(index[key])
            # all must hold, so the order is free: one-field tests first, path walks last
            ids.sort(key=lambda i: isinstance(self._tests[i], _Walking))
            plan.append((op, tuple(ids)))
        # select keeps the first of equal keys: a stable sort on the key, highest first
        plan.sort(key=lambda item: (item[0].priority, len(item[0].match)), reverse=True)
        self._plan: Plan = tuple(plan)
        self._fallback = rank(self.ops)[-1] if self.ops else None
        self._fields = tuple((name, ops_on == {"present"}) for name, ops_on in fields.items())
        # a path walk whose first field a body lacks reaches nothing: decided by the shape too
        self._walk_fields = tuple(
            sorted({t.parts[0] for t in self._tests if isinstance(t, _Walking) and t.first})
        )
        self._by_shape: dict[tuple[Any, ...], Plan] = {}

    def _shape(self, body: Any) -> tuple[Any, ...] | None:
        """What the one-field conditions see of the body; None when a value is not a plain
        scalar (a list where a string was expected...): then nothing is kept."""
        if not isinstance(body, dict):
            return ()
        shape: list[Any] = []
        for name, presence_only in self._fields:
            value = body.get(name, _ABSENT)
            if presence_only:
                shape.append(value is not _ABSENT and value is not None)
            elif value is _ABSENT:
                shape.append(_ABSENT)
            elif type(value) in _SCALARS:
                shape.append((type(value), value))
            else:
                return None
        shape.extend(name in body for name in self._walk_fields)
        return tuple(shape)

    def _left(self, body: Any) -> Plan:
        """The operations whose one-field conditions hold for the body, with the conditions
        still to test (path walks)."""
        tests = self._tests
        known: dict[int, bool] = {}
        left = []
        is_dict = isinstance(body, dict)
        for op, ids in self._plan:
            walks = []
            for i in ids:
                test = tests[i]
                if isinstance(test, _Walking) and not (
                    test.first and (not is_dict or test.parts[0] not in body)
                ):
                    walks.append(i)
                    continue
                held = known.get(i)
                if held is None:
                    held = known[i] = test(body)
                if not held:
                    break
            else:
                left.append((op, tuple(walks)))
        return tuple(left)

    def select(self, body: Any) -> Operation | None:
        """``select(ops, body)``."""
        shape = self._shape(body)
        plan = self._by_shape.get(shape) if shape is not None else None
        if plan is None:
            plan = self._left(body)
            if shape is not None and len(self._by_shape) < TABLE_SIZE:
                self._by_shape[shape] = plan
        known: dict[int, bool] = {}
        tests = self._tests
        for op, ids in plan:
            for i in ids:
                held = known.get(i)
                if held is None:
                    held = known[i] = tests[i](body)
                if not held:
                    break
            else:
                return op
        return None

    def choose(self, body: Any) -> Operation | None:
        """``select(ops, body) or rank(ops)[-1]`` (None only for no operations)."""
        return self.select(body) or self._fallback
