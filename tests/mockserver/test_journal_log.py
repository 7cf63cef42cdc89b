"""Where the journal keeps its entries (mockserver/journal_log.py): built only when read in
memory, written in batches to a shared store, listed by end time across processes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mockserver.journal_log import POLL, MemoryLog, StoreLog
from mockserver.state import StateStore
from mockserver.state.sqlite import SqliteStore


class Counting(SqliteStore):
    """A store that counts its log writes."""

    writes = 0

    def _append(self, name: str, entries: list[bytes], keep: int) -> int:
        self.writes += 1
        return super()._append(name, entries, keep)


def _build(built: list[Any]) -> Any:
    def build(record: Any) -> dict[str, Any]:
        built.append(record)
        return {"n": record}

    return build


def test_memory_builds_an_entry_only_when_it_is_read() -> None:
    built: list[Any] = []
    log = MemoryLog(3, _build(built))
    for n in range(10):
        log.add(n)
    assert built == []  # pushed out before anyone asked: never built
    assert [(e.seq, e.value["n"]) for e in log.entries()] == [(8, 7), (9, 8), (10, 9)]
    assert built == [7, 8, 9]
    log.entries()
    assert built == [7, 8, 9]  # built once
    log.clear()
    log.add(10)
    assert [e.seq for e in log.entries()] == [11]  # sequence numbers are never reused


def test_a_store_log_writes_only_when_a_reader_asks_in_one_batch(tmp_path: Path) -> None:
    store = Counting(str(tmp_path))
    log = StoreLog(store, "journal", 5, _build([]))

    async def burst() -> list[Any]:
        for n in range(40):
            log.add(n)
        await asyncio.sleep(5 * POLL)
        assert store.writes == 0  # nobody asked: nothing written
        return log.entries()

    entries = asyncio.run(burst())
    assert store.writes == 1 and [e.value["n"] for e in entries] == [35, 36, 37, 38, 39]
    log.add("no event loop here")  # written at once
    assert store.writes == 2


def test_a_reader_in_another_process_gets_what_this_one_answered(tmp_path: Path) -> None:
    """Two logs on one store stand for two worker processes."""
    store = Counting(str(tmp_path))
    worker, reader = (StoreLog(store, "journal", 10, _build([])) for _ in range(2))

    async def ask() -> list[Any]:
        for n in range(3):
            worker.add(n)
        await asyncio.sleep(3 * POLL)  # the worker looks at the want counter meanwhile
        assert store.writes == 0
        return await reader.settled()  # bumps the counter, waits SETTLE

    assert [e.value["n"] for e in asyncio.run(ask())] == [0, 1, 2]
    assert store.writes == 1


def test_a_shared_log_lists_entries_by_end_time_whichever_process_wrote_first(
    tmp_path: Path,
) -> None:
    store: StateStore = SqliteStore(str(tmp_path))
    first, second = (StoreLog(store, "journal", 4, _build([])) for _ in range(2))
    first.add("a")  # ended first, but its process flushes last
    for name in "bcde":
        second.add(name)
    second.flush()
    first.flush()
    assert [e.value["n"] for e in second.entries()] == ["b", "c", "d", "e"]
    assert [e.value["n"] for e in StoreLog(store, "journal", 5, _build([])).entries()] == list(
        "abcde"
    )
