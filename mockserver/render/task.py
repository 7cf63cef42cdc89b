"""Async task renderers (submit and poll), driven by the contract's ``task`` block.

The state of a task comes from its id and the clock (mockserver/tasks.py); the store
(mockserver/state/) adds which tasks were submitted and which were cancelled, and the task's
facts (mockserver/task_facts.py) what it was submitted with: remembered request values, a
``Prefer: task=<state>`` state, the state it waits in until a submit continues it (MJ's MODAL),
the example it ends as. A poll picks the poll operation's example for the current state, puts
the task id, state, progress and remembered values in (render/task_memory.py), and points
result URLs of kinds mockserver.files serves at /_relaykit/files/<id>-<n>.<ext>. A submit that
names an earlier task (``task.parent``) is checked against that task as a poll shows it.
Lists render every task through the same poll and fit it into the list example's shape.
"""

from __future__ import annotations

import copy
import itertools
import math
import time
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import orjson

from contracts.dotted import (
    first,
    get_values,
    replace_strings,
    set_values,
    slots,
    state_text,
    typed,
)
from contracts.model import Answer, Example, Operation, TaskBranch, TaskSpec
from contracts.selection import holds
from mockserver import task_facts
from mockserver.callbacks import Snapshot, callback_url, notify
from mockserver.files import FILES_PREFIX, SERVED_KINDS
from mockserver.render.context import JsonRenderer, Raw, RenderContext, RenderError
from mockserver.render.task_memory import facts, freshen_ids, stamp_times, write_answer
from mockserver.tasks import (
    SCENARIOS,
    Step,
    cancel_state,
    changes,
    decode_task_id,
    is_current,
    named_state,
    new_task_id,
    state_at,
)

BANNED_EXAMPLE = "prompt-banned"
"""A submit example of this name answers ``Prefer: task=banned`` (no task is created)."""
NOT_CANCELLABLE_EXAMPLE = "not-cancellable"
"""A cancel example of this name answers the cancel of a finished task."""
NOT_FOUND_EXAMPLE = "not-found"
"""A poll example of this name answers an unknown id when the contract documents no 404."""
FAILURE_NAMES = ("failure", "failed", "fail", "error")
"""Names of the failure example where the states cannot tell a failure from a success."""
IMAGE_KINDS = ("png", "jpg", "jpeg", "webp")
LIST_LIMIT = 100


# --- operations named by a task block --------------------------------------------------------


def operation(ctx: RenderContext, op_id: Any) -> Operation | None:
    """The operation a task block names (e.g. the poll of a submit), or None."""
    if not isinstance(op_id, str):
        return None
    if ctx.contracts is None:
        return None
    try:
        return ctx.contracts.get(op_id)
    except KeyError:
        return None


def task_block(op: Operation) -> TaskSpec:
    """The operation's task block (the loader gives every task renderer's operation one, and
    every poll a submit, list or cancel names)."""
    if op.task is None:
        raise RenderError(500, f"{op.id}: the contract has no task block.")
    return op.task


def servable(op: Operation) -> list[Example]:
    return [e for e in op.response.examples if e.servable]


def _status(op: Operation, value: Any) -> str | None:
    found = get_values(value, task_block(op).status_field)
    return state_text(found[0]) if found else None


def _documented(op: Operation) -> set[str]:
    """The states the operation's examples show."""
    return {s for e in servable(op) if (s := _status(op, e.value)) is not None}


def _success_examples(op: Operation) -> list[Example]:
    success = task_block(op).success
    return [e for e in servable(op) if _status(op, e.value) == success]


# --- poll: the task as it stands at a moment ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class Polled:
    """A task rendered at one moment: the body, the step it is at, and a status other than the
    operation's (202 when no example documents a running task)."""

    body: Any
    step: Step
    terminal: bool
    status: int | None = None


