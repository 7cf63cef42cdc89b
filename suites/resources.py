"""Resources a path names that no example can give: create one first, then ask about it.

``GET /v1/responses/{response_id}`` (and its DELETE and input_items) can only be checked on a
response the relay itself stored, so the id comes from creating one: the operation that creates
what a path names is the POST on the collection the parameter follows (``/v1/responses``),
answered in JSON and not an async task (tasks have their own lifecycle: suites/task_trace.py);
its first documented example is sent and the answer's ``id`` fills the path.
"""

from __future__ import annotations

from contracts.model import ContractSet, Operation
from contracts.paths import template
from suites.context import CheckContext
from suites.probes import default_path_values, example_probes
from suites.responses import cost_of


def creator(contracts: ContractSet, op: Operation) -> tuple[str, Operation] | None:
    """(path parameter, the operation that creates it) for an operation outside any task whose
    path has one parameter no example fills, or None."""
    if op.task is not None:
        return None
    given = default_path_values(op)
    missing = [n for n in template(op.path).names if n not in given]
    if len(missing) != 1:
        return None
    name = missing[0]
    collection = op.path.split("/{" + name + "}", 1)[0]
    for other in contracts:
        if (
            other.method == "POST"
            and other.path == collection
            and other.task is None
            and other.response.content_type == "application/json"
            and not other.streams_always
        ):
            return name, other
    return None


def fresh_resource(ctx: CheckContext, op: Operation) -> dict[str, str] | str:
    """Path values naming a resource just created for ``op``, or why none could be had."""
    found = creator(ctx.contracts, op)
    if found is None:
        return f"no operation creates what the path of {op.id} names"
    name, maker = found
    if maker.id in ctx.unoffered:
        why = ctx.unoffered[maker.id]
        return f"not checkable: it needs a resource from {maker.id}, not offered ({why})"
    probe = next((p for p in example_probes(maker, ctx.profile) if not p.streamed), None)
    if probe is None:
        return f"{maker.id} documents no request that creates one"
    tokens, paid = cost_of(maker)
    exchange = ctx.transport.send(probe.build(ctx.transport), tokens=tokens, paid_calls=paid)
    body = exchange.json() if exchange.status is not None and 200 <= exchange.status < 300 else None
    made = body.get("id") if isinstance(body, dict) else None
    if not isinstance(made, str) or not made:
        answered = exchange.error or f"HTTP {exchange.status}"
        return f"creating one through {maker.id} gave no id ({answered})"
    return {name: made}
