"""Follow an async task: submit it, poll it with backoff, and keep what every poll showed.

A ``TaskTrace`` is the evidence the task checks (suites/tasks.py) judge: the submit's exchange,
the task id, and one ``Observation`` per poll (HTTP answer, status, parsed progress). Operations
whose path needs a task id they do not create get one from ``fresh_task``.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from itertools import takewhile
from typing import Any

from contracts.dotted import first, get_values, state_text
from contracts.model import ContractSet, Operation, TaskSpec
from contracts.paths import template
from suites.context import CheckContext
from suites.probes import Probe, default_path_values, example_probes
from suites.transport import Exchange, RunStopped

MEDIA_UNITS = frozenset({"image", "audio", "video", "music"})
"""Cost units whose submit counts as a paid media call."""
BACKOFF = 1.5
MAX_WAIT = 10.0
"""Polling waits grow 1.5x from limits.poll_interval up to this many seconds."""
MAX_MISSES = 3
"""Polls in a row without a 2xx answer after which following stops."""
MJ_ACCEPTED = frozenset({1, 21, 22})
"""Midjourney submit codes that mean a task exists: submitted, already exists, queued."""
_SEGMENT_PARAM = re.compile(r"^\{([^}]+)\}$")


class TaskUnavailable(Exception):
    """No task can be made for an operation; the message says why (the caller records a SKIP)."""


@dataclass(slots=True)
class Observation:
    """One poll: when it answered (seconds after following began), the exchange, the status
    read at the poll's status_field (None when absent or not a 2xx), progress in percent."""

    at: float
    exchange: Exchange
    status: str | None
    progress: float | None
    body: Any

    @property
    def answered(self) -> bool:
        """True when the poll got a 2xx answer."""
        return self.exchange.status is not None and 200 <= self.exchange.status < 300


@dataclass(slots=True)
class TaskTrace:
    """One task from submit to the last poll.

    ``ended``: "terminal", "timeout", "refused" (non-2xx polls in a row), "error" (transport),
    "off-contract" (a poll showed a status outside the contract's states: polling stops at
    once), "no-id" (nothing to poll), "first-poll" (followed for one poll only), "submitted"
    (not polled at all), "waiting" (in the state the contract says the submit waits in until
    another continues it: Midjourney's MODAL) or "stopped" (the run stopped sending: its
    deadline, a dead relay).
    """

    submit_op: Operation
    poll_op: Operation
    task_id: str | None
    path_values: dict[str, str]
    observations: list[Observation]
    ended: str
    submit_exchange: Exchange | None = None
    detail: str = ""
    limit: float = 0.0
    """The task_seconds the task was followed for."""

    @property
    def task(self) -> TaskSpec:
        """The poll operation's task block (states, transitions...)."""
        return task_block(self.poll_op)

    def states(self) -> list[str]:
        """The states the polls showed, in order (polls without a status left out)."""
        return [o.status for o in self.observations if o.status is not None]

    def final_state(self) -> str | None:
        """The last state a poll showed, or None."""
        states = self.states()
        return states[-1] if states else None

    @property
    def succeeded(self) -> bool:
        """True when the task ended in the contract's success state."""
        return self.ended == "terminal" and self.final_state() == self.task.success

    def summary(self) -> str:
        """A short account for messages, e.g. ``ended timeout in state IN_PROGRESS``."""
        waited = self.observations[-1].at if self.observations else 0.0
        state = self.final_state()
        shown = f" in state {state}" if state is not None else ""
        detail = f" ({self.detail})" if self.detail else ""
        return f"ended {self.ended}{shown} after {waited:.1f} s{detail}"


# --- the operations a task involves ------------------------------------------------------------


def task_block(op: Operation) -> TaskSpec:
    """The task block of a submit, poll, list or cancel; ValueError for an operation without."""
    if op.task is None:
        raise ValueError(f"{op.id} has no task block")
    return op.task


def poll_of(contracts: ContractSet, op: Operation) -> Operation:
    """The poll operation of a submit, list or cancel (a poll is its own)."""
    if op.task_role == "poll":
        return op
    return contracts.get(str(task_block(op).poll))