def poll_task(ctx: RenderContext, op: Operation, task_id: str, now_ms: int) -> Polled | None:
    """The task ``task_id`` as ``op`` (a poll) answers it at ``now_ms``; None if not ours."""
    decoded = decode_task_id(task_id)
    if decoded is None or not is_current(decoded, now_ms):
        return None
    task = task_block(op)
    speed = ctx.task_speed
    known = task_facts.recall(ctx.store, task_id)
    resumed = known.get("resumed_ms")
    start_ms = resumed if isinstance(resumed, int) else decoded.submitted_ms
    waits = known.get("waits") if resumed is None else None
    named = known.get("state") if isinstance(known.get("state"), str) else None

    def elapsed(at_ms: int) -> float:
        return max(0.0, (at_ms - start_ms) / 1000 * speed)

    def at(at_ms: int) -> Step:
        if isinstance(waits, str):
            return Step(0.0, waits)
        return state_at(task, elapsed(at_ms), decoded.scenario, documented, named)

    documented = _documented(op)
    step = at(now_ms)
    cancelled = ctx.store.cancelled_at(task_id) if ctx.store else None
    if cancelled is not None and cancelled <= now_ms:
        before = at(cancelled)
        target = cancel_state(task, documented)
        if target is not None and not _is_terminal(task, before):
            step = Step(before.after, target, failed=True)
    terminal = _is_terminal(task, step)
    ends_as = known.get("ends_as")
    example = _choose(op, step, decoded.variant, ends_as if isinstance(ends_as, str) else None)
    if example is None:  # only a running state without any example (Stability's 202)
        body = {"id": task_id, "status": step.state}
        return Polled(body, step, terminal, status=202)
    body = copy.deepcopy(example.value)
    old_id = first(get_values(body, task.id_field))
    if isinstance(old_id, str) and old_id:
        body = replace_strings(body, old_id, task_id)
    body = freshen_ids(task, body, task_id)
    answer = known.get("answer")
    if isinstance(answer, dict):
        write_answer(body, answer)
    stamp_times(task, body, decoded.submitted_ms)
    set_values(body, task.status_field, lambda like: typed(step.state, like))
    if step.has_progress and task.progress_field and not step.failed:
        set_values(body, task.progress_field, step.progress)
    size = known.get("size")
    _serve_results(ctx, task, body, task_id, size if isinstance(size, str) else "")
    return Polled(body, step, terminal)


def _is_terminal(task: TaskSpec, step: Step) -> bool:
    return step.failed or step.state in task.terminal


def _choose(op: Operation, step: Step, variant: int, ends_as: str | None = None) -> Example | None:
    """The example to show for a step: the success the task ends as (its submit's branch, else
    the id's variant), the state's own example, the failure example, or any example of a
    running state."""
    task = task_block(op)
    examples = servable(op)
    if not examples:
        return None
    if step.state == task.success and not step.failed:
        ending = op.example(ends_as) if ends_as else None
        if ending is not None and ending.servable:
            return ending
        successes = _success_examples(op) or examples
        return successes[variant] if variant < len(successes) else successes[0]
    same = [e for e in examples if _status(op, e.value) == step.state]
    if same and not (step.state == task.success and step.failed):
        return same[0]
    if _is_terminal(task, step):
        named = [e for e in examples if e.name in FAILURE_NAMES]
        ended = [e for e in examples if _status(op, e.value) in task.failures]
        return (named or ended or examples)[0]
    running = [e for e in examples if _status(op, e.value) not in task.terminal]
    return running[0] if running else None


def _serve_results(
    ctx: RenderContext, task: TaskSpec, body: Any, task_id: str, size: str = ""
) -> None:
    counter = itertools.count()  # one numbering for all result URLs: unique file names
    for path in task.result_urls:
        for container, key in slots(body, path):
            url = container[key]
            container[key] = _served(ctx, task_id, container, url, next(counter), size)


def _served(
    ctx: RenderContext, task_id: str, parent: Any, url: Any, index: int, asked: str = ""
) -> Any:
    """A result URL of a kind mockserver.files serves, pointed there; images sized by the
    width and height beside the URL, else the size the submit asked for (``asked``)."""
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return url
    ext = PurePosixPath(urlsplit(url).path).suffix.lower().lstrip(".")
    if ext not in SERVED_KINDS:
        return url  # kinds mockserver.files does not serve keep their documented URL
    size = (_size(parent) or (f"-{asked}" if asked else "")) if ext in IMAGE_KINDS else ""
    return f"{ctx.base_url.rstrip('/')}{FILES_PREFIX}{task_id}-{index}{size}.{ext}"


def _size(parent: Any) -> str:
    """``-WxH`` when the URL sits beside its width and height (or a WxH resolution)."""
    if not isinstance(parent, dict):
        return ""
    w, h = parent.get("width"), parent.get("height")
    if isinstance(w, int) and isinstance(h, int) and not isinstance(w, bool) and w > 0 and h > 0:
        return f"-{w}x{h}"
    res = parent.get("resolution")
    if isinstance(res, str) and res.count("x") == 1 and res.replace("x", "").isdigit():
        return f"-{res}"
    return ""


