"""Catalogue coverage: per seed, the documented operations against the contracts.

The catalogue (``contracts/catalog/operations.yaml``, package data; its provenance is in
``contracts/catalog/README.md``) lists every operation the five seed documents describe and
which seeds list it. ``coverage`` counts, per seed and over all seeds, how many have a contract
and which are missing; given a ``serves`` check (the CLI
passes one built from the mock's routes and renderers) it also counts which the mock serves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from contracts.model import ContractSet, Operation

DEFAULT_CATALOGUE = Path(__file__).resolve().parent / "catalog" / "operations.yaml"
"""The catalogue shipped with the package (in a checkout and in an installed wheel alike)."""

ALL = "all"


@dataclass(frozen=True, slots=True)
class Row:
    """One seed (or ``all``): what it documents, and what of that is contracted and served."""

    seed: str
    file: str
    site: str
    documented: tuple[str, ...]
    missing: tuple[str, ...]
    unserved: tuple[str, ...] | None = None
    """Contracted but not served by the mock; None when no ``serves`` check was given."""

    @property
    def contracted(self) -> int:
        """How many documented operations have a contract."""
        return len(self.documented) - len(self.missing)

    @property
    def served(self) -> int | None:
        """How many documented operations the mock serves (None without a check)."""
        return None if self.unserved is None else self.contracted - len(self.unserved)

    @property
    def complete(self) -> bool:
        """True when nothing is missing (and, when checked, nothing is unserved)."""
        return not self.missing and not self.unserved


@dataclass(frozen=True, slots=True)
class Coverage:
    """The per-seed rows, the ``all`` row, and contracts the catalogue does not list."""

    rows: tuple[Row, ...]
    total: Row
    extra: tuple[str, ...] = field(default=())

    @property
    def complete(self) -> bool:
        """True when every catalogue operation has a contract (and is served, when checked)."""
        return self.total.complete


def read_catalogue(path: Path = DEFAULT_CATALOGUE) -> dict[str, Any]:
    """The parsed catalogue; FileNotFoundError names the path when it is not there."""
    if not path.is_file():
        raise FileNotFoundError(f"no catalogue at {path} (pass its path)")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("operations"), list):
        raise ValueError(f"{path}: expected a mapping with an 'operations' list")
    return data


def _row(
    seed: str,
    file: str,
    site: str,
    ids: list[str],
    ops: dict[str, Operation],
    serves: Callable[[Operation], bool] | None,
) -> Row:
    documented = tuple(dict.fromkeys(ids))
    missing = tuple(i for i in documented if i not in ops)
    unserved = (
        None if serves is None else tuple(i for i in documented if i in ops and not serves(ops[i]))
    )
    return Row(seed, file, site, documented, missing, unserved)


def coverage(
    contracts: ContractSet,
    catalogue: Path = DEFAULT_CATALOGUE,
    serves: Callable[[Operation], bool] | None = None,
) -> Coverage:
    """Per seed and overall: operations with a contract, those missing, and (if checked) served."""
    data = read_catalogue(catalogue)
    meta = data.get("meta") or {}
    seed_files: dict[str, str] = {str(k): str(v) for k, v in (meta.get("seeds") or {}).items()}
    sites: dict[str, str] = meta.get("seed_sites") or {}
    items = [i for i in data["operations"] if isinstance(i, dict) and "id" in i]
    ops = {op.id: op for op in contracts}
    rows = []
    for seed, file in sorted(seed_files.items()):
        ids = [str(i["id"]) for i in items if file in (i.get("seeds") or [])]
        rows.append(_row(seed, file, str(sites.get(file, "")), ids, ops, serves))
    every = [str(i["id"]) for i in items]
    total = _row(ALL, "", "", every, ops, serves)
    extra = tuple(sorted(set(ops) - set(every)))
    return Coverage(tuple(rows), total, extra)


def to_json(cov: Coverage) -> dict[str, Any]:
    """A JSON-able form: one entry per row with counts and the missing (and unserved) ids."""

    def row(r: Row) -> dict[str, Any]:
        out: dict[str, Any] = {
            "seed": r.seed,
            "file": r.file,
            "site": r.site,
            "documented": len(r.documented),
            "contracted": r.contracted,
            "missing": list(r.missing),
        }
        if r.unserved is not None:
            out["served"] = r.served
            out["unserved"] = list(r.unserved)
        return out

    return {
        "seeds": [row(r) for r in cov.rows],
        "total": row(cov.total),
        "extra": list(cov.extra),
        "complete": cov.complete,
    }


def format_table(cov: Coverage) -> str:
    """A plain-text table, one line per seed and a total, then what is missing, by seed."""
    checked = cov.total.unserved is not None
    head = ["seed", "file", "documented", "contract", *(["mock"] if checked else []), "missing"]
    lines = [head]
    for r in (*cov.rows, cov.total):
        cells = [r.seed, r.file or "-", str(len(r.documented)), str(r.contracted)]
        if checked:
            cells.append(str(r.served))
        cells.append(str(len(r.missing) + len(r.unserved or ())))
        lines.append(cells)
    widths = [max(len(line[k]) for line in lines) for k in range(len(head))]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    ]
    for r in cov.rows:
        for label, ids in (("no contract", r.missing), ("not served", r.unserved or ())):
            if ids:
                out.append(f"{r.seed} {label}: {', '.join(ids)}")
    if cov.extra:
        out.append(f"contracts not in the catalogue: {', '.join(cov.extra)}")
    t = cov.total
    served = f", {t.served} served by the mock" if checked else ""
    out.append(
        f"{t.contracted} of {len(t.documented)} catalogue operations have a contract{served}."
    )
    return "\n".join(out)