def paid_calls(op: Operation) -> int:
    """1 for a paid media submit (image, audio, video, music), else 0."""
    return 1 if op.cost.paid and op.cost.unit in MEDIA_UNITS else 0


def mj_code(op: Operation, body: Any) -> int | None:
    """The midjourney-proxy ``code`` of a Midjourney submit answer, None for other families."""
    if op.family != "midjourney" or not isinstance(body, dict):
        return None
    code = body.get("code")
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def task_id_in(op: Operation, body: Any) -> str | None:
    """The non-empty task id at the submit's id_field, or None."""
    value = first(get_values(body, task_block(op).id_field))
    if isinstance(value, bool) or not isinstance(value, str | int) or value == "":
        return None
    return str(value)


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/")


def fill_path(
    target: Operation, source: Operation, id_param: str | None, task_id: str
) -> dict[str, str]:
    """Path values for ``target``: the task id under ``id_param``, parameters taken from the
    submit's path at the same segment positions (Kling's {action}/{action2}), else defaults."""
    values = default_path_values(target)
    theirs = _segments(source.path)
    for i, segment in enumerate(_segments(target.path)):
        m = _SEGMENT_PARAM.match(segment)
        if i >= len(theirs):
            break
        if m is None:
            if segment != theirs[i]:
                break  # past the shared prefix the segments mean different things
            continue
        if m.group(1) != id_param and not _SEGMENT_PARAM.match(theirs[i]):
            values[m.group(1)] = theirs[i]
    if id_param is not None:  # also when it travels in the query or body (Flux, ideogram)
        values[id_param] = task_id
    return values


def poll_probe(ctx: CheckContext, trace: TaskTrace) -> Probe:
    """The poll request for the trace's task: the id in the path, the query or a JSON body."""
    poll = trace.poll_op
    param = task_block(poll).id_param
    task_id = trace.task_id or ""
    if param in template(poll.path).names:
        return Probe(poll, "task:poll", None, dict(trace.path_values))
    if poll.method == "GET":
        return Probe(poll, "task:poll", None, dict(trace.path_values), {param: task_id})
    base = example_probes(poll, ctx.profile)[0].json_body
    return Probe(poll, "task:poll", {**base, param: task_id}, dict(trace.path_values))


# --- reading a poll -----------------------------------------------------------------------------


def read_status(task: TaskSpec, body: Any, http_status: int | None) -> str | None:
    """The status at status_field; a 202 without one may carry a documented state at
    ``status`` (Stability's running answer)."""
    found = get_values(body, task.status_field)
    if found:
        return state_text(found[0])
    if http_status == 202 and isinstance(body, dict):
        alt = body.get("status")
        if isinstance(alt, str) and alt in task.states:
            return alt
    return None


