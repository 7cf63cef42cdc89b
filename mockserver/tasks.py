"""Async tasks without shared state: the task id carries its submit time and scenario.

Any worker can answer a poll: it decodes the id and reads the task's state off the contract's
timeline and the clock. Ids keep the provider's look: 16 digits for Midjourney, a UUID (v7
layout) where the provider uses UUIDs, ``rk``-prefixed otherwise.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SCENARIOS = ("success", "failure")
_DIGITS = re.compile(r"^(\d{13})(\d)(\d{2})$")
_UUID = re.compile(r"^([0-9a-f]{8})-([0-9a-f]{4})-7([0-9a-f])[0-9a-f]{2}-[0-9a-f]{4}-[0-9a-f]{12}$")
_OTHER = re.compile(r"^rk(\d{13})(\d)[0-9a-z]+$")
_UUID_SHAPE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True, slots=True)
class TaskId:
    """What a task id says: when it was submitted (ms) and which scenario it plays."""

    submitted_ms: int
    scenario: str


def new_task_id(like: Any, submitted_ms: int, scenario: str = "success") -> str:
    """A fresh id shaped like the example id ``like``, encoding time and scenario."""
    code = SCENARIOS.index(scenario)
    sample = str(like) if like is not None else ""
    if sample.isdigit():
        return f"{submitted_ms:013d}{code}{secrets.randbelow(100):02d}"
    if _UUID_SHAPE.match(sample):
        h = f"{submitted_ms:012x}"
        r = secrets.token_hex(10)
        return f"{h[:8]}-{h[8:12]}-7{code:x}{r[:2]}-{r[2:6]}-{r[6:18]}"
    return f"rk{submitted_ms:013d}{code}{secrets.token_hex(5)}"


def decode_task_id(task_id: str) -> TaskId | None:
    """The time and scenario inside an id this mock issued; None for any other id."""
    for pattern, base in ((_DIGITS, 10), (_UUID, 16), (_OTHER, 10)):
        m = pattern.match(task_id)
        if m:
            if base == 16:
                ms, code = int(m.group(1) + m.group(2), 16), int(m.group(3), 16)
            else:
                ms, code = int(m.group(1)), int(m.group(2))
            if code < len(SCENARIOS):
                return TaskId(ms, SCENARIOS[code])
    return None


def state_at(task: Mapping[str, Any], elapsed: float, scenario: str) -> dict[str, Any]:
    """The timeline step in force ``elapsed`` seconds after submit (failure ends in failure)."""
    timeline = task.get("timeline") or [{"after": 0, "state": task["success"]}]
    step = dict(timeline[0])
    for entry in timeline:
        if entry["after"] <= elapsed:
            step = dict(entry)
    if scenario == "failure" and step["state"] == task["success"]:
        failed = next((s for s in task["terminal"] if s != task["success"]), task["success"])
        step = {"after": step["after"], "state": failed}
    return step
