"""Where the request journal keeps its entries: in this process's memory, or in the state
store when other processes answer for the same mock (``relaykit serve --workers N``, a Redis
store), so that whichever process a client asks has every entry.

Both take *records* (what an exchange left: mockserver/journal.py) and a ``build`` function
that makes a record the entry a reader sees (secrets masked, the body summarised). The work is
done when someone reads, not when a request is answered (journaling a request under load costs
a deque append; one store write per request cost ~170 µs, seven times the rest of a cheap
request: bench/README.md). ``MemoryLog`` builds an entry when it is first read, so an entry
pushed out by newer ones before anyone asked was never built. ``StoreLog`` keeps each
process's last records in its memory too, and writes them to the store (built, in one batch:
one SQLite transaction, one Redis script) when a reader, in any process, asks for them.

Readers: ``entries`` gives the log as this process can see it now (its own records written
first); ``settled`` first asks the other processes for theirs and gives them ``SETTLE`` to
write them, so an HTTP reader finds every exchange that ended before it asked. Entries come in
the order the exchanges ended. Across processes, batches are written in the order they are
flushed, not the order their exchanges ended, so ``StoreLog`` keeps each entry's end time
beside it, keeps ``2 * keep`` entries in the store, and gives the last ``keep`` by end time: a
request answered by one worker just before another's is listed before it, and neither is
trimmed in its place. Thread-safe: an embedded mock's server thread adds records while a test
thread reads them.
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

POLL = 0.01
"""Seconds between two looks at the want counter, by a process holding unwritten records."""
SETTLE = 0.05
"""Seconds a reader of a shared log waits for the other processes to write: five polls, so a
process whose event loop is busy with other answers for a while still makes it."""
WANT = "journal.want"
"""The store kind of the counters readers bump (one per log name)."""

Build = Callable[[Any], dict[str, Any]]
"""Makes a record the entry readers see."""


class JournalLog(Protocol):
    """What the journal middleware needs of a log."""

    keep: int

    def add(self, record: Any) -> None:
        """Keep the record of one exchange."""

    def flush(self) -> None:
        """Write what this process keeps to where other processes read it (nothing to do
        for a log no other process reads)."""

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

    def flush(self) -> None:
        return None

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
    """The log ``name`` of a state store other processes write to too. Each process keeps its
    last ``keep`` records in memory and writes them (built) only when a reader asks: a reader
    bumps the log's *want* counter in the store, and every process holding unwritten records
    looks at the counter every ``POLL`` seconds and writes them in one batch when it moved."""

    def __init__(self, store: StateStore, name: str, keep: int, build: Build) -> None:
        self.store = store
        self.name = name
        self.keep = keep
        self.build = build
        self._unwritten: deque[tuple[float, Any]] = deque(maxlen=keep)
        """(end time, record): older ones than this process's last ``keep`` cannot be among
        the log's last ``keep``."""
        self._write_lock = threading.Lock()  # one batch written at a time, in the order taken
        self._polling: asyncio.AbstractEventLoop | None = None
        """The loop a poll of the want counter is due on."""
        self._wanted: Any = None
        """The want counter when this process last looked."""

    def add(self, record: Any) -> None:
        self._unwritten.append((time.time(), record))  # deque.append: atomic
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # no event loop here (a direct call): written at once
            loop = None
        if loop is None:
            self.flush()
        elif self._polling is not loop:  # none due on this loop (one on a stopped loop never runs)
            self._polling = loop
            loop.call_later(POLL, self._poll)

    def flush(self) -> None:
        """Write this process's unwritten records now, in one batch."""
        with self._write_lock:
            batch = []
            while self._unwritten:
                batch.append(self._unwritten.popleft())
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
        """Ask every process for its records and give them time to write them."""
        self.flush()
        self.store.update(WANT, self.name, lambda n: (n if isinstance(n, int) else 0) + 1)
        await asyncio.sleep(SETTLE)

    def _poll(self) -> None:
        wanted = self.store.get(WANT, self.name)
        if wanted != self._wanted:
            self._wanted = wanted
            self.flush()
        loop = self._polling
        if self._unwritten and loop is not None and not loop.is_closed():
            loop.call_later(POLL, self._poll)
        else:
            self._polling = None
