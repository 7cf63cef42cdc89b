"""Async task renderers (submit and poll), driven by the contract's ``task`` block.

The state of a task comes from its id and the clock (mockserver/tasks.py); the store
(mockserver/state/) only adds which tasks were submitted and which were cancelled. A poll
picks the poll operation's example for the current state, puts the task id, state and progress
in, and points result URLs of kinds mockserver.files serves at /_relaykit/files/<id>-<n>.<ext>.
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
from contracts.model import Example, Operation, TaskSpec
from mockserver.callbacks import Snapshot, callback_url, notify
from mockserver.files import FILES_PREFIX, SERVED_KINDS
from mockserver.render.context import JsonRenderer, Raw, RenderContext, RenderError
from mockserver.tasks import (
    Step,
    cancel_state,
    changes,
    decode_task_id,
    is_current,
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

    def elapsed(at_ms: int) -> float:
        return max(0.0, (at_ms - decoded.submitted_ms) / 1000 * speed)

    documented = _documented(op)
    step = state_at(task, elapsed(now_ms), decoded.scenario, documented)
    cancelled = ctx.store.cancelled_at(task_id) if ctx.store else None
    if cancelled is not None and cancelled <= now_ms:
        before = state_at(task, elapsed(cancelled), decoded.scenario, documented)
        target = cancel_state(task, documented)
        if target is not None and not _is_terminal(task, before):
            step = Step(before.after, target, failed=True)
    terminal = _is_terminal(task, step)
    example = _choose(op, step, decoded.variant)
    if example is None:  # only a running state without any example (Stability's 202)
        body = {"id": task_id, "status": step.state}
        return Polled(body, step, terminal, status=202)
    body = copy.deepcopy(example.value)
    old_id = first(get_values(body, task.id_field))
    if isinstance(old_id, str) and old_id:
        body = replace_strings(body, old_id, task_id)
    set_values(body, task.status_field, lambda like: typed(step.state, like))
    if step.has_progress and task.progress_field and not step.failed:
        set_values(body, task.progress_field, step.progress)
    _serve_results(ctx, task, body, task_id)
    return Polled(body, step, terminal)


def _is_terminal(task: TaskSpec, step: Step) -> bool:
    return step.failed or step.state in task.terminal


def _choose(op: Operation, step: Step, variant: int) -> Example | None:
    """The example to show for a step: the variant's success, the state's own example, the
    failure example, or any example of a running state."""
    task = task_block(op)
    examples = servable(op)
    if not examples:
        return None
    if step.state == task.success and not step.failed:
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


def _serve_results(ctx: RenderContext, task: TaskSpec, body: Any, task_id: str) -> None:
    counter = itertools.count()  # one numbering for all result URLs: unique file names
    for path in task.result_urls:
        for container, key in slots(body, path):
            container[key] = _served(ctx, task_id, container, container[key], next(counter))


def _served(ctx: RenderContext, task_id: str, parent: Any, url: Any, index: int) -> Any:
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return url
    ext = PurePosixPath(urlsplit(url).path).suffix.lower().lstrip(".")
    if ext not in SERVED_KINDS:
        return url  # kinds mockserver.files does not serve keep their documented URL
    size = _size(parent) if ext in IMAGE_KINDS else ""
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
    """The submit example with a fresh task id (time, scenario, variant); records the task and
    schedules its callbacks. An example without a task id (a refusal) creates no task."""
    task = task_block(ctx.op)
    if ctx.scenario == "banned" and (refused := ctx.op.example(BANNED_EXAMPLE)) is not None:
        return copy.deepcopy(refused.value)
    body = copy.deepcopy(ctx.example.value) if ctx.example else {}
    id_field = task.id_field
    old = first(get_values(body, id_field))
    if old is None:
        return body
    poll = operation(ctx, task.poll)
    if poll is not None:
        _require_parent(ctx, poll)
    now = now_ms()
    task_id = new_task_id(old, now, ctx.scenario, _variant(poll, old))
    set_values(body, id_field, task_id)
    if poll is not None:
        if ctx.store is not None:
            ctx.store.record_submit(poll.id, task_id, now)
        _schedule_callbacks(ctx, task, poll, task_id, now)
    return body


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
    ctx: RenderContext, task: TaskSpec, poll: Operation, task_id: str, submitted_ms: int
) -> None:
    field = task.callback_field
    url = callback_url(first(get_values(ctx.body, field))) if field else None
    if url is None:
        return
    times = [
        submitted_ms + math.ceil(after * 1000 / ctx.task_speed)
        for after in changes(task_block(poll), ctx.scenario, _documented(poll))
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
