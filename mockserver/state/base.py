"""The store's interface: a few primitives each backend implements, and everything the mock
asks of them built once on top (task submissions and cancels, best-effort reads and writes).

Values are JSON (encoded with orjson). Keys live in a ``kind`` (a namespace such as
``task.cancelled`` or ``responses``); a value may expire after ``ttl`` seconds. A log is an
ordered list of JSON entries with a sequence number, trimmed to the last ``keep`` on every
append, shared by every process that uses the same store.

A store that cannot be read or written never breaks an answer: each public method logs the
failure once per call and returns its "nothing" (None, [], False), as the SQLite store always
did; ``check`` is the one place that raises, for `relaykit serve` to refuse a bad ``--state-url``
before it starts.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson

log = logging.getLogger("relaykit.mock.state")

Json = Any
"""A value orjson can write: dict, list, str, int, float, bool or None."""
T = TypeVar("T")

TASK_TTL = 7 * 24 * 3600.0
"""How long task facts are kept (seconds): older ids are not ours (mockserver/tasks.py)."""
SUBMITTED_KEEP = 10_000
"""Submitted tasks remembered per poll operation (lists show the newest)."""
SUBMITTED = "task.submitted"
CANCELLED = "task.cancelled"


class StateUrlError(ValueError):
    """A state URL or directory that cannot be used; the message is one line."""


class StoreFailure(Exception):
    """A backend could not read or write (its own error, wrapped)."""


@dataclass(frozen=True, slots=True)
class Submitted:
    """One submitted task: its id and when it was submitted (ms)."""

    task_id: str
    submitted_ms: int


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One entry of a log and its sequence number (increasing, unique within the log)."""

    seq: int
    value: Json


