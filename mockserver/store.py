"""What a task id cannot carry: which tasks were submitted, and which were cancelled.

A tiny SQLite file in the state directory every worker process shares (``relaykit serve``
makes one before the workers start). WAL mode lets readers and one writer work at once across
processes; each call opens its own short connection, so there is nothing to share or close.
Task state itself stays derived from the id and the clock (mockserver/tasks.py): the store only
answers "which ids" (lists, queue) and "cancelled when" (cancel).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("relaykit.mock.store")

FILE_NAME = "tasks.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS submitted (
    task_id TEXT PRIMARY KEY,
    poll TEXT NOT NULL,
    submitted_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS submitted_by_poll ON submitted (poll, submitted_ms);
CREATE TABLE IF NOT EXISTS cancelled (
    task_id TEXT PRIMARY KEY,
    cancelled_ms INTEGER NOT NULL
);
"""
_ready: set[str] = set()


@dataclass(frozen=True, slots=True)
class Submitted:
    """One submitted task: its id and when it was submitted (ms)."""

    task_id: str
    submitted_ms: int


@contextmanager
def _connect(state_dir: str) -> Iterator[sqlite3.Connection]:
    path = str(Path(state_dir) / FILE_NAME)
    with closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as db:
        db.execute("PRAGMA busy_timeout = 10000")
        if path not in _ready:
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(_SCHEMA)
            _ready.add(path)
        yield db


def record_submit(state_dir: str, poll: str, task_id: str, submitted_ms: int) -> None:
    """Remember a submitted task under the id of the operation that polls it (best effort: a
    store that cannot be written only leaves the task out of lists)."""
    if not state_dir:
        return
    try:
        with _connect(state_dir) as db:
            db.execute(
                "INSERT OR IGNORE INTO submitted (task_id, poll, submitted_ms) VALUES (?, ?, ?)",
                (task_id, poll, submitted_ms),
            )
    except sqlite3.Error:
        log.exception("cannot record task %s in %s", task_id, state_dir)


def submitted(state_dir: str, poll: str, limit: int = 1000) -> list[Submitted]:
    """The tasks submitted for one poll operation, newest first (at most ``limit``)."""
    if not state_dir:
        return []
    try:
        with _connect(state_dir) as db:
            rows = db.execute(
                "SELECT task_id, submitted_ms FROM submitted WHERE poll = ? "
                "ORDER BY submitted_ms DESC, rowid DESC LIMIT ?",
                (poll, limit),
            ).fetchall()
    except sqlite3.Error:
        log.exception("cannot read submitted tasks from %s", state_dir)
        return []
    return [Submitted(str(r[0]), int(r[1])) for r in rows]


def record_cancel(state_dir: str, task_id: str, cancelled_ms: int) -> int | None:
    """Mark a task cancelled (the first cancel wins); the time it was cancelled, or None when
    there is no store to remember it in."""
    if not state_dir:
        return None
    try:
        with _connect(state_dir) as db:
            db.execute(
                "INSERT OR IGNORE INTO cancelled (task_id, cancelled_ms) VALUES (?, ?)",
                (task_id, cancelled_ms),
            )
            row = db.execute(
                "SELECT cancelled_ms FROM cancelled WHERE task_id = ?", (task_id,)
            ).fetchone()
    except sqlite3.Error:
        log.exception("cannot record the cancel of %s in %s", task_id, state_dir)
        return None
    return int(row[0])


def cancelled_at(state_dir: str, task_id: str) -> int | None:
    """When the task was cancelled (ms), or None."""
    if not state_dir:
        return None
    try:
        with _connect(state_dir) as db:
            row = db.execute(
                "SELECT cancelled_ms FROM cancelled WHERE task_id = ?", (task_id,)
            ).fetchone()
    except sqlite3.Error:
        log.exception("cannot read cancels from %s", state_dir)
        return None
    return int(row[0]) if row else None
