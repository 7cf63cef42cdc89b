"""The run record: the canonical JSON of one run, which every report is rendered from.

Layout (``format`` 1)::

    {"format": 1, "tool": "relaykit 0.x",
     "run": {"name", "started", "finished", "seconds", "target", "base_url", "profile",
             "seed", "only": [...], "dry_run": false},
     "budget": {"requests", "tokens", "paid_media_calls"},
     "spent": {"requests", "tokens", "paid_calls"},
     "operations": {op_id: {"family", "method", "path", "summary",
                            "latency": [seconds, ...], "fields": [dotted paths seen],
                            "offered": "" or why not, "model", "model_note"}},
     "discovery": {"models": [...], "routes": {...}, "requests": n},
     "findings": [Finding.to_json(), ...],
     "summary": {"pass": n, "fail": n, "error": n, "skip": n, "inconclusive": n},
     "causes": [Cause.to_json(), ...],
     "score": {"documented", "offered", "checked", "conformant", "strict", "families": {...}}}

``summary`` counts one outcome per (operation, check): the worst of that check's findings.
``causes`` (suites/causes.py) and ``score`` (suites/score.py) are derived from the findings and
operations, like ``summary``: written for readers of the JSON, recomputed when a record is read.
``run.documented`` (``{family: n}``) is how many operations the contracts document in the run's
scope. Everything in a record is already redacted.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from suites.causes import Cause, group_causes
from suites.findings import Finding, Outcome, combine
from suites.score import RunScore, score
from suites.severity import counts_against

FORMAT = 1


@dataclass(slots=True)
class OperationInfo:
    """What the record keeps of an operation besides its findings."""

    family: str
    method: str
    path: str
    summary: str = ""
    latency: list[float] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    offered: str = ""
    """Empty when the relay offers the operation; else why not (``route not offered: ...``,
    ``model not offered: ...``): its checks are then skips, never failures."""
    model: str = ""
    """The model the run used for it ("" when it takes none)."""
    model_note: str = ""
    """How the model was chosen when it is not the documented one (``substituted for ...``)."""


@dataclass(slots=True)
class RunRecord:
    """One run: its settings, what it spent, and every finding."""

    run: dict[str, Any]
    budget: dict[str, int] = field(default_factory=dict)
    spent: dict[str, int] = field(default_factory=dict)
    operations: dict[str, OperationInfo] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    tool: str = ""
    discovery: dict[str, Any] = field(default_factory=dict)
    """What the run learned before spending: models listed, routes offered (suites/discovery)."""

    def verdicts(self) -> dict[tuple[str, str], Outcome]:
        """One outcome per (operation id, check id), in first-seen order."""
        grouped: dict[tuple[str, str], list[Outcome]] = {}
        for f in self.findings:
            grouped.setdefault((f.operation_id, f.check_id), []).append(f.outcome)
        return {key: combine(outcomes) for key, outcomes in grouped.items()}

    def summary(self) -> dict[str, int]:
        """How many (operation, check) pairs ended in each outcome."""
        counts = Counter(self.verdicts().values())
        return {o.value: counts.get(o, 0) for o in Outcome}

    def failed(
        self,
        fail_on: frozenset[Outcome] = frozenset({Outcome.FAIL, Outcome.ERROR}),
        strict: bool = False,
    ) -> bool:
        """True when any (operation, check) ended in an outcome of ``fail_on``; a failed one
        counts only through a failure of a breaks-clients check (either severity when
        ``strict``) that is not the consequence of another (suites/severity.py)."""
        grouped: dict[tuple[str, str], list[Finding]] = {}
        for f in self.findings:
            grouped.setdefault((f.operation_id, f.check_id), []).append(f)
        for found in grouped.values():
            verdict = combine([f.outcome for f in found])
            if verdict not in fail_on:
                continue
            if verdict is not Outcome.FAIL or any(counts_against(f, strict) for f in found):
                return True
        return False

    def models(self) -> list[str]:
        """The models the run used, each once."""
        return sorted({info.model for info in self.operations.values() if info.model})

    def causes(self) -> list[Cause]:
        """The failing findings grouped by cause, the ones that fail the run first."""
        return group_causes(self.findings, self.models())

    def score(self) -> RunScore:
        """Offered, checked and conformant operations, per family and overall."""
        documented = self.run.get("documented")
        counts = (
            {str(k): int(v) for k, v in documented.items() if isinstance(v, int)}
            if isinstance(documented, dict)
            else {}
        )
        return score(self.operations, self.findings, counts)

    def to_json(self) -> dict[str, Any]:
        """The record as the JSON file stores it."""
        return {
            "format": FORMAT,
            "tool": self.tool,
            "run": self.run,
            "budget": self.budget,
            "spent": self.spent,
            "operations": {
                op_id: {
                    "family": info.family,
                    "method": info.method,
                    "path": info.path,
                    "summary": info.summary,
                    "latency": [round(s, 4) for s in info.latency],
                    "fields": sorted(set(info.fields)),
                    "offered": info.offered,
                    "model": info.model,
                    "model_note": info.model_note,
                }
                for op_id, info in self.operations.items()
            },
            "discovery": self.discovery,
            "findings": [f.to_json() for f in self.findings],
            "summary": self.summary(),
            "causes": [c.to_json() for c in self.causes()],
            "score": self.score().to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunRecord:
        """A record read back; ValueError when it is not a relaykit run record."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"not a relaykit run record (format {FORMAT})")
        return cls(
            run=data["run"],
            budget=data.get("budget", {}),
            spent=data.get("spent", {}),
            operations={k: OperationInfo(**v) for k, v in data.get("operations", {}).items()},
            findings=[Finding.from_json(f) for f in data.get("findings", [])],
            tool=data.get("tool", ""),
            discovery=data.get("discovery", {}),
        )

    def write(self, path: Path) -> Path:
        """Write the JSON atomically; returns the path."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False), "utf-8")
        os.replace(tmp, path)
        return path


def load_record(path: Path) -> RunRecord:
    """Read a run record file; ValueError names the file when it cannot be used."""
    try:
        return RunRecord.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