class StateStore(ABC):
    """State shared by every worker (and, with Redis, every machine) of one mock."""

    where: str
    """What the store is, for messages: a directory, or a URL without its password."""

    # --- what a backend implements (may raise StoreFailure) ------------------------------------

    @abstractmethod
    def check(self) -> None:
        """Raise StateUrlError (one line) unless the store can be read and written."""

    @abstractmethod
    def _put(self, kind: str, key: str, value: bytes, ttl_ms: int | None) -> None: ...

    @abstractmethod
    def _add(self, kind: str, key: str, value: bytes, ttl_ms: int | None) -> tuple[bytes, bool]:
        """Store ``value`` unless the key holds one; the value held after, and whether it is
        this one."""

    @abstractmethod
    def _get(self, kind: str, key: str) -> bytes | None: ...

    @abstractmethod
    def _update(
        self, kind: str, key: str, change: Callable[[bytes | None], bytes], ttl_ms: int | None
    ) -> bytes:
        """Replace the value with ``change(old)`` (None when absent), atomically across
        processes (``change`` may run more than once); the value written."""

    @abstractmethod
    def _delete(self, kind: str, key: str) -> bool: ...

    @abstractmethod
    def _append(self, name: str, entries: list[bytes], keep: int) -> int:
        """Append the entries, in order, to the log and keep its last ``keep`` entries, at once
        (no other writer's entry lands between them); the last one's sequence number."""

    @abstractmethod
    def _tail(self, name: str, limit: int) -> list[tuple[int, bytes]]:
        """The last ``limit`` entries of the log, oldest first."""

    @abstractmethod
    def _clear(self, name: str) -> None: ...

    def close(self) -> None:  # noqa: B027 (a backend with nothing to close keeps this)
        """Release connections (the SQLite store holds none between calls)."""

    # --- the generic interface --------------------------------------------------------------------

    def put(self, kind: str, key: str, value: Json, ttl: float | None = None) -> bool:
        """Keep ``value`` under ``kind``/``key`` (replacing any), for ``ttl`` seconds if given;
        False when the store could not be written."""
        data = _dumps(value)
        write = lambda: _done(lambda: self._put(kind, key, data, _ms(ttl)))  # noqa: E731
        return bool(self._attempt(f"write {kind}/{key}", write))

    def add(self, kind: str, key: str, value: Json, ttl: float | None = None) -> Json | None:
        """Keep ``value`` unless the key already holds one (the first wins); the value kept, or
        None when the store could not be written."""
        data = _dumps(value)
        held = self._attempt(f"write {kind}/{key}", lambda: self._add(kind, key, data, _ms(ttl)))
        return None if held is None else orjson.loads(held[0])

    def get(self, kind: str, key: str) -> Json | None:
        """The value under ``kind``/``key``, or None (absent, expired, or unreadable)."""
        data = self._attempt(f"read {kind}/{key}", lambda: self._get(kind, key))
        return None if data is None else orjson.loads(data)

    def update(
        self,
        kind: str,
        key: str,
        change: Callable[[Json | None], Json],
        ttl: float | None = None,
    ) -> Json | None:
        """Replace the value with ``change(old)`` (``old`` None when absent), atomically: two
        workers updating one key never lose each other's change. ``change`` may be called more
        than once (Redis retries when another writer came first), so it must only compute.
        The new value, or None when the store could not be written."""

        def raw(old: bytes | None) -> bytes:
            return _dumps(change(None if old is None else orjson.loads(old)))

        held = self._attempt(f"update {kind}/{key}", lambda: self._update(kind, key, raw, _ms(ttl)))
        return None if held is None else orjson.loads(held)

    def merge(
        self, kind: str, key: str, patch: dict[str, Json], ttl: float | None = None
    ) -> Json | None:
        """Merge ``patch`` into the object under the key (RFC 7396 JSON Merge Patch: objects
        merge key by key, a null removes a key, anything else replaces), atomically; the merged
        object, or None when the store could not be written."""
        return self.update(kind, key, lambda old: merge_patch(old, patch), ttl)

    def delete(self, kind: str, key: str) -> bool:
        """Forget ``kind``/``key``; True when it was there."""
        return bool(self._attempt(f"delete {kind}/{key}", lambda: self._delete(kind, key)))

    def append(self, name: str, entry: Json, keep: int) -> int | None:
        """Append to the log ``name``, which keeps its last ``keep`` entries; the entry's
        sequence number, or None when the store could not be written."""
        return self.extend(name, [entry], keep)

    def extend(self, name: str, entries: Sequence[Json], keep: int) -> int | None:
        """Append the entries, in order, to the log ``name`` in one write (one transaction, one
        script), which keeps its last ``keep`` entries; the last one's sequence number, or None
        when there were none or the store could not be written."""
        if not entries:
            return None
        data = [_dumps(entry) for entry in entries]
        return self._attempt(f"append to {name}", lambda: self._append(name, data, max(1, keep)))

    def tail(self, name: str, limit: int) -> list[LogEntry]:
        """The last ``limit`` entries of the log ``name``, oldest first."""
        rows = self._attempt(f"read {name}", lambda: self._tail(name, max(0, limit))) or []
        return [LogEntry(seq, orjson.loads(data)) for seq, data in rows]

    def clear(self, name: str) -> bool:
        """Empty the log ``name`` (its sequence numbers keep increasing)."""
        return bool(self._attempt(f"clear {name}", lambda: _done(lambda: self._clear(name))))

    # --- tasks: what an id cannot carry -----------------------------------------------------------

    def record_submit(self, poll: str, task_id: str, submitted_ms: int) -> None:
        """Remember a submitted task under the id of the operation that polls it (a second
        record of one id is ignored; a store that cannot be written leaves it out of lists)."""
        data = _dumps(poll)
        held = self._attempt(
            f"record task {task_id}",
            lambda: self._add(SUBMITTED, task_id, data, _ms(TASK_TTL)),
        )
        if held is not None and held[1]:
            self.append(_tasks_log(poll), [task_id, submitted_ms], SUBMITTED_KEEP)

    def submitted(self, poll: str, limit: int = 1000) -> list[Submitted]:
        """The tasks submitted for one poll operation, newest first (at most ``limit``)."""
        rows = self.tail(_tasks_log(poll), limit)
        return [Submitted(str(e.value[0]), int(e.value[1])) for e in reversed(rows)]

    def record_cancel(self, task_id: str, cancelled_ms: int) -> int | None:
        """Mark a task cancelled (the first cancel wins); when it was cancelled, or None when
        the store could not remember it."""
        held = self.add(CANCELLED, task_id, cancelled_ms, ttl=TASK_TTL)
        return None if held is None else int(held)

    def cancelled_at(self, task_id: str) -> int | None:
        """When the task was cancelled (ms), or None."""
        held = self.get(CANCELLED, task_id)
        return None if held is None else int(held)

    # ----------------------------------------------------------------------------------------------

    def _attempt(self, what: str, call: Callable[[], T]) -> T | None:
        try:
            return call()
        except StoreFailure as exc:
            log.warning("state store %s: cannot %s: %s", self.where, what, exc)
            return None


def _done(call: Callable[[], None]) -> bool:
    call()
    return True


def merge_patch(target: Json, patch: Json) -> Json:
    """``target`` with ``patch`` applied as RFC 7396 describes."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = merge_patch(merged.get(name), value)
    return merged


def _dumps(value: Json) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)  # {1: ...} as json.dumps writes it


def _tasks_log(poll: str) -> str:
    return f"tasks:{poll}"


def _ms(ttl: float | None) -> int | None:
    return None if ttl is None else max(1, int(ttl * 1000))
