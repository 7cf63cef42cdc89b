"""Async tasks without shared state: the task id carries its submit time, scenario and variant.

Any worker can answer a poll: it decodes the id and reads the task's state off the contract's
timeline and the clock. Ids keep the provider's look: digits for Midjourney (16) and Zhipu, a
UUID (v7 layout) where the provider uses UUIDs, lowercase hex of the example's length for long
hex ids (Stability) after the example's word prefix if it has one (OpenAI's ``video_``),
``rk``-prefixed otherwise. One id character (the "code") holds the
scenario and the variant: which of the poll's success examples the task ends in (a describe
task ends in the describe result, a Kling image task in images).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from contracts.model import TaskSpec, TimelineStep

SCENARIOS = ("success", "failure", "banned")
"""``Prefer: task=<scenario>``: end in success, end in the provider's failure, or a banned prompt
(refused at submit where the contract documents it, else the task fails right after submit)."""
_DIGITS = re.compile(r"^(\d{13})(\d)(\d{2,})$")
_UUID = re.compile(r"^([0-9a-f]{8})-([0-9a-f]{4})-7([0-9a-f])[0-9a-f]{2}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HEX = re.compile(r"^([0-9a-f]{12})([0-9a-f])[0-9a-f]{11,}$")
_OTHER = re.compile(r"^rk(\d{13})(\d)[0-9a-z]+$")
_UUID_SHAPE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_HEX_SHAPE = re.compile(r"^[0-9a-f]{24,128}$")
_PREFIXED = re.compile(r"^([a-z]{2,16}_)([0-9a-f]{24,128})$")
"""A word prefix before a long hex id (OpenAI's ``video_68d7...``): the prefix is kept."""
_MISSING: Any = object()


@dataclass(frozen=True, slots=True)
class TaskId:
    """What a task id says: when it was submitted (ms), its scenario and its result variant."""

    submitted_ms: int
    scenario: str
    variant: int = 0


@dataclass(frozen=True, slots=True)
class Step:
    """The task at one moment: its state, its progress (when the timeline gives one), and
    ``failed`` when a failure scenario ends in a state the contract cannot tell from success."""

    after: float
    state: str
    progress: Any = _MISSING
    failed: bool = False

    @property
    def has_progress(self) -> bool:
        """True when the timeline gives a progress value for this step."""
        return self.progress is not _MISSING


def _code(scenario: str, variant: int, limit: int) -> int:
    code = SCENARIOS.index(scenario) + len(SCENARIOS) * variant
    return code if code < limit else SCENARIOS.index(scenario)  # too many variants: the default


def new_task_id(like: Any, submitted_ms: int, scenario: str = "success", variant: int = 0) -> str:
    """A fresh id shaped like the example id ``like``, encoding time, scenario and variant."""
    sample = str(like) if like is not None else ""
    prefixed = _PREFIXED.match(sample)
    if prefixed:
        return prefixed.group(1) + new_task_id(prefixed.group(2), submitted_ms, scenario, variant)
    if sample.isdigit():  # 16 digits (Midjourney), or the example's length when longer
        tail = max(2, len(sample) - 14)
        code = _code(scenario, variant, 10)
        return f"{submitted_ms:013d}{code}{secrets.randbelow(10**tail):0{tail}d}"
    if _UUID_SHAPE.match(sample):
        h = f"{submitted_ms:012x}"
        r = secrets.token_hex(10)
        code = _code(scenario, variant, 16)
        return f"{h[:8]}-{h[8:12]}-7{code:x}{r[:2]}-{r[2:6]}-{r[6:18]}"
    if _HEX_SHAPE.match(sample):
        head = f"{submitted_ms:012x}{_code(scenario, variant, 16):x}"
        return head + secrets.token_hex(len(sample))[: len(sample) - len(head)]
    return f"rk{submitted_ms:013d}{_code(scenario, variant, 10)}{secrets.token_hex(5)}"


def decode_task_id(task_id: str) -> TaskId | None:
    """The time, scenario and variant inside an id this mock issued; None for any other id."""
    prefixed = _PREFIXED.match(task_id)
    if prefixed:
        task_id = prefixed.group(2)
    for pattern, base in ((_DIGITS, 10), (_UUID, 16), (_HEX, 16), (_OTHER, 10)):
        m = pattern.match(task_id)
        if not m:
            continue
        if pattern is _UUID:
            ms, code = int(m.group(1) + m.group(2), 16), int(m.group(3), 16)
        else:
            ms, code = int(m.group(1), base), int(m.group(2), base)
        variant, scenario = divmod(code, len(SCENARIOS))
        return TaskId(ms, SCENARIOS[scenario], variant)
    return None


MAX_AGE_MS = 7 * 24 * 3600 * 1000
"""Tasks older than a week are forgotten (404): it keeps ids from the contracts' examples and
random numbers from passing as tasks this mock issued."""
FUTURE_SLACK_MS = 60_000


def is_current(task: TaskId, now_ms: int) -> bool:
    """True when the id's submit time is one this mock can have issued: not older than
    MAX_AGE_MS, not in the future (a minute of clock skew between workers allowed)."""
    return now_ms - MAX_AGE_MS <= task.submitted_ms <= now_ms + FUTURE_SLACK_MS


def failure_state(task: TaskSpec, documented: Collection[str] = ()) -> str | None:
    """The state a failed task ends in: the first terminal state that is not the success,
    preferring one the poll's examples document (Flux: Content Moderated rather than Error)."""
    failures = task.failures
    return next((s for s in failures if s in documented), failures[0] if failures else None)


def cancel_state(task: TaskSpec, documented: Collection[str] = ()) -> str | None:
    """The state a cancelled task shows: the last terminal state besides success and failure
    (Midjourney's CANCEL), else the failure state."""
    failed = failure_state(task, documented)
    others = [s for s in task.failures if s != failed]
    return others[-1] if others else failed


def named_state(task: TaskSpec, wanted: str) -> str | None:
    """The poll state a ``Prefer: task=<state>`` names: case, spaces, dashes and underscores do
    not count (``not-start`` is NOT_START, ``request-moderated`` is "Request Moderated")."""
    key = _state_key(wanted)
    return next((s for s in task.states if _state_key(s) == key), None)


def _state_key(text: str) -> str:
    return re.sub(r"[\s_-]+", "", text).lower()


def state_at(
    task: TaskSpec,
    elapsed: float,
    scenario: str,
    documented: Collection[str] = (),
    named: str | None = None,
) -> Step:
    """The timeline step in force ``elapsed`` seconds after submit.

    ``failure`` replaces the success step by the failure state; ``banned`` does so from the
    second step on (the provider refuses the prompt once it looks at it). A contract without a
    failure state keeps the success state and marks the step ``failed``. A ``named`` state
    (``Prefer: task=<state>``) replaces the first step when the state is not terminal (the task
    waits there, NOT_START, QUEUED, THROTTLED..., then runs on), and the success when it is a
    terminal state other than success (CANCELLED, Request Moderated...).
    """
    steps = task.timeline
    index = 0
    for i, entry in enumerate(steps):
        if entry.after <= elapsed:
            index = i
    entry = steps[index]
    if named is not None and named != task.success:
        if named not in task.terminal:
            if index == 0:
                return Step(entry.after, named)
        elif entry.state == task.success:
            return Step(entry.after, named, failed=True)
    failing = (scenario == "failure" and entry.state == task.success) or (
        scenario == "banned" and index > 0
    )
    if not failing:
        return Step(entry.after, entry.state, _progress(entry))
    failed = failure_state(task, documented)
    if failed is None:
        return Step(entry.after, str(task.success), failed=True)
    return Step(entry.after, failed, failed=True)


def _progress(entry: TimelineStep) -> Any:
    return entry.progress if entry.has_progress else _MISSING


def changes(
    task: TaskSpec, scenario: str, documented: Collection[str] = (), named: str | None = None
) -> list[float]:
    """The times (seconds after submit, at speed 1) at which the state changes, first included."""
    times: list[float] = []
    last: tuple[str, bool] | None = None
    for entry in task.timeline:
        step = state_at(task, entry.after, scenario, documented, named)
        if (step.state, step.failed) != last:
            times.append(step.after)
            last = (step.state, step.failed)
    return times