def task_id_of(ctx: RenderContext, param: str) -> str:
    value = ctx.path_params.get(param) or ctx.query.get(param) or ctx.field(param)
    if not isinstance(value, str) or not value:
        raise RenderError(400, f"Missing task id ({param}).")
    return value


def now_ms() -> int:
    return int(time.time() * 1000)


def render_poll(ctx: RenderContext) -> Any:
    """The task as it stands now: state and progress off the timeline, result URLs served here."""
    task = task_block(ctx.op)
    task_id = task_id_of(ctx, task.id_param)
    polled = poll_task(ctx, ctx.op, task_id, now_ms())
    if polled is None:
        return _not_found(ctx, task_id)
    if polled.status is not None:
        return Raw(orjson.dumps(polled.body), "application/json", polled.status)
    return polled.body


def _not_found(ctx: RenderContext, task_id: str) -> Any:
    """An id this mock did not issue: 404, or the provider's own answer when the contract
    documents it as a 200 example (Flux's status "Task not found") and no 404."""
    example = ctx.op.example(NOT_FOUND_EXAMPLE)
    if example is None or any(e.status == 404 for e in ctx.op.errors.documented):
        raise RenderError(404, f"Task {task_id} not found.")
    body = copy.deepcopy(example.value)
    set_values(body, task_block(ctx.op).id_field, task_id)
    return body


# --- submit ------------------------------------------------------------------------------------


def render_submit(ctx: RenderContext) -> Any:
    """The submit example with a fresh task id (time, scenario, variant); records the task, its
    facts and schedules its callbacks. An example without a task id (a refusal) creates no task.
    A submit naming an earlier task answers as its contract says when that task is unknown, in
    the wrong state or lacks the choice sent; one that continues it answers the same id."""
    task = task_block(ctx.op)
    if ctx.scenario == "banned" and (refused := ctx.op.example(BANNED_EXAMPLE)) is not None:
        return copy.deepcopy(refused.value)
    poll = operation(ctx, task.poll)
    scenario, named = _scenario(ctx, poll)
    now = now_ms()
    parent_id, inherited = None, {}
    if poll is not None and task.parent is not None:
        checked = _check_parent(ctx, task, poll, now)
        if not isinstance(checked, tuple):
            return checked
        parent_id, inherited = checked
    branch = _branch(ctx, task)
    example = ctx.example
    if branch is not None and branch.answer and example is ctx.op.example():
        example = ctx.op.example(branch.answer)
    body = copy.deepcopy(example.value) if example else {}
    id_field = task.id_field
    old = first(get_values(body, id_field))
    if old is None:
        return body
    if poll is not None and task.parent is None:
        _require_parent(ctx, poll)
    remembered = facts(task, ctx.body)
    if parent_id is not None and task.parent is not None and task.parent.continues:
        task_facts.remember(ctx.store, parent_id, {**remembered, "resumed_ms": now})
        set_values(body, id_field, parent_id)
        return body
    task_id = new_task_id(old, now, scenario, _variant(poll, old))
    set_values(body, id_field, task_id)
    if poll is not None:
        known: dict[str, Any] = dict(remembered)
        if inherited:
            known["answer"] = {**inherited, **remembered.get("answer", {})}
        write_answer(body, known.get("answer", {}))  # where the submit's answer shows them too
        if named is not None:
            known["state"] = named
        if parent_id is not None:
            known["parent"] = parent_id
        if branch is not None:
            known.update(
                {k: v for k, v in (("waits", branch.waits), ("ends_as", branch.ends_as)) if v}
            )
        task_facts.remember(ctx.store, task_id, known)
        if ctx.store is not None:
            ctx.store.record_submit(poll.id, task_id, now)
        _schedule_callbacks(ctx, task, poll, task_id, now, named)
    return body


def _scenario(ctx: RenderContext, poll: Operation | None) -> tuple[str, str | None]:
    """The id's scenario and the poll state a ``Prefer: task=<state>`` names (or None)."""
    if ctx.scenario in SCENARIOS:
        return ctx.scenario, None
    polled = task_block(poll) if poll is not None else None
    named = named_state(polled, ctx.scenario) if polled is not None else None
    if polled is None or named is None:
        states = ", ".join(polled.states) if polled is not None else ""
        raise RenderError(
            400,
            f"Prefer: task={ctx.scenario} is not one of {', '.join(SCENARIOS)}"
            + (f" or a state of {poll.id if poll else ''} ({states})" if states else ""),
            param="Prefer",
        )
    failing = named in polled.terminal and named != polled.success
    return ("failure" if failing else "success"), named


