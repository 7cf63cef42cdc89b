"""The conformance score of a run: how much the relay offers, how much was checked, how much holds.

Per family and overall:

- **documented**: operations the contracts document in the run's scope (its families and
  ``--only``), from the record's ``run.documented``; at least those the record describes;
- **offered**: documented operations the record describes with ``offered == ""`` (an operation
  on a route or with a model the relay does not offer is not offered);
- **checked**: offered operations where at least one check ran (not all skipped);
- **conformant**: checked operations where a check passed and no finding fails the run by
  default (no error, no breaks-clients failure that is not a consequence:
  ``severity.counts_against``); an operation whose checks were all inconclusive is not;
- **strict**: conformant operations with no failure of either severity.

Conformance is counted out of the *offered* operations: an offered operation the run could not
check (budget, deadline) is not conformant, it is unknown, and the caveats say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from suites.findings import Finding, Outcome
from suites.severity import counts_against

if TYPE_CHECKING:
    from suites.record import OperationInfo

UNKNOWN_FAMILY = "unknown"


@dataclass(slots=True)
class Score:
    """Operation counts of one family, or of the whole run."""

    documented: int = 0
    offered: int = 0
    checked: int = 0
    conformant: int = 0
    strict: int = 0

    @property
    def percent(self) -> int | None:
        """Conformant out of offered, rounded down; None when nothing is offered."""
        return self.conformant * 100 // self.offered if self.offered else None

    def add(self, other: Score) -> None:
        """Add another score's counts to this one."""
        for name in ("documented", "offered", "checked", "conformant", "strict"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def line(self) -> str:
        """``offered 23 of 119 operations, checked 23, conformant 19 of 23 (82%)``."""
        share = f" ({self.percent}%)" if self.percent is not None else ""
        return (
            f"offered {self.offered} of {self.documented} operations, checked {self.checked}, "
            f"conformant {self.conformant} of {self.offered}{share}"
        )

    def caveats(self) -> list[str]:
        """Plain sentences when the run says less than the line seems to."""
        notes = []
        if self.checked == 0:
            notes.append("This run checked no operation: it says nothing about the relay.")
        elif self.checked * 2 < self.documented:
            notes.append(
                f"This run checked little: {self.checked} of {self.documented} documented "
                "operations; it says nothing about the rest."
            )
        if self.offered > self.checked:
            notes.append(
                f"{self.offered - self.checked} offered operation(s) were not checked "
                "(every check skipped: budget, deadline...); they are not counted conformant."
            )
        if self.conformant > self.strict:
            notes.append(
                f"{self.conformant - self.strict} of the conformant operations deviate "
                "(they count with --strict)."
            )
        return notes


@dataclass(slots=True)
class RunScore:
    """The overall score and one per operation family (sorted by family)."""

    overall: Score = field(default_factory=Score)
    families: dict[str, Score] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The record's ``score`` block."""
        return {
            **asdict(self.overall),
            "families": {name: asdict(s) for name, s in self.families.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunScore:
        """The inverse of to_json (absent counts are 0)."""
        names = ("documented", "offered", "checked", "conformant", "strict")

        def one(d: Mapping[str, Any]) -> Score:
            return Score(*(int(d.get(n, 0) or 0) for n in names))

        families = data.get("families") or {}
        return cls(one(data), {str(k): one(v) for k, v in families.items()})


def score(
    operations: Mapping[str, OperationInfo],
    findings: Iterable[Finding],
    documented: Mapping[str, int] | None = None,
) -> RunScore:
    """The score of a run from its operations, findings and documented counts per family."""
    by_op: dict[str, list[Finding]] = {}
    for f in findings:
        by_op.setdefault(f.operation_id, []).append(f)
    families: dict[str, Score] = {}
    for op_id, info in operations.items():
        s = families.setdefault(info.family or UNKNOWN_FAMILY, Score())
        s.documented += 1
        if info.offered:
            continue
        s.offered += 1
        found = by_op.get(op_id, [])
        if not any(f.outcome is not Outcome.SKIP for f in found):
            continue
        s.checked += 1
        if any(f.outcome is Outcome.PASS for f in found):  # only a pass shows conformance
            s.conformant += not any(counts_against(f, strict=False) for f in found)
            s.strict += not any(counts_against(f, strict=True) for f in found)
    for family, n in (documented or {}).items():
        s = families.setdefault(family, Score())
        s.documented = max(s.documented, n)
    result = RunScore(families=dict(sorted(families.items())))
    for s in result.families.values():
        result.overall.add(s)
    return result


def documented_counts(families: Iterable[str]) -> dict[str, int]:
    """``{family: operations}`` for the record's ``run.documented``, from the operations'
    families in the run's scope."""
    counts: dict[str, int] = {}
    for family in families:
        counts[family] = counts.get(family, 0) + 1
    return counts
