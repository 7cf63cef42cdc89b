"""The default store: one SQLite file in the state directory every worker process shares
(``relaykit serve`` makes the directory before the workers start).

WAL mode lets readers and one writer work at once across processes; each call opens its own
short connection, so there is nothing to share between processes or to close.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from mockserver.state.base import StateStore, StateUrlError, StoreFailure

FILE_NAME = "state.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    expires_ms INTEGER,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires_ms) WHERE expires_ms IS NOT NULL;
CREATE TABLE IF NOT EXISTS log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    entry BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS log_by_name ON log (name, seq);
"""
_LIVE = "(expires_ms IS NULL OR expires_ms > ?)"
_ready: set[str] = set()


class SqliteStore(StateStore):
    """The store in ``<state_dir>/state.sqlite3``."""

    def __init__(self, state_dir: str) -> None:
        self.where = state_dir
        self.path = str(Path(state_dir) / FILE_NAME)

    def check(self) -> None:
        try:
            with self._connect():
                pass
        except StoreFailure as exc:
            raise StateUrlError(f"cannot use the state directory {self.where}: {exc}") from None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as db:
                db.execute("PRAGMA busy_timeout = 10000")
                if self.path not in _ready:
                    db.execute("PRAGMA journal_mode = WAL")
                    db.executescript(_SCHEMA)
                    _ready.add(self.path)
                db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable enough for a mock
                yield db
        except sqlite3.Error as exc:
            raise StoreFailure(str(exc)) from exc

    def _put(self, kind: str, key: str, value: bytes, ttl_ms: int | None) -> None:
        now = _now_ms()
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO kv (kind, key, value, expires_ms) VALUES (?, ?, ?, ?)",
                (kind, key, value, None if ttl_ms is None else now + ttl_ms),
            )
            if ttl_ms is not None:
                db.execute("DELETE FROM kv WHERE expires_ms <= ?", (now,))

    def _add(self, kind: str, key: str, value: bytes, ttl_ms: int | None) -> tuple[bytes, bool]:
        now = _now_ms()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute(
                f"SELECT value FROM kv WHERE kind = ? AND key = ? AND {_LIVE}", (kind, key, now)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT OR REPLACE INTO kv (kind, key, value, expires_ms) VALUES (?, ?, ?, ?)",
                    (kind, key, value, None if ttl_ms is None else now + ttl_ms),
                )
            db.execute("COMMIT")
        return (value, True) if row is None else (bytes(row[0]), False)

    def _get(self, kind: str, key: str) -> bytes | None:
        with self._connect() as db:
            row = db.execute(
                f"SELECT value FROM kv WHERE kind = ? AND key = ? AND {_LIVE}",
                (kind, key, _now_ms()),
            ).fetchone()
        return None if row is None else bytes(row[0])

    def _delete(self, kind: str, key: str) -> bool:
        with self._connect() as db:
            gone = db.execute("DELETE FROM kv WHERE kind = ? AND key = ?", (kind, key))
        return gone.rowcount > 0

    def _append(self, name: str, entry: bytes, keep: int) -> int:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            seq = db.execute("INSERT INTO log (name, entry) VALUES (?, ?)", (name, entry)).lastrowid
            db.execute(
                "DELETE FROM log WHERE name = ?1 AND seq < (SELECT seq FROM log WHERE name = ?1 "
                "ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
                (name, keep - 1),
            )
            db.execute("COMMIT")
        assert seq is not None
        return int(seq)

    def _tail(self, name: str, limit: int) -> list[tuple[int, bytes]]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT seq, entry FROM log WHERE name = ? ORDER BY seq DESC LIMIT ?",
                (name, limit),
            ).fetchall()
        return [(int(seq), bytes(entry)) for seq, entry in reversed(rows)]

    def _clear(self, name: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM log WHERE name = ?", (name,))


def _now_ms() -> int:
    return int(time.time() * 1000)
