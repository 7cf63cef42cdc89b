"""The contract cache: a hit gives the loader's result, any change or damage loads again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from contracts import cache
from contracts.cache import CACHE_ENV, cached_contracts
from contracts.loader import OPERATIONS_DIR, ContractError, load_contracts

CHAT = OPERATIONS_DIR / "openai-chat"


@pytest.fixture()
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(where))
    return where


@pytest.fixture()
def contract_dir(tmp_path: Path) -> Path:
    where = tmp_path / "contracts"
    shutil.copytree(CHAT, where)
    return where


def entries(where: Path) -> list[Path]:
    return sorted(where.glob("contracts-*.pickle"))


def test_a_hit_is_the_loaders_result(cache_dir: Path) -> None:
    first = cached_contracts()
    assert len(entries(cache_dir)) == 1
    again = cached_contracts()
    assert again is not first  # read back from the file, not the same object
    assert again == first == load_contracts()


def test_a_changed_file_loads_again(cache_dir: Path, contract_dir: Path) -> None:
    before = cached_contracts([contract_dir])
    path = next(contract_dir.rglob("*.yaml"))
    op = before.get(path.stem)
    path.write_text(
        path.read_text(encoding="utf-8").replace(op.summary, "Changed summary", 1),
        encoding="utf-8",
    )
    after = cached_contracts([contract_dir])
    assert after.get(path.stem).summary == "Changed summary"
    assert len(entries(cache_dir)) == 2


def test_an_added_file_loads_again(cache_dir: Path, contract_dir: Path) -> None:
    before = cached_contracts([contract_dir])
    (contract_dir / "extra").mkdir()
    src = OPERATIONS_DIR / "models" / "openai.models.list.yaml"
    shutil.copy(src, contract_dir / "extra" / src.name)
    after = cached_contracts([contract_dir])
    assert len(after) == len(before) + 1


def test_a_corrupt_entry_is_ignored_and_rewritten(cache_dir: Path) -> None:
    cached_contracts()
    (entry,) = entries(cache_dir)
    entry.write_bytes(b"\x80\x05not a pickle")
    assert cached_contracts() == load_contracts()
    assert entry.read_bytes().startswith(b"\x80")
    assert len(entry.read_bytes()) > 1000


def test_an_entry_of_the_wrong_type_is_ignored(cache_dir: Path) -> None:
    import pickle

    cached_contracts()
    (entry,) = entries(cache_dir)
    entry.write_bytes(pickle.dumps({"not": "a contract set"}))
    assert cached_contracts() == load_contracts()


def test_an_unwritable_directory_still_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    assert cached_contracts() == load_contracts()


def test_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    assert cache.cache_dir() is None
    assert len(cached_contracts()) == len(load_contracts())


def test_the_default_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "relaykit"


def test_a_bad_contract_is_never_cached(cache_dir: Path, contract_dir: Path) -> None:
    path = next(contract_dir.rglob("*.yaml"))
    path.write_text("id: [not, a, contract]\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ContractError):
            cached_contracts([contract_dir])
    assert entries(cache_dir) == []


def test_old_entries_are_pruned(cache_dir: Path, contract_dir: Path) -> None:
    path = next(contract_dir.rglob("*.yaml"))
    text = path.read_text(encoding="utf-8")
    for i in range(cache.KEEP + 2):
        path.write_text(text + f"\n# edit {i}\n", encoding="utf-8")
        cached_contracts([contract_dir])
    assert len(entries(cache_dir)) == cache.KEEP