def _request_value(ctx: RenderContext, name: str) -> Any:
    """A path parameter, query parameter or body field (dotted path) of the request."""
    return ctx.path_params.get(name) or ctx.query.get(name) or first(get_values(ctx.body, name))


def _check_parent(
    ctx: RenderContext, task: TaskSpec, poll: Operation, now: int
) -> tuple[str | None, dict[str, Any]] | Any:
    """(the parent's id, the answer values it remembers), or the answer the contract gives
    when the parent is unknown, in the wrong state, or lacks the choice sent."""
    spec = task.parent
    assert spec is not None
    parent_id = _request_value(ctx, spec.field)
    if not isinstance(parent_id, str) or not parent_id:
        if spec.optional:
            return None, {}
        raise RenderError(400, f"Missing {spec.field}.", param=spec.field)
    polled = poll_task(ctx, poll, parent_id, now)
    if polled is None:
        return _answer(ctx, spec.unknown, f"Task {parent_id} not found.")
    wanted = spec.state or task_block(poll).success
    if polled.step.failed or polled.step.state != wanted:
        why = f"Task {parent_id} is {polled.step.state}, not {wanted}."
        return _answer(ctx, spec.wrong_state, why)
    if spec.choice is not None and spec.among is not None:
        chosen = _request_value(ctx, spec.choice)
        offered = get_values(polled.body, spec.among)
        if chosen not in offered:
            why = f"Task {parent_id} offers no {spec.choice} {chosen!r}."
            return _answer(ctx, spec.bad_choice, why)
    remembered = task_facts.recall(ctx.store, parent_id).get("answer")
    return parent_id, remembered if isinstance(remembered, dict) else {}


def _answer(ctx: RenderContext, answer: Answer, message: str) -> Any:
    """A named response example, or the documented error of a status (its example), else the
    envelope's error for it."""
    if isinstance(answer, str):
        example = ctx.op.example(answer)
        if example is not None:
            return copy.deepcopy(example.value)
        raise RenderError(400, message)
    documented = next(
        (e for e in ctx.op.errors.documented if e.status == answer and e.example is not None),
        None,
    )
    if documented is None:
        raise RenderError(answer, message)
    return Raw(orjson.dumps(documented.example), "application/json", answer)


def _branch(ctx: RenderContext, task: TaskSpec) -> TaskBranch | None:
    return next((b for b in task.branches if all(holds(c, ctx.body) for c in b.when)), None)


def _variant(poll: Operation | None, old_id: Any) -> int:
    """Which success example of the poll this submit ends in: the one whose task id is the
    submit example's (describe -> describe result, Kling images -> images); else the first."""
    if poll is None:
        return 0
    id_field = task_block(poll).id_field
    for i, example in enumerate(_success_examples(poll)):
        if old_id in get_values(example.value, id_field):
            return i
    return 0


def _require_parent(ctx: RenderContext, poll: Operation) -> None:
    """A submit whose path names an earlier task (Luma extend) needs it to exist and be done."""
    param = task_block(poll).id_param
    parent = ctx.path_params.get(param)
    if not parent:
        return
    polled = poll_task(ctx, poll, parent, now_ms())
    if polled is None:
        raise RenderError(404, f"Task {parent} not found.")
    if polled.step.failed or polled.step.state != task_block(poll).success:
        raise RenderError(400, f"Task {parent} is not completed (state {polled.step.state}).")


def _schedule_callbacks(
    ctx: RenderContext,
    task: TaskSpec,
    poll: Operation,
    task_id: str,
    submitted_ms: int,
    named: str | None = None,
) -> None:
    field = task.callback_field
    url = callback_url(first(get_values(ctx.body, field))) if field else None
    if url is None:
        return
    times = [
        submitted_ms + math.ceil(after * 1000 / ctx.task_speed)
        for after in changes(task_block(poll), ctx.scenario, _documented(poll), named)
    ]

    def snapshot(at_ms: int) -> Snapshot | None:
        polled = poll_task(ctx, poll, task_id, at_ms)
        if polled is None:
            return None
        return polled.body, (polled.step.state, polled.step.failed), polled.terminal

    ctx.after.append(lambda: notify(url, times, snapshot))


JSON: dict[str, JsonRenderer] = {
    "task.submit": render_submit,
    "task.poll": render_poll,
}
