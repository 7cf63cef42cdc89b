"""Where the request journal keeps its entries: in this process's memory, or in the state
store when other processes answer for the same mock (``relaykit serve --workers N``, a Redis
store), so that whichever process a client asks has every entry.

Both take *records* (what an exchange left: mockserver/journal.py) and a ``build`` function
that makes a record the entry a reader sees (secrets masked, the body summarised). The work
is done when it must be: ``MemoryLog`` builds an entry when it is first read, so an entry
pushed out by newer ones before anyone asked was never built (journaling a request under load
costs a deque append); ``StoreLog`` builds entries when it writes them, and writes them in
batches: one write (one SQLite transaction, one Redis script) for all the exchanges that ended
within ``FLUSH_DELAY`` (one write per request cost ~170 µs, seven times the rest of a cheap
request: bench/README.md).

Readers: ``entries`` gives the log as this process can see it now (its own queued records
flushed first); ``settled`` first gives the other processes time to flush theirs (``SETTLE``),
so an HTTP reader finds every exchange that ended before it asked. Entries come in the order
the exchanges ended. Across processes, batches are written in the order they are flushed, not
the order their exchanges ended, so ``StoreLog`` keeps each entry's end time beside it, keeps
``2 * keep`` entries in the store, and gives the last ``keep`` by end time: a request answered
by one worker just before another's is listed before it, and neither is trimmed in its place.
Thread-safe: an embedded mock's server thread adds records while a test thread reads them.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from mockserver.state import LogEntry, StateStore

FLUSH_DELAY = 0.005
"""Seconds a record waits for others before ``StoreLog`` writes them."""
BATCH = 256
"""Records ``StoreLog`` writes at once without waiting for the timer."""
SETTLE = 0.05
"""Seconds a reader of a shared log waits for the other processes to flush: ten flush delays,
so a process whose event loop is busy with other answers for a while still makes it."""

Build = Callable[[Any], dict[str, Any]]
"""Makes a record the entry readers see."""


class JournalLog(Protocol):
    """What the journal middleware needs of a log."""

    keep: int

    def add(self, record: Any) -> None:
        """Keep the record of one exchange."""

    def entries(self) -> list[LogEntry]:
        """The kept entries, oldest first, as this process sees them now."""

    async def settled(self) -> list[LogEntry]:
        """``entries`` once every process had time to write what it answered."""

    def clear(self) -> None:
        """Forget every entry (sequence numbers keep increasing)."""

    async def settled_clear(self) -> None:
        """``clear`` once every process had time to write what it answered."""


class MemoryLog:
    """The last ``keep`` records of this process, built into entries when first read."""

    def __init__(self, keep: int, build: Build) -> None:
        self.keep = keep
        self.build = build
        self._kept: deque[list[Any]] = deque(maxlen=keep)  # [seq, record, built entry or None]
        self._seq = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, record: Any) -> None:
        self._kept.append([next(self._seq), record, None])  # deque.append: atomic

    def entries(self) -> list[LogEntry]:
        with self._lock:
            found = []
            for slot in list(self._kept):
                if slot[2] is None:
                    slot[2], slot[1] = self.build(slot[1]), None  # the record is not needed now
                found.append(LogEntry(slot[0], slot[2]))
            return found

    async def settled(self) -> list[LogEntry]:
        return self.entries()

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    async def settled_clear(self) -> None:
        self.clear()


class StoreLog:
    """The log ``name`` of a state store other processes write to too, fed in batches."""

    def __init__(self, store: StateStore, name: str, keep: int, build: Build) -> None:
        self.store = store
        self.name = name
        self.keep = keep
        self.build = build
        self._pending: list[Any] = []
        self._pending_lock = threading.Lock()  # held for a list operation, never for a write
        self._write_lock = threading.Lock()  # one batch written at a time, in the order taken
        self._timer: asyncio.AbstractEventLoop | None = None
        """The loop a flush timer is due on."""

    def add(self, record: Any) -> None:
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # no event loop here (a direct call): written at once
            loop = None
        with self._pending_lock:
            self._pending.append((time.time(), record))
            full = loop is None or len(self._pending) >= BATCH
            # a timer is due on this loop already (one on a loop since stopped never fires)
            start_timer = not full and self._timer is not loop
            if start_timer:
                self._timer = loop
        if full:
            self.flush()
        elif start_timer and loop is not None:
            loop.call_later(FLUSH_DELAY, self._on_timer)

    def flush(self) -> None:
        """Write every queued record now."""
        with self._write_lock:
            with self._pending_lock:
                batch, self._pending = self._pending, []
            if batch:
                rows = [[ended, self.build(record)] for ended, record in batch]
                self.store.extend(self.name, rows, 2 * self.keep)

    def entries(self) -> list[LogEntry]:
        self.flush()
        rows = [
            (e.value[0], e.seq, e.value[1])
            for e in self.store.tail(self.name, 2 * self.keep)
            if isinstance(e.value, list) and len(e.value) == 2 and isinstance(e.value[1], dict)
        ]
        rows.sort(key=lambda row: (row[0], row[1]))  # by end time, then as written
        return [LogEntry(seq, entry) for _, seq, entry in rows[-self.keep :]]

    async def settled(self) -> list[LogEntry]:
        await self._settle()
        return self.entries()

    def clear(self) -> None:
        self.flush()
        self.store.clear(self.name)

    async def settled_clear(self) -> None:
        await self._settle()
        self.clear()

    async def _settle(self) -> None:
        self.flush()
        await asyncio.sleep(SETTLE)

    def _on_timer(self) -> None:
        with self._pending_lock:
            self._timer = None
        self.flush()
