"""The default store: one SQLite file in the state directory every worker process shares
(``relaykit serve`` makes the directory before the workers start).

WAL mode lets readers and one writer work at once across processes. Each process keeps one
connection (opened on first use, so never inherited across a fork; a lock serialises the threads
that share it, e.g. an embedded mock's server thread and the test reading its journal) and each
call is its own short transaction. A connection per call would be simpler, but closing the last
connection to a WAL database checkpoints it with an fsync: ~16 ms on a busy disk, on every
journaled request. A connection that fails is dropped and opened afresh by the next call.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


class SqliteStore(StateStore):
    """The store in ``<state_dir>/state.sqlite3``."""

    def __init__(self, state_dir: str) -> None:
        self.where = state_dir
        self.path = str(Path(state_dir) / FILE_NAME)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._pid = 0

    def check(self) -> None:
        try:
            with self._connect():
                pass
        except StoreFailure as exc:
            raise StateUrlError(f"cannot use the state directory {self.where}: {exc}") from None
        finally:
            self.close()

    def close(self) -> None:
        with self._lock:
            self._drop()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._open()
            except sqlite3.Error as exc:
                self._drop()
                raise StoreFailure(str(exc)) from exc

    def _open(self) -> sqlite3.Connection:
        if self._db is not None and self._pid == os.getpid():
            return self._db
        self._db = None  # a connection from before a fork is the parent's: never used here
        db = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA busy_timeout = 10000")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")  # WAL: durable enough for a mock
            db.executescript(_SCHEMA)
        except sqlite3.Error:
            db.close()
            raise
        self._db, self._pid = db, os.getpid()
        return db

    def _drop(self) -> None:
        db, self._db = self._db, None
        if db is not None and self._pid == os.getpid():
            with contextlib.suppress(sqlite3.Error):
                db.close()

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
        with self._connect() as db, _transaction(db):
            row = db.execute(
                f"SELECT value FROM kv WHERE kind = ? AND key = ? AND {_LIVE}", (kind, key, now)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT OR REPLACE INTO kv (kind, key, value, expires_ms) VALUES (?, ?, ?, ?)",
                    (kind, key, value, None if ttl_ms is None else now + ttl_ms),
                )
        return (value, True) if row is None else (bytes(row[0]), False)

    def _update(
        self, kind: str, key: str, change: Callable[[bytes | None], bytes], ttl_ms: int | None
    ) -> bytes:
        now = _now_ms()
        with self._connect() as db, _transaction(db):
            row = db.execute(
                f"SELECT value FROM kv WHERE kind = ? AND key = ? AND {_LIVE}", (kind, key, now)
            ).fetchone()
            value = change(None if row is None else bytes(row[0]))
            db.execute(
                "INSERT OR REPLACE INTO kv (kind, key, value, expires_ms) VALUES (?, ?, ?, ?)",
                (kind, key, value, None if ttl_ms is None else now + ttl_ms),
            )
        return value

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

    def _append(self, name: str, entries: list[bytes], keep: int) -> int:
        with self._connect() as db, _transaction(db):
            rows = [(name, entry) for entry in entries]
            db.executemany("INSERT INTO log (name, entry) VALUES (?, ?)", rows)
            seq = db.execute("SELECT last_insert_rowid()").fetchone()[0]
            db.execute(
                "DELETE FROM log WHERE name = ?1 AND seq < (SELECT seq FROM log WHERE name = ?1 "
                "ORDER BY seq DESC LIMIT 1 OFFSET ?2)",
                (name, keep - 1),
            )
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


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction, taken at once (no upgrade deadlock between processes); rolled
    back when anything fails, so the kept connection is clean for the next call."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _now_ms() -> int:
    return int(time.time() * 1000)