def parse_progress(value: Any, fmt: str | None) -> float | None:
    """Progress in percent from "45%", 45 or (``fraction``) 0.45; None when not reported."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        percent = text.endswith("%")
        try:
            number = float(text.rstrip("%").strip())
        except ValueError:
            return None
        return number * 100 if fmt == "fraction" and not percent else number
    if isinstance(value, int | float):
        return float(value) * 100 if fmt == "fraction" else float(value)
    return None


def read_progress(task: TaskSpec, body: Any) -> float | None:
    """The parsed progress of a poll body, None when the contract has none or it is absent."""
    field_path = task.progress_field
    fmt = task.progress_format
    if not field_path or fmt == "none":
        return None
    return parse_progress(first(get_values(body, field_path)), fmt)


# --- submit and follow ---------------------------------------------------------------------------


def submit_probe(ctx: CheckContext, op: Operation) -> Probe:
    """The op's first example probe, with a fresh task id where its path needs one
    (Luma extend) or its body names a parent task (an MJ action: suites.task_parents);
    TaskUnavailable when none can be had."""
    from suites.task_parents import fill_parent  # it follows tasks with this module

    probe = example_probes(op, ctx.profile)[0]
    no_parent = fill_parent(ctx, op, probe)
    if no_parent is not None:
        raise TaskUnavailable(no_parent)
    if probe.missing_params:
        got = fresh_task(ctx, op)
        if isinstance(got, str):
            raise TaskUnavailable(got)
        probe.path_values.update(got[0])
    return probe


def submit(
    ctx: CheckContext, submit_op: Operation, probe: Probe | None = None
) -> tuple[Exchange, str | None]:
    """Send the submit (the first example unless ``probe``); the task id read at id_field, or
    None when the answer is not a 2xx or (Midjourney) its code says no task was made."""
    if probe is None:
        probe = submit_probe(ctx, submit_op)
    note = probe.describe_body() if submit_op.request.content_type != "application/json" else ""
    exchange = ctx.transport.send(
        probe.build(ctx.transport), paid_calls=paid_calls(submit_op), body_note=note
    )
    if exchange.status is None or not 200 <= exchange.status < 300:
        return exchange, None
    body = exchange.json()
    code = mj_code(submit_op, body)
    if code is not None and code not in MJ_ACCEPTED:
        return exchange, None
    return exchange, task_id_in(submit_op, body)


def start_trace(
    ctx: CheckContext, submit_op: Operation, exchange: Exchange | None, task_id: str | None
) -> TaskTrace:
    """A trace of a submitted task that has not been polled yet."""
    poll = poll_of(ctx.contracts, submit_op)
    param = task_block(poll).id_param
    values = fill_path(poll, submit_op, param, task_id) if task_id else {}
    ended = "submitted" if task_id else "no-id"
    limit = ctx.transport.limits.task_seconds
    return TaskTrace(submit_op, poll, task_id, values, [], ended, exchange, limit=limit)


def follow(
    ctx: CheckContext,
    submit_op: Operation,
    exchange: Exchange | None,
    task_id: str | None,
    *,
    until_terminal: bool,
    waits: str | None = None,
) -> TaskTrace:
    """Poll the task at once, then with backoff until a terminal state (or ``waits``, the state
    the submit waits in), task_seconds, or MAX_MISSES polls in a row without a 2xx
    (``until_terminal=False``: the first poll only)."""
    trace = start_trace(ctx, submit_op, exchange, task_id)
    if task_id is None:
        trace.detail = "the submit gave no task id"
        return trace
    # The transport's limits are the run's (the runner builds it from the profile).
    limits = ctx.transport.limits
    terminal = set(trace.task.terminal)
    started = time.monotonic()
    wait = limits.poll_interval
    misses = 0
    while True:
        try:
            observation = _poll_once(ctx, trace, started)
        except RunStopped as exc:  # the run's deadline, or a relay not answering
            trace.ended, trace.detail = "stopped", str(exc)
            return trace
        trace.observations.append(observation)
        if not until_terminal:
            trace.ended = "first-poll"
            return trace
        misses = 0 if observation.answered else misses + 1
        if misses >= MAX_MISSES:
            sent = observation.exchange
            trace.ended = "error" if sent.status is None else "refused"
            trace.detail = sent.error or f"HTTP {sent.status}"
            return trace
        if observation.answered and observation.status in terminal:
            trace.ended = "terminal"
            return trace
        if observation.answered and waits is not None and observation.status == waits:
            trace.ended = "waiting"
            return trace
        if off_contract(trace, observation):  # no legal state can follow: waiting is futile
            trace.ended = "off-contract"
            trace.detail = f"status {observation.status!r}"
            return trace
        elapsed = time.monotonic() - started
        if elapsed >= limits.task_seconds:
            trace.ended = "timeout"
            return trace
        time.sleep(min(wait, limits.task_seconds - elapsed, ctx.transport.guard.time_left()))
        wait = min(MAX_WAIT, wait * BACKOFF)


def off_contract(trace: TaskTrace, observation: Observation) -> bool:
    """True when a 2xx poll shows a status outside the contract's states (or none at all,
    except a 202 that says the task is still running)."""
    states = trace.task.states
    if not states or not observation.answered:
        return False
    if observation.status is None:
        return observation.exchange.status != 202
    return observation.status not in states


def _poll_once(ctx: CheckContext, trace: TaskTrace, started: float) -> Observation:
    probe = poll_probe(ctx, trace)
    exchange = ctx.transport.send(probe.build(ctx.transport))
    at = time.monotonic() - started
    if exchange.status is None or not 200 <= exchange.status < 300:
        return Observation(at, exchange, None, None, None)
    body = exchange.json()
    status = read_status(trace.task, body, exchange.status)
    return Observation(at, exchange, status, read_progress(trace.task, body), body)


# --- a fresh task for operations that need one ------------------------------------------------


def _canonical(contracts: ContractSet, submit_op: Operation) -> bool:
    """True when the poll's first success example is this submit's task (imagine for MJ)."""
    task = task_block(poll_of(contracts, submit_op))
    examples = [e for e in poll_of(contracts, submit_op).response.examples if e.servable]
    success = [e for e in examples if read_status(task, e.value, 200) == task.success]
    mine = [task_id_in(submit_op, e.value) for e in submit_op.response.examples[:1]]
    theirs = get_values(success[0].value, task.id_field) if success else []
    return bool(mine) and mine[0] in theirs


def feeders(contracts: ContractSet, op: Operation) -> list[Operation]:
    """Submit operations that make a task ``op`` can use, best first: those feeding its poll
    (or, without a task block, of its family), needing no task themselves, canonical, cheap."""
    task = op.task
    role = op.task_role
    wanted = op.id if role == "poll" else task.poll if task is not None else None
    submits = [s for s in contracts if s.task_role == "submit" and s.id != op.id]
    if wanted:
        chosen = [s for s in submits if task_block(s).poll == wanted]
    else:
        chosen = [s for s in submits if s.family == op.family]
    order = {s.id: i for i, s in enumerate(chosen)}

    def rank(s: Operation) -> tuple[bool, int, bool, float, int]:
        needs_task = any(n not in default_path_values(s) for n in template(s.path).names)
        pairs = zip(_segments(poll_of(contracts, s).path), _segments(op.path), strict=False)
        near = sum(1 for _ in takewhile(lambda p: p[0] == p[1], pairs))
        return (needs_task, -near, not _canonical(contracts, s), s.cost.estimate, order[s.id])

    return sorted(chosen, key=rank)


def id_param_of(op: Operation, poll: Operation) -> str | None:
    """The parameter of ``op`` that carries the task id (a poll's or cancel's own id_param, in
    the path, query or body), or None."""
    if op.task is not None and op.task.role in ("poll", "cancel") and op.task.id_param:
        return op.task.id_param
    names = template(op.path).names
    if task_block(poll).id_param in names:
        return task_block(poll).id_param
    missing = [n for n in names if n not in default_path_values(op)]
    return missing[0] if len(missing) == 1 else None


def offered_feeder(ctx: CheckContext, op: Operation) -> Operation | str:
    """The best submit that makes a task for ``op`` among those the relay offers, or why
    there is none."""
    candidates = feeders(ctx.contracts, op)
    if not candidates:
        return f"no submit operation makes a task for {op.id}"
    offered = [c for c in candidates if c.id not in ctx.unoffered]
    if not offered:
        first = candidates[0].id
        return (
            f"not checkable: it needs a task from {first}, which the relay does not offer "
            f"({ctx.unoffered[first]})"
        )
    return offered[0]


def fresh_task(ctx: CheckContext, op: Operation) -> tuple[dict[str, str], TaskTrace] | str:
    """Path values carrying a task submitted for ``op``, and its trace: a poll's task followed
    to its end, a cancel's not polled, others' (extend, download, image-seed) followed and
    required to succeed. A reason string when no such task can be had."""
    feeder = offered_feeder(ctx, op)
    if isinstance(feeder, str):
        return feeder
    poll = poll_of(ctx.contracts, feeder)
    param = id_param_of(op, poll)
    if param is None:
        return f"the path of {op.id} carries no task id"
    exchange, task_id = submit(ctx, feeder)
    if task_id is None:
        answered = exchange.error or f"HTTP {exchange.status}"
        return f"the submit {feeder.id} that would feed {op.id} gave no task id ({answered})"
    role = op.task_role
    if role == "cancel":  # polled only after the cancel: the task must still be running
        trace = start_trace(ctx, feeder, exchange, task_id)
    else:
        trace = follow(ctx, feeder, exchange, task_id, until_terminal=True)
        if role != "poll" and not trace.succeeded:
            return f"the task {task_id} of {feeder.id} that {op.id} needs {trace.summary()}"
    return fill_path(op, feeder, param, task_id), trace
