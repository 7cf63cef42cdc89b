"""What a task was submitted with, shared by every worker: ``remember`` and ``recall``.

A task's facts are a small JSON object kept per task id: the answer values its submit
remembered (prompt, size, title... keyed by the poll answer's dotted path), the state a
``Prefer: task=<state>`` scenario asked for, the state it waits in (Midjourney's MODAL) and
when a continuing submit restarted it, the poll example it ends as, its parent. What the
facts mean is mockserver/render/task.py's business; this module only keeps them.

Like mockserver/store.py, a SQLite file in the state directory every worker shares (WAL mode,
one short connection per call). ``remember`` merges new facts into the old ones in one
statement (SQLite's ``json_patch``, RFC 7396), so two workers never lose each other's
writes. Best effort: a store that cannot be read or written only makes tasks forget.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger("relaykit.mock.task_facts")

FILE_NAME = "task_facts.sqlite3"
_SCHEMA = "CREATE TABLE IF NOT EXISTS facts (task_id TEXT PRIMARY KEY, facts TEXT NOT NULL)"
_ready: set[str] = set()


@contextmanager
def _connect(state_dir: str) -> Iterator[sqlite3.Connection]:
    path = str(Path(state_dir) / FILE_NAME)
    with closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as db:
        db.execute("PRAGMA busy_timeout = 10000")
        if path not in _ready:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute(_SCHEMA)
            _ready.add(path)
        yield db


def remember(state_dir: str, task_id: str, facts: dict[str, Any]) -> None:
    """Merge ``facts`` into what is known of the task (objects merge key by key; a null
    removes a key)."""
    if not state_dir or not facts:
        return
    text = json.dumps(facts, ensure_ascii=False)
    try:
        with _connect(state_dir) as db:
            db.execute(
                "INSERT INTO facts (task_id, facts) VALUES (?, json_patch('{}', ?)) "
                "ON CONFLICT (task_id) DO UPDATE SET facts = json_patch(facts, excluded.facts)",
                (task_id, text),
            )
    except sqlite3.Error:
        log.exception("cannot remember the facts of task %s in %s", task_id, state_dir)


def recall(state_dir: str, task_id: str) -> dict[str, Any]:
    """What is known of the task; empty when nothing is."""
    if not state_dir:
        return {}
    try:
        with _connect(state_dir) as db:
            row = db.execute("SELECT facts FROM facts WHERE task_id = ?", (task_id,)).fetchone()
    except sqlite3.Error:
        log.exception("cannot recall the facts of task %s from %s", task_id, state_dir)
        return {}
    if row is None:
        return {}
    value = json.loads(row[0])
    return value if isinstance(value, dict) else {}
