"""What a task was submitted with, shared by every worker: ``remember`` and ``recall``.

A task's facts are a small JSON object kept per task id: the answer values its submit
remembered (prompt, size, title... keyed by the poll answer's dotted path), the state a
``Prefer: task=<state>`` scenario asked for, the state it waits in (Midjourney's MODAL) and
when a continuing submit restarted it, the poll example it ends as, its parent. What the
facts mean is mockserver/render/task.py's business; this module only keeps them.

They live in the state store (mockserver/state/: SQLite in the state directory, or Redis), kind
``task.facts``, for as long as a task id is ours. ``remember`` merges new facts into the old
ones atomically (the store's ``merge``, RFC 7396), so two workers never lose each other's
writes. Best effort: a store that cannot be read or written only makes tasks forget.
"""

from __future__ import annotations

from typing import Any

from mockserver.state import StateStore
from mockserver.state.base import TASK_TTL

KIND = "task.facts"


def remember(store: StateStore | None, task_id: str, facts: dict[str, Any]) -> None:
    """Merge ``facts`` into what is known of the task (objects merge key by key; a null
    removes a key)."""
    if store is not None and facts:
        store.merge(KIND, task_id, facts, ttl=TASK_TTL)


def recall(store: StateStore | None, task_id: str) -> dict[str, Any]:
    """What is known of the task; empty when nothing is."""
    value = store.get(KIND, task_id) if store is not None else None
    return value if isinstance(value, dict) else {}
