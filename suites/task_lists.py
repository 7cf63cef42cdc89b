"""Task lists: a list operation must show the task just submitted, each item in a legal state.

A fresh task of a submit that feeds the list's poll operation is made first (and followed to
its end when the list example filters on the state); the list's first documented request is
then sent, with any list of ids replaced by the fresh id.
"""

from __future__ import annotations

from typing import Any

from contracts.dotted import get_values, state_text
from contracts.model import Operation
from suites.context import CheckContext
from suites.findings import Finding, Outcome
from suites.probes import example_probes
from suites.task_trace import follow, offered_feeder, poll_of, start_trace, submit, task_block
from suites.tasks import unknown_state


def list_items(body: Any) -> list[Any]:
    """The task items of a list answer: the array itself or the first array it holds."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        return next((v for v in body.values() if isinstance(v, list)), [])
    return []


def item_values(item: Any, dotted: str) -> list[Any]:
    """Values at ``dotted`` in a list item, also at its shorter suffixes (an item may be part of
    the poll body) and under each object child (a relay's record wrapping the poll body)."""
    parts = dotted.split(".")
    out: list[Any] = []
    for i in range(len(parts)):
        out.extend(get_values(item, ".".join(parts[i:])))
    if isinstance(item, dict):
        for child in item.values():
            if isinstance(child, dict):
                out.extend(get_values(child, dotted))
    return out


def _with_ids(body: Any, task_id: str) -> Any:
    """The example body with each list of ids (``ids``, ``taskIds``) replaced by the fresh id."""
    if not isinstance(body, dict):
        return body
    return {
        k: [task_id]
        if k.lower().endswith("ids") and isinstance(v, list) and all(isinstance(x, str) for x in v)
        else v
        for k, v in body.items()
    }


def check_list(ctx: CheckContext, op: Operation, source: str) -> list[Finding]:
    """Submit a fresh task, send the list op's first example (listing that id where it lists
    ids); response.schema, list_contains_submitted and task_states_legal on the items."""
    poll = poll_of(ctx.contracts, op)
    probe = example_probes(op, ctx.profile)[0]
    status_key = task_block(poll).status_field.split(".")[-1]
    task_id, why = _fresh_for_list(ctx, op, filters_state=status_key in probe.json_body)
    if task_id is not None:
        probe.body = _with_ids(probe.body, task_id)
    exchange = ctx.transport.send(probe.build(ctx.transport))
    verdicts: dict[str, tuple[Outcome, str]] = {}
    if exchange.status is None or not 200 <= exchange.status < 300:
        said = exchange.error or f"HTTP {exchange.status}"
        broke = Outcome.ERROR if exchange.status is None else Outcome.FAIL
        verdicts["response.schema"] = broke, f"the list answered {said}"
        verdicts["invariant.list_contains_submitted"] = broke, f"the list answered {said}"
        verdicts["invariant.task_states_legal"] = Outcome.SKIP, f"the list answered {said}"
    else:
        body = exchange.json()
        verdicts["response.schema"] = _list_schema(ctx, op, body)
        verdicts["invariant.list_contains_submitted"] = _contains(poll, body, task_id, why)
        verdicts["invariant.task_states_legal"] = _listed_states(poll, list_items(body))
    wanted = ["response.schema", *(f"invariant.{n}" for n in op.invariants)]
    return [
        ctx.finding(op.id, check_id, *verdicts[check_id], source, exchange)
        for check_id in wanted
        if check_id in verdicts
    ]


def _list_schema(ctx: CheckContext, op: Operation, body: Any) -> tuple[Outcome, str]:
    if op.response.schema is None:
        return Outcome.SKIP, "the contract gives no response schema"
    problems = ctx.validators.problems(op.response.schema, body, limit=1)
    return (Outcome.FAIL, str(problems[0])) if problems else (Outcome.PASS, "matches the schema")


def _fresh_for_list(
    ctx: CheckContext, op: Operation, filters_state: bool
) -> tuple[str | None, str]:
    """A fresh task of a submit feeding the list's poll; followed to its end when the list
    example filters on the state (a page of SUCCESS tasks). (id, "") or (None, why)."""
    feeder = offered_feeder(ctx, op)
    if isinstance(feeder, str):
        return None, feeder
    exchange, task_id = submit(ctx, feeder)
    if task_id is None:
        return None, f"the submit {feeder.id} gave no task id ({exchange.error or exchange.status})"
    trace = (
        follow(ctx, feeder, exchange, task_id, until_terminal=True)
        if filters_state
        else start_trace(ctx, feeder, exchange, task_id)
    )
    if filters_state and not trace.succeeded:
        return None, f"the task {task_id} of {feeder.id} {trace.summary()}"
    return task_id, ""


def _contains(poll: Operation, body: Any, task_id: str | None, why: str) -> tuple[Outcome, str]:
    if task_id is None:
        return Outcome.SKIP, f"no fresh task to look for: {why}"
    items = list_items(body)
    id_field = task_block(poll).id_field
    for i, item in enumerate(items):
        if task_id in [str(v) for v in item_values(item, id_field)]:
            return Outcome.PASS, f"the fresh task {task_id} is item {i + 1} of {len(items)}"
    return Outcome.FAIL, f"the fresh task {task_id} is not among the {len(items)} listed items"


def _listed_states(poll: Operation, items: list[Any]) -> tuple[Outcome, str]:
    if not items:
        return Outcome.INCONCLUSIVE, "the list is empty: no state to judge"
    task = task_block(poll)
    states = list(task.states)
    status_field = task.status_field
    for i, item in enumerate(items):
        found = item_values(item, status_field)
        state = state_text(found[0]) if found else None
        problem = unknown_state(state, states, f"item {i + 1} (at {status_field})")
        if problem:
            return Outcome.FAIL, problem
    return Outcome.PASS, f"{len(items)} listed task(s), each in a legal state"
