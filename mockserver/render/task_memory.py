"""What a task remembers of its submit, and how a poll answer shows it.

A submit reads the request fields its contract's ``task.remember`` names and keeps their values
by the poll answer's dotted paths (``facts(...)``); a poll writes them back into the example
it answers with, in the example's own types (Kling's ``duration: "10"`` stays a string, a
number where the example has a number), stamps the submit time where the poll's
``task.submit_time`` says (in the example's form: ms, s or ISO 8601, the other time fields kept
at their distance from it), and makes the UUIDs at ``task.fresh_ids`` the task's own (derived
from the task id, so every worker and every poll agrees without storing them).
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.dotted import first, get_values, set_values
from contracts.model import TaskSpec

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_NAMESPACE = uuid.UUID("5b1f3e0a-8c5d-4a8e-9f61-72656c61796b")
_MS_FLOOR = 10**11
"""An epoch number at or above this is in milliseconds (year 1973 in ms, 5138 in seconds)."""


def facts(task: TaskSpec, body: Any) -> dict[str, Any]:
    """The facts a submit with this request body remembers: ``answer`` (answer path -> value;
    ``""`` empties a field the request did not give) and ``size`` (``WxH`` of result images)."""
    answer: dict[str, Any] = {}
    for source, targets in task.remember.items():
        value = first(get_values(body, source))
        if value is None:
            if source not in task.given_only:
                continue
            value = ""  # not None: a null in a JSON merge patch would delete the fact
        for target in targets:
            answer[target] = value
    out: dict[str, Any] = {"answer": answer} if answer else {}
    if task.result_size is not None:
        w, h = (first(get_values(body, p)) for p in task.result_size)
        if _positive(w) and _positive(h):
            out["size"] = f"{int(w)}x{int(h)}"
    return out


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def write_answer(body: Any, answer: dict[str, Any]) -> None:
    """Put remembered values at their answer paths (places the example has), in its types."""
    for path, value in answer.items():
        set_values(body, path, lambda like, v=value: like_example(v, like))


def like_example(value: Any, like: Any) -> Any:
    """``value`` in the type of the example's value ``like`` (``""`` or None empties it)."""
    if value is None or value == "":
        return "" if isinstance(like, str) else None
    if isinstance(like, bool) or isinstance(value, bool):
        return value
    if isinstance(like, str) and isinstance(value, int | float):
        return _number_text(value)
    if isinstance(like, int | float) and isinstance(value, str):
        try:
            number = float(value.strip().removesuffix("s"))
        except ValueError:
            return value
        return int(number) if isinstance(like, int) and number.is_integer() else number
    return value


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def stamp_times(task: TaskSpec, body: Any, submitted_ms: int) -> None:
    """The first ``submit_time`` path gets the submit time; the others (start, finish) keep the
    example's distance from the example's submit time. Zero and empty times stay as they are."""
    if not task.submit_time:
        return
    anchor = _instant(first(get_values(body, task.submit_time[0])))
    if anchor is None:
        return
    shift = datetime.fromtimestamp(submitted_ms / 1000, UTC) - anchor
    for path in task.submit_time:
        set_values(body, path, lambda like: _shifted(like, shift))


def _instant(value: Any) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) and value > 0:
        seconds = value / 1000 if value >= _MS_FLOOR else value
        return datetime.fromtimestamp(seconds, UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _shifted(like: Any, shift: timedelta) -> Any:
    at = _instant(like)
    if at is None:
        return like
    moved = at + shift
    if isinstance(like, str):
        text = moved.isoformat(timespec="milliseconds")
        return text.replace("+00:00", "Z") if like.endswith("Z") else text
    if like >= _MS_FLOOR:
        return int(moved.timestamp() * 1000)
    seconds = moved.timestamp()
    return round(seconds, 3) if isinstance(like, float) else int(seconds)


def freshen_ids(task: TaskSpec, body: Any, task_id: str) -> Any:
    """The answer with every UUID found at the ``fresh_ids`` paths replaced, wherever it
    appears, by one derived from the task id (the same at every poll, on every worker)."""
    found: dict[str, str] = {}
    for path in task.fresh_ids:
        for value in get_values(body, path):
            if isinstance(value, str):
                for old in _UUID.findall(value):
                    if old != task_id:
                        found.setdefault(old, str(uuid.uuid5(_NAMESPACE, f"{task_id}/{old}")))
    if not found:
        return body
    pattern = re.compile("|".join(map(re.escape, found)))
    return _replace(body, pattern, found)


def _replace(node: Any, pattern: re.Pattern[str], new: dict[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _replace(v, pattern, new) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace(v, pattern, new) for v in node]
    if isinstance(node, str):
        return pattern.sub(lambda m: new[m.group(0)], node)
    return node
