"""Property-based requests: hypothesis varies the parameters an operation's invariants speak of.

Each probe is a documented example with some top-level fields redrawn from their own request
schema, narrowed to cheap values (``max_tokens`` 1-16, ``n`` 1-2, short strings, the profile's
model). The fields are the ones the invariants judge (``n``, ``max_tokens``, ``stop``, ``size``,
``dimensions``, ``response_format``...) plus bounded numeric knobs (``temperature``, ``top_p``),
never the fields that select the operation. Generation is deterministic for a given seed.
"""

from __future__ import annotations

import contextlib
import copy
import re
import threading
from collections.abc import Sequence
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from contracts.model import Operation
from contracts.selection import select
from contracts.validation import Validators
from suites.probes import Probe, example_probes
from suites.profile import Profile

CHEAP_INTS = {
    "max_tokens": (1, 16),
    "max_completion_tokens": (1, 16),
    "n": (1, 2),
    "dimensions": (1, 64),
}
"""Upper bounds that keep a request cheap, whatever the schema allows."""
INVARIANT_FIELDS = {
    "choices_len_n": ("n",),
    "image_count_matches_n": ("n",),
    "max_tokens_respected": ("max_tokens", "max_completion_tokens"),
    "finish_length_when_cut": ("max_tokens", "max_completion_tokens"),
    "stop_absent": ("stop",),
    "image_size_matches": ("size",),
    "embedding_dimensions": ("dimensions",),
    "speech_format_matches": ("response_format",),
    "transcript_format_matches": ("response_format",),
    "tool_calls_present": ("tool_choice",),
    "usage_chunk_iff_requested": ("stream_options",),
}
"""Which request fields exercise which invariant."""
KNOBS = ("temperature", "top_p", "presence_penalty", "frequency_penalty")
NEVER = frozenset({"model", "stream", "messages", "prompt", "input"})
T = TypeVar("T")
GENERATION_LOCK = threading.Lock()
"""Hypothesis generation, ours and schemathesis's, one thread at a time: hypothesis is not
thread-safe, and CPython 3.11 can raise "AST constructor recursion depth mismatch" when two
threads parse source at once (both happen while strategies are built)."""
_WORD = re.compile(r"[A-Za-z]{3,}|[\u4e00-\u9fff]{2}")


def property_probes(
    op: Operation,
    profile: Profile,
    validators: Validators,
    count: int,
    seed_value: int,
    siblings: Sequence[Operation] = (),
) -> list[Probe]:
    """``count`` varied requests for a JSON operation (fewer when nothing can vary).

    ``siblings`` are the operations on the same method and path: a variation that would make
    one of them the documented answer (``n: 2`` selects the n-choices contract) is not drawn.
    """
    if count <= 0 or op.request.content_type != "application/json":
        return []
    base = example_probes(op, profile)[0]
    if not isinstance(base.body, dict):
        return []
    body0 = base.body
    fields = _field_strategies(op, body0, validators)
    if not fields:
        return []
    same_route = [o for o in siblings if o.method == op.method and o.path == op.path] or [op]

    def still_this_operation(changes: dict[str, Any]) -> bool:
        return select(same_route, {**body0, **changes}) is op

    strategy = st.fixed_dictionaries({}, optional=fields).filter(still_this_operation)
    drawn = draw(strategy, count, seed_value)
    probes = []
    for i, changes in enumerate(drawn):
        body = {**copy.deepcopy(base.body), **changes}
        probes.append(Probe(op, f"property#{i}", body, dict(base.path_values)))
    return probes


def draw(strategy: st.SearchStrategy[T], count: int, seed_value: int) -> list[T]:
    """Up to ``count`` values from ``strategy``, the same ones for the same seed; no shrinking,
    no example database (nothing here is a failing test to minimise)."""
    drawn: list[T] = []

    @settings(
        max_examples=count,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @seed(seed_value)
    @given(strategy)
    def collect(value: T) -> None:
        if len(drawn) < count:
            drawn.append(value)

    with GENERATION_LOCK, contextlib.suppress(Unsatisfiable):  # nothing satisfies: draw none
        collect()
    return drawn


def varied_fields(op: Operation, validators: Validators) -> list[str]:
    """The request fields property-based probes would vary (empty: the check is not planned)."""
    if op.request.content_type != "application/json":
        return []
    base = next((e.value for e in op.request.examples if e.servable), None)
    if not isinstance(base, dict):
        return []
    return list(_field_strategies(op, base, validators))


def _field_strategies(
    op: Operation, body: dict[str, Any], validators: Validators
) -> dict[str, st.SearchStrategy[Any]]:
    schema = validators.resolve(op.request.schema)
    if not isinstance(schema, dict):
        return {}
    props = schema.get("properties") or {}
    selecting = {c.field.split(".")[0] for c in op.effective_match}
    wanted = [f for inv in op.invariants for f in INVARIANT_FIELDS.get(inv, ())]
    names = [n for n in dict.fromkeys([*wanted, *KNOBS]) if n in props]
    out: dict[str, st.SearchStrategy[Any]] = {}
    for name in names:
        if name in NEVER or name in selecting:
            continue
        if name == "stream_options":
            if body.get("stream") is True:
                out[name] = st.fixed_dictionaries({"include_usage": st.booleans()})
            continue
        strategy = _scalar(name, validators.resolve(props[name]), validators, op)
        if strategy is not None:
            out[name] = strategy
    return out


def _scalar(
    name: str, schema: Any, validators: Validators, op: Operation
) -> st.SearchStrategy[Any] | None:
    """A strategy for a scalar field's schema, narrowed; None for shapes we do not vary."""
    if not isinstance(schema, dict):
        return None
    if "enum" in schema:
        return st.sampled_from([v for v in schema["enum"] if v is not None] or [None])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            parts = [_scalar(name, validators.resolve(s), validators, op) for s in schema[key]]
            usable = [p for p in parts if p is not None]
            return st.one_of(usable) if usable else None
    kind = schema.get("type")
    if kind == "boolean":
        return st.booleans()
    if kind == "integer":
        low, high = _bounds(name, schema, 0, 16)
        return st.integers(int(low), int(high))
    if kind == "number":
        low, high = _bounds(name, schema, 0.0, 1.0)
        return st.floats(low, high, allow_nan=False, allow_infinity=False).map(
            lambda x: round(x, 2)
        )
    if kind == "string" and name == "stop":
        return _stop_words(op)
    if kind == "array" and name == "stop":
        return st.lists(_stop_words(op), min_size=1, max_size=2, unique=True)
    return None


def _bounds(name: str, schema: dict[str, Any], low: float, high: float) -> tuple[float, float]:
    lo = schema.get("minimum", schema.get("exclusiveMinimum", low))
    hi = schema.get("maximum", schema.get("exclusiveMaximum", max(lo, high)))
    if name in CHEAP_INTS:
        cheap_lo, cheap_hi = CHEAP_INTS[name]
        lo, hi = max(lo, cheap_lo), min(hi, cheap_hi)
    if "exclusiveMinimum" in schema:
        lo = lo + (1 if schema.get("type") == "integer" else 0.01)
    return lo, max(lo, hi)


def _stop_words(op: Operation) -> st.SearchStrategy[str]:
    """Stop sequences that occur in the documented answer, so the rule is really exercised."""
    example = op.example()
    text = str(example.value) if example is not None else ""
    words = sorted(set(_WORD.findall(text)))[:40]
    fallback = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=6)
    return st.one_of(st.sampled_from(words), fallback) if words else fallback
