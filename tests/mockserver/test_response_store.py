"""The stored-response store: a JSON document saved, loaded and deleted by id in the state
store, readable through another connection to it, and never raising on a bad directory."""

from __future__ import annotations

from pathlib import Path

from mockserver import response_store
from mockserver.state import open_store


def test_a_document_is_saved_loaded_replaced_and_deleted(tmp_path: Path) -> None:
    store, other = open_store(state_dir=str(tmp_path)), open_store(state_dir=str(tmp_path))
    assert response_store.load(store, "resp_1") is None
    assert response_store.save(store, "resp_1", {"response": {"id": "resp_1"}, "n": 1})
    assert response_store.load(other, "resp_1") == {"response": {"id": "resp_1"}, "n": 1}
    assert response_store.save(store, "resp_1", {"n": 2, "text": "18°C"})
    assert response_store.load(other, "resp_1") == {"n": 2, "text": "18°C"}
    assert response_store.delete(other, "resp_1") is True
    assert response_store.delete(store, "resp_1") is False
    assert response_store.load(store, "resp_1") is None
    assert response_store.load(None, "resp_1") is None  # a context without a store


def test_a_directory_that_cannot_hold_it_is_a_miss_not_a_crash(tmp_path: Path) -> None:
    missing = open_store(state_dir=str(tmp_path / "no" / "such" / "dir"))
    assert response_store.save(missing, "resp_1", {}) is False
    assert response_store.load(missing, "resp_1") is None
    assert response_store.delete(missing, "resp_1") is False
