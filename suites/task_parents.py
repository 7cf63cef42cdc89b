"""A parent task for a submit that names an earlier one (``TaskSpec.parent``).

A Midjourney action presses a button of a finished task, a modal continues a task waiting in
MODAL, a Suno continuation extends a clip of an earlier song: the example's ids are the
documentation's, so before sending such an example the check makes a task of its own in the
state the contract asks for, offering the choice the example makes (the button with the
example's customId, its hashes aside), and puts its id (and that choice) in the request.
A task in a waiting state comes from a submit whose branch waits there (an action with a
Custom Zoom customId), which may itself need a parent: chains stop at MAX_DEPTH.
"""

from __future__ import annotations

import re
from typing import Any

from contracts.dotted import first, get_values, set_values
from contracts.model import Operation, ParentSpec
from contracts.paths import template
from contracts.selection import holds
from suites.context import CheckContext
from suites.probes import Probe, example_probes
from suites.task_trace import follow, poll_of, submit, task_block

MAX_DEPTH = 3
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def fill_parent(ctx: CheckContext, op: Operation, probe: Probe, depth: int = 0) -> str | None:
    """Put a fresh parent task (and the choice it offers) into ``probe``; None when done or not
    needed, else why no parent could be had."""
    spec = op.task.parent if op.task is not None else None
    if spec is None:
        return None
    if _value(probe, spec.field) is None:
        return None if spec.optional else f"the example names no {spec.field}"
    if depth >= MAX_DEPTH:
        return f"no parent task for {op.id}: the chain of tasks is deeper than {MAX_DEPTH}"
    poll = poll_of(ctx.contracts, op)
    wanted = spec.state or str(task_block(poll).success)
    like = _value(probe, spec.choice) if spec.choice else None
    reasons: list[str] = []
    for feeder in _feeders(ctx, poll, wanted, spec, like):
        got = _parent(ctx, feeder, spec, wanted, like, depth)
        if isinstance(got, str):
            reasons.append(got)
            continue
        parent_id, choice = got
        _set(probe, spec.field, parent_id)
        if spec.choice and choice is not None:
            _set(probe, spec.choice, choice)
        return None
    why = "; ".join(reasons) or f"no submit makes a {poll.id} task in state {wanted}"
    return f"no parent task for {op.id}: {why}"


def _feeders(
    ctx: CheckContext, poll: Operation, wanted: str, spec: ParentSpec, like: Any
) -> list[Operation]:
    """Submits to the same poll that can leave a task in ``wanted``: for the success state,
    those whose documented outcome offers a choice like ``like`` (when any does), needing no
    parent first, cheap first; for another state, those with a branch waiting there."""
    submits = [
        s
        for s in ctx.contracts
        if s.task_role == "submit"
        and s.id not in ctx.unoffered
        and task_block(s).poll == poll.id
        and not _continues(s)
    ]
    if wanted != task_block(poll).success:
        return [s for s in submits if any(b.waits == wanted for b in task_block(s).branches)]
    if like is not None and spec.among is not None:
        offering = [s for s in submits if _offers(poll, _outcomes(s, poll), spec.among, like)]
        submits = offering or submits
    return sorted(submits, key=lambda s: (task_block(s).parent is not None, s.cost.estimate))


def _continues(op: Operation) -> bool:
    parent = task_block(op).parent
    return parent is not None and parent.continues


def _outcomes(feeder: Operation, poll: Operation) -> list[Any]:
    """The poll's success examples a feeder's task ends as: its branches' ``ends_as``, else
    the one showing the feeder's example task id, else every success example."""
    task = task_block(poll)
    named = [b.ends_as for b in task_block(feeder).branches if b.ends_as]
    success = [
        e
        for e in poll.response.examples
        if e.servable and first(get_values(e.value, task.status_field)) == task.success
    ]
    if named:
        return [e.value for e in success if e.name in named]
    ids = [
        first(get_values(e.value, task_block(feeder).id_field)) for e in feeder.response.examples
    ]
    mine = [e.value for e in success if first(get_values(e.value, task.id_field)) in ids]
    return mine or [e.value for e in success]


def _offers(poll: Operation, bodies: list[Any], among: str, like: Any) -> bool:
    return any(_masked(v) == _masked(like) for b in bodies for v in get_values(b, among))


def _parent(
    ctx: CheckContext,
    feeder: Operation,
    spec: ParentSpec,
    wanted: str,
    like: Any,
    depth: int,
) -> tuple[str, Any] | str:
    """(a task id from ``feeder`` in state ``wanted``, the choice it offers like ``like``)."""
    probe = _probe_for(ctx, feeder, wanted)
    if probe is None:
        return f"{feeder.id} has no example that waits in {wanted}"
    why = fill_parent(ctx, feeder, probe, depth + 1)
    if why is not None:
        return why
    exchange, task_id = submit(ctx, feeder, probe)
    if task_id is None:
        return f"{feeder.id} gave no task id ({exchange.error or f'HTTP {exchange.status}'})"
    waits = None if wanted in task_block(poll_of(ctx.contracts, feeder)).terminal else wanted
    trace = follow(ctx, feeder, exchange, task_id, until_terminal=True, waits=waits)
    last = trace.observations[-1] if trace.observations else None
    if last is None or last.status != wanted:
        return f"the task {task_id} of {feeder.id} {trace.summary()}, not in {wanted}"
    if spec.choice is None or spec.among is None:
        return task_id, None
    offered = [v for v in get_values(last.exchange.json(), spec.among) if isinstance(v, str)]
    if like is None:
        return (task_id, offered[0]) if offered else f"{task_id} offers no {spec.choice}"
    fit = next((v for v in offered if _masked(v) == _masked(like)), None)
    if fit is None:
        return f"the task {task_id} of {feeder.id} offers no {spec.choice} like {like!r}"
    return task_id, fit


def _probe_for(ctx: CheckContext, feeder: Operation, wanted: str) -> Probe | None:
    """The feeder's example that leaves its task in ``wanted`` (a branch's conditions met)."""
    probes = example_probes(feeder, ctx.profile)
    if wanted == task_block(poll_of(ctx.contracts, feeder)).success:
        plain = [p for p in probes if not waiting_state(feeder, p.json_body)]
        return (plain or probes)[0]
    return next((p for p in probes if waiting_state(feeder, p.json_body) == wanted), None)


def waiting_state(op: Operation, body: Any) -> str | None:
    """The state a submit with this body waits in until another continues it (the first
    ``task.branches`` entry whose conditions hold), or None."""
    if op.task is None:
        return None
    for branch in op.task.branches:
        if all(holds(c, body) for c in branch.when):
            return branch.waits
    return None


def _masked(value: Any) -> str:
    return _UUID.sub("*", str(value))


def _value(probe: Probe, name: str) -> Any:
    if name in template(probe.op.path).names:
        return probe.path_values.get(name)
    return first(get_values(probe.json_body, name))


def _set(probe: Probe, name: str, value: Any) -> None:
    if name in template(probe.op.path).names:
        probe.path_values[name] = str(value)
    else:
        set_values(probe.json_body, name, value)
