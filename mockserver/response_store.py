"""Stored Responses API responses: save, load and delete one JSON document by id.

What GET/DELETE /v1/responses/{id}, its input_items and ``previous_response_id`` chaining need,
shared by every worker process: a SQLite file in the state directory (``relaykit serve`` makes
one before its workers start), in WAL mode as mockserver/store.py keeps tasks, each call on its
own short connection. The document is whatever render/responses.py keeps (the response, its
input items, the conversation so far); this module knows nothing of its shape.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger("relaykit.mock.response_store")

FILE_NAME = "responses.sqlite3"
_SCHEMA = "CREATE TABLE IF NOT EXISTS responses (id TEXT PRIMARY KEY, document TEXT NOT NULL)"
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


def save(state_dir: str, doc_id: str, document: Any) -> bool:
    """Keep ``document`` under ``doc_id`` (replacing one there); False when it could not be."""
    try:
        with _connect(state_dir) as db:
            db.execute(
                "INSERT OR REPLACE INTO responses (id, document) VALUES (?, ?)",
                (doc_id, json.dumps(document, ensure_ascii=False)),
            )
    except sqlite3.Error:
        log.exception("cannot store response %s in %s", doc_id, state_dir)
        return False
    return True


def load(state_dir: str, doc_id: str) -> Any:
    """The document kept under ``doc_id``, or None."""
    try:
        with _connect(state_dir) as db:
            row = db.execute("SELECT document FROM responses WHERE id = ?", (doc_id,)).fetchone()
    except sqlite3.Error:
        log.exception("cannot read response %s from %s", doc_id, state_dir)
        return None
    return json.loads(row[0]) if row else None


def delete(state_dir: str, doc_id: str) -> bool:
    """Forget ``doc_id``; True when it was there."""
    try:
        with _connect(state_dir) as db:
            gone = db.execute("DELETE FROM responses WHERE id = ?", (doc_id,)).rowcount
    except sqlite3.Error:
        log.exception("cannot delete response %s from %s", doc_id, state_dir)
        return False
    return gone > 0
