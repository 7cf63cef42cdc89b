"""What a check concludes: one of five outcomes, with the evidence a person needs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """Every check ends as exactly one of these; only PASS counts as conforming."""

    PASS = "pass"
    """It ran and held."""
    FAIL = "fail"
    """It ran and did not hold."""
    ERROR = "error"
    """The harness or the transport broke."""
    SKIP = "skip"
    """Not run, with the reason (budget, unsupported, excluded, needs a paid call)."""
    INCONCLUSIVE = "inconclusive"
    """It ran but the evidence cannot decide."""


SEVERITY = (Outcome.ERROR, Outcome.FAIL, Outcome.INCONCLUSIVE, Outcome.PASS, Outcome.SKIP)
"""Worst first: the order in which outcomes of one check over several requests combine."""


@dataclass(slots=True)
class Finding:
    """One check's result for one operation, from one request (or none, for a skip).

    ``request`` is already redacted; ``response`` holds the status, a few headers and a bounded
    excerpt; ``events`` is a stream's timeline (arrival seconds, event name, data excerpt).
    """

    operation_id: str
    check_id: str
    outcome: Outcome
    message: str
    source: str = ""
    """Which request produced it: ``example:<name>``, ``property#<i>``, ``negative``..."""
    request: dict[str, Any] | None = None
    response: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    severity: str = ""
    """``breaks-clients`` or ``deviates`` when the judge knows better than the check's default
    (suites/severity.py); empty: the check's own."""
    consequence_of: str = ""
    """The check id of the root failure this one follows from, on the same request (a usage
    chunk carrying a choice fails sse.usage_chunk, and sse.finish_reason as its consequence)."""

    def to_json(self) -> dict[str, Any]:
        """A plain dict for the run record."""
        data = asdict(self)
        data["outcome"] = self.outcome.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        """The inverse of to_json."""
        return cls(**{**data, "outcome": Outcome(data["outcome"])})


def combine(outcomes: list[Outcome]) -> Outcome:
    """One outcome for several: the worst that ran wins; all skipped stays skip."""
    for outcome in SEVERITY:
        if outcome in outcomes:
            return outcome
    return Outcome.SKIP


def verdict(findings: list[Finding], check_id: str) -> Outcome:
    """The outcome of one check id over its findings: any error or fail wins, then pass."""
    return combine([f.outcome for f in findings if f.check_id == check_id])


def apply_rules(
    op_id: str, rules: Mapping[str, Callable[[], tuple[Outcome, str]]]
) -> list[Finding]:
    """One finding per rule (check id -> a rule giving its outcome and message), in order."""
    findings = []
    for check_id, rule in rules.items():
        outcome, message = rule()
        findings.append(Finding(op_id, check_id, outcome, message))
    return findings
