"""The loaded contract set, cached on disk so that a start with unchanged YAML skips the loader.

Loading reads and meta-validates every contract file and checks every example against its
schema: ~0.15 s for the shipped 122 operations, seconds for an imported relay's thousands. A
server, a worker, or a CLI command starting again on the same files gets the same result, so the
first successful load is pickled under the cache directory, keyed by a hash of everything the
result depends on: the bytes of every contract file and of the shared files the loader reads
(schemas, envelopes, meta-schema, prefixes), the source of the ``contracts`` package (the
loader's version, and the classes pickled) and Python's version. Any change gives a new key;
an entry that cannot be read (corrupt, truncated, from another version) is ignored and written
again. The cache never makes a load fail: when the directory cannot be written, the contracts
are loaded as if there were no cache. Only successful loads are stored, so a malformed contract
fails with the loader's own errors every time.

The directory is ``$RELAYKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/relaykit``, else
``~/.cache/relaykit``; ``RELAYKIT_CACHE_DIR=off`` turns the cache off. Entries are pickles,
made with mode 0700 directories: point the variable only at a directory that you alone write.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

from contracts.model import ContractSet

CACHE_ENV = "RELAYKIT_CACHE_DIR"
FORMAT = b"relaykit-contracts-cache/1"
KEEP = 8
"""Entries kept per directory (one per distinct contract set); the oldest go first."""
PACKAGE = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    """Where entries live; None when the cache is turned off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        return None if configured.strip().lower() in ("", "off", "0", "no") else Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "relaykit"


def _inputs(dirs: list[Path] | None) -> list[Path]:
    """Every file the load's result depends on, in a stable order."""
    from_dirs = sorted(p for d in dirs for p in Path(d).rglob("*.yaml")) if dirs else []
    shipped = sorted(
        p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".yaml") and "catalog" not in p.parts
    )
    return [*from_dirs, *shipped]


def cache_key(dirs: list[Path] | None) -> str:
    """A hash of every input of the load (paths and bytes), relaykit's version and Python's."""
    h = hashlib.sha256(FORMAT)
    where = [str(Path(d).resolve()) for d in dirs] if dirs is not None else None
    h.update(repr((where, sys.version)).encode())
    for path in _inputs(dirs):
        data = path.read_bytes()
        h.update(f"\0{path}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:40]


def _read(entry: Path) -> ContractSet | None:
    try:
        with entry.open("rb") as fh:
            loaded = pickle.load(fh)
    except Exception:  # missing, truncated, corrupt or from another version: load again
        return None
    return loaded if isinstance(loaded, ContractSet) else None


def _write(directory: Path, entry: Path, contracts: ContractSet) -> None:
    with contextlib.suppress(OSError, pickle.PicklingError):
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(contracts, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, entry)  # atomic: a reader sees the old entry or the whole new one
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        entries = sorted(directory.glob("contracts-*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in entries[:-KEEP]:
            old.unlink(missing_ok=True)


def _load(dirs: list[Path] | None) -> ContractSet:
    from contracts.loader import load_contracts  # only on a miss: the loader imports a lot

    return load_contracts(dirs)


def cached_contracts(dirs: Iterable[Path] | None = None) -> ContractSet:
    """``load_contracts(dirs)`` (the shipped contracts when ``dirs`` is None), from the cache
    when every input is unchanged; raises the loader's ``ContractError`` as it does."""
    listed = [Path(d) for d in dirs] if dirs is not None else None
    directory = cache_dir()
    if directory is None:
        return _load(listed)
    try:
        entry = directory / f"contracts-{cache_key(listed)}.pickle"
    except OSError:  # an input vanished while hashing: the loader will say what is wrong
        return _load(listed)
    found = _read(entry)
    if found is not None:
        return found
    contracts = _load(listed)
    _write(directory, entry, contracts)
    return contracts
